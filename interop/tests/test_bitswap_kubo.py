"""Bitswap 1.2.0 / UnixFS interop: our node against Kubo 0.22 and py-libp2p's BitswapClient.

CLI contract (IPFSNode facade): `p2pchat ipfs add FILE [--cid-version 0|1] [--raw-leaves]`
prints the CID; `p2pchat ipfs get CID --peer MULTIADDR -o FILE`; `p2pchat node` serves the
block store over Bitswap. Set P2PCHAT_IPFS_SERVE="ipfs serve" to serve with `p2pchat ipfs
serve` instead of `p2pchat node`. Every test fails (never skips) with a clear message when the
binary lacks these commands.
"""
import hashlib
import os
import random
import shlex
import subprocess
import threading

import pytest

from conftest import P2PChat, p2pchat_bin, p2pchat_missing_reason, tail

BIG = 64 * 1024 * 1024
SMALL = 3 * 1024 * 1024 + 4321


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_random(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(rng.randbytes(n))
            left -= n
    return sha_file(path)


def require_ipfs_cli(client):
    r = client.run("--help", timeout=30)
    listed = any(line.split()[:1] == ["ipfs"] for line in r.stdout.decode(errors="replace").splitlines())
    if not listed:
        pytest.fail("p2pchat has no `ipfs` command (IPFSCommand is not registered in P2PChat.swift):\n"
                    + client.describe(r), pytrace=False)


def ipfs_add(client, path, *flags):
    require_ipfs_cli(client)
    r = client.run("ipfs", "add", path, *flags, timeout=300)
    assert r.returncode == 0, "p2pchat ipfs add failed\n" + client.describe(r)
    lines = r.stdout.decode().split()
    assert lines, "p2pchat ipfs add printed no CID\n" + client.describe(r)
    return lines[-1]


class IPFSServer:
    """Our node serving its block store over Bitswap (`p2pchat node`, or P2PCHAT_IPFS_SERVE)."""

    def __init__(self, home):
        self.home = home
        self.client = P2PChat(home)
        self.proc = None
        self.lines = []
        self.log_path = os.path.join(home, "ipfs-node.log")

    def start(self):
        reason = p2pchat_missing_reason()
        if reason:
            pytest.fail(reason, pytrace=False)
        serve = shlex.split(os.environ.get("P2PCHAT_IPFS_SERVE", "node"))
        cmd = [p2pchat_bin(), "--home", self.home, *serve, "--listen", "/ip4/127.0.0.1/tcp/0"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
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
        if not got.wait(30) or not any("/p2p/" in l for l in self.lines):
            pytest.fail(f"{' '.join(cmd)} printed no address (exit={self.proc.poll()}); log: "
                        f"{tail(self.log_path)}", pytrace=False)
        return self

    @property
    def addr(self):
        return next(l for l in self.lines if l.startswith("/ip4/127.0.0.1/tcp/") and "/p2p/" in l)

    def require_bitswap(self):
        """Fails clearly unless Identify lists /ipfs/bitswap/1.2.0."""
        import json
        r = P2PChat(self.home + "-probe").run("identify", self.addr, "--json", timeout=60)
        assert r.returncode == 0, "identify of our node failed\n" + self.client.describe(r)
        protocols = json.loads(r.stdout).get("protocols", [])
        if "/ipfs/bitswap/1.2.0" not in protocols:
            pytest.fail("our node does not serve Bitswap (Identify lists "
                        f"{protocols}); `p2pchat node` must register IPFSNode's handlers",
                        pytrace=False)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            import signal
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bitswap-data") / "big.bin")
    return path, write_random(path, BIG, 0xB175)


@pytest.fixture(scope="module")
def ipfs_server(tmp_path_factory):
    server = IPFSServer(str(tmp_path_factory.mktemp("ipfs-node-home")))
    yield server
    server.stop()


@pytest.mark.p2pchat
def test_same_file_gives_kubos_cid(kubo, tmp_path):
    """UnixFS import matches Kubo 0.22 `ipfs add` (CIDv0, 256 KiB chunks, balanced, 174 links)."""
    client = P2PChat(str(tmp_path / "home"))
    for size, seed in [(11, 1), (262144, 2), (262145, 3), (174 * 262144 + 1, 4)]:
        path = str(tmp_path / f"f{size}.bin")
        write_random(path, size, seed)
        ours = ipfs_add(client, path)
        theirs = kubo.add_file(path)
        assert ours == theirs, f"size {size}: we made {ours}, Kubo made {theirs}"


@pytest.mark.p2pchat
@pytest.mark.timeout(900)
def test_kubo_downloads_64mib_file_our_node_added(kubo, ipfs_server, big_file, tmp_path):
    path, digest = big_file
    cid = ipfs_add(ipfs_server.client, path)
    assert cid.startswith("Qm"), cid
    ipfs_server.start()
    ipfs_server.require_bitswap()
    rc = kubo.connect(ipfs_server.addr)
    assert rc == 0, f"Kubo ConnectToPeer({ipfs_server.addr}) returned {rc}"
    dest = str(tmp_path / "kubo-got.bin")
    rc = kubo.download(cid, dest, timeout=600)
    assert rc == 0, f"Kubo Download({cid}) returned {rc}; our node log: {tail(ipfs_server.log_path)}"
    assert os.path.getsize(dest) == BIG
    assert sha_file(dest) == digest, "Kubo downloaded different bytes"


@pytest.mark.p2pchat
@pytest.mark.timeout(600)
def test_a_get_killed_midway_leaves_a_sound_store_and_the_next_get_resumes(ipfs_server, big_file, tmp_path):
    """kill -9 of `ipfs get` part-way through 64 MiB: what it stored still verifies (no torn
    block), it pinned nothing and wrote no output file; the next get fetches only what is
    missing and writes the file byte-exact."""
    import re
    import signal
    import time
    path, digest = big_file
    cid = ipfs_add(ipfs_server.client, path)
    if ipfs_server.proc is None:
        ipfs_server.start()
    home = tmp_path / "fetcher"
    client = P2PChat(str(home))
    require_ipfs_cli(client)
    out = str(tmp_path / "got.bin")
    proc = subprocess.Popen([p2pchat_bin(), "--home", str(home), "ipfs", "get", cid, "--peer", ipfs_server.addr, "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    segments = home / "blocks" / "segments"
    stored_when_killed = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        stored = sum(f.stat().st_size for f in segments.glob("*.seg")) if segments.exists() else 0
        if stored >= BIG // 4:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
            stored_when_killed = stored
            break
        time.sleep(0.002)
    assert stored_when_killed is not None, f"the get ended (exit {proc.poll()}) before a quarter was stored"
    assert not os.path.exists(out), "a killed get left a file under the output name"
    r = client.run("ipfs", "pin", "ls", timeout=60)
    assert r.returncode == 0 and r.stdout.decode().strip() == "", "a killed get left a pin\n" + client.describe(r)
    r = client.run("ipfs", "verify", timeout=120)
    assert r.returncode == 0, "the killed get left corrupt blocks\n" + client.describe(r)
    intact = int(re.search(r"(\d+) blocks intact, 0 corrupt", r.stdout.decode()).group(1))
    assert intact >= 32, f"only {intact} blocks kept of the {stored_when_killed} bytes written"
    r = client.run("ipfs", "get", cid, "--peer", ipfs_server.addr, "-o", out, timeout=300)
    assert r.returncode == 0, "the get after the kill failed\n" + client.describe(r)
    assert sha_file(out) == digest, "the resumed get wrote different bytes"
    fetched = int(re.search(r" (\d+) bytes fetched", r.stdout.decode()).group(1))
    assert fetched <= BIG - BIG // 8, f"the resumed get fetched {fetched} bytes: it did not use what was stored"
    present = int(re.search(r"\((\d+) blocks were already stored\)", r.stdout.decode()).group(1))
    assert present >= intact - 1, (present, intact)
    r = client.run("ipfs", "pin", "ls", timeout=60)
    assert r.stdout.decode().split() == [cid], client.describe(r)


@pytest.mark.p2pchat
@pytest.mark.timeout(900)
def test_we_fetch_64mib_file_kubo_added(kubo2, big_file, tmp_path):
    path, digest = big_file
    cid = kubo2.add_file(path, timeout=300)
    assert cid.startswith("Qm"), cid
    client = P2PChat(str(tmp_path / "fetcher"))
    require_ipfs_cli(client)
    # Same bytes, same CID on our side (computed in a separate home, nothing shared).
    assert ipfs_add(P2PChat(str(tmp_path / "adder")), path) == cid
    out = str(tmp_path / "got.bin")
    r = client.run("ipfs", "get", cid, "--peer", kubo2.p2p_addr, "-o", out, timeout=600)
    assert r.returncode == 0, "p2pchat ipfs get from Kubo failed\n" + client.describe(r)
    assert os.path.getsize(out) == BIG
    assert sha_file(out) == digest, "fetched bytes differ from what Kubo added"
    # The progress line (stderr is not a terminal here: whole lines) ends at 100 % of the size.
    progress = [line for line in r.stderr.decode().splitlines() if line.startswith(f"fetching {cid}: ")]
    assert progress, "no progress line on stderr\n" + client.describe(r)
    assert "100% 64.0 MiB of 64.0 MiB" in progress[-1], progress[-1]


@pytest.mark.p2pchat
def test_verify_finds_and_removes_a_rotted_block(tmp_path):
    """`ipfs verify` hashes every stored block: a block damaged on disk (a byte flipped in its
    segment file behind the node's back) is reported and removed, and adding the file again
    mends it."""
    import sqlite3
    client = P2PChat(str(tmp_path / "home"))
    require_ipfs_cli(client)
    path = str(tmp_path / "f.bin")
    write_random(path, SMALL, 0x5EED)
    cid = ipfs_add(client, path)
    r = client.run("ipfs", "verify", timeout=120)
    assert r.returncode == 0 and "14 blocks intact, 0 corrupt blocks removed" in r.stdout.decode(), client.describe(r)
    blocks = tmp_path / "home" / "blocks"
    db = sqlite3.connect(str(blocks / "blocks.sqlite"))
    segment, offset = db.execute("SELECT segment, offset FROM block ORDER BY size DESC LIMIT 1").fetchone()
    db.close()
    assert segment is not None, "a 256 KiB chunk should live in a segment file"
    with open(blocks / "segments" / f"{segment}.seg", "r+b") as f:
        f.seek(offset + 1000)
        byte = f.read(1)[0]
        f.seek(offset + 1000)
        f.write(bytes([byte ^ 0x01]))
    r = client.run("ipfs", "verify", timeout=120)
    assert r.returncode == 1, "a rotted block went unnoticed\n" + client.describe(r)
    assert "13 blocks intact, 1 corrupt blocks removed" in r.stdout.decode(), client.describe(r)
    assert "removed corrupt block bafkrei" in r.stdout.decode(), client.describe(r)
    assert ipfs_add(client, path) == cid
    r = client.run("ipfs", "verify", timeout=120)
    assert r.returncode == 0 and "14 blocks intact" in r.stdout.decode(), client.describe(r)


@pytest.mark.p2pchat
def test_we_fetch_cidv1_raw_leaves_from_kubo_after_it_fetched_from_us(kubo, ipfs_server, tmp_path):
    """A CIDv1/raw-leaves DAG we added: Kubo fetches it from us; a fresh home of ours then
    fetches it back from Kubo; bytes identical both ways."""
    path = str(tmp_path / "v1.bin")
    digest = write_random(path, SMALL, 0xC1D1)
    cid = ipfs_add(ipfs_server.client, path, "--cid-version", "1")
    assert cid.startswith("bafy"), cid
    if ipfs_server.proc is None:
        ipfs_server.start()
    ipfs_server.require_bitswap()
    assert kubo.connect(ipfs_server.addr) == 0
    via_kubo = str(tmp_path / "kubo.bin")
    assert kubo.download(cid, via_kubo, timeout=300) == 0
    assert sha_file(via_kubo) == digest
    client = P2PChat(str(tmp_path / "fresh"))
    out = str(tmp_path / "back.bin")
    r = client.run("ipfs", "get", cid, "--peer", kubo.p2p_addr, "-o", out, timeout=300)
    assert r.returncode == 0, client.describe(r)
    assert sha_file(out) == digest


@pytest.mark.p2pchat
def test_missing_block_fails_cleanly(kubo, tmp_path):
    client = P2PChat(str(tmp_path / "home"))
    require_ipfs_cli(client)
    absent = "bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom"
    r = client.run("ipfs", "get", absent, "--peer", kubo.p2p_addr, "-o", str(tmp_path / "x"), timeout=120)
    assert r.returncode != 0, "fetching a CID nobody has succeeded\n" + client.describe(r)
    assert r.stderr.strip(), "no reason on stderr\n" + client.describe(r)
    assert not os.path.exists(tmp_path / "x")


@pytest.mark.p2pchat
def test_py_libp2p_bitswap_client_fetches_from_our_node(py_peer, ipfs_server, tmp_path):
    path = str(tmp_path / "py.bin")
    digest = write_random(path, SMALL, 0x9E)
    cid = ipfs_add(ipfs_server.client, path)
    if ipfs_server.proc is None:
        ipfs_server.start()
    ipfs_server.require_bitswap()
    result = py_peer.bitswap_fetch(ipfs_server.addr, cid, timeout=300)
    assert result["size"] == SMALL, result
    assert result["sha256"] == digest, "py-libp2p fetched different bytes"
