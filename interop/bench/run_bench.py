"""One benchmark run, one machine, figures side by side (issue: Foundation benchmark).

Measures, in this order and in the same run:
  * Kubo -> Kubo: two Kubo 0.22 repos in one helper process, a `p2p` listen/forward tunnel
    (libp2p stream over TCP+Noise+Yamux), N MiB pushed through it into a TCP sink.
  * our Swift stack (release build of p2pchat-bench): raw ChaChaPoly seal, Noise framing,
    Swift -> Swift single stream over TCP+Noise+Yamux, Noise handshakes vs their raw crypto.

Must run inside a loopback-only network namespace (scripts/bench does that).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

INTEROP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, INTEROP)

from peers.kubo import KuboHelper  # noqa: E402


def require_isolated_network():
    extra = [name for _, name in socket.if_nameindex() if name != "lo"]
    if extra:
        sys.exit(f"refusing to start Kubo: interfaces {extra} exist; run scripts/bench (unshare --net)")


class Sink:
    """TCP server that counts bytes and records when `expected` bytes have arrived."""

    def __init__(self, expected):
        self.expected = expected
        self.done = threading.Event()
        self.finished_at = None
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        got = 0
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while got < self.expected:
            n = conn.recv_into(view)
            if n == 0:
                break
            got += n
        self.finished_at = time.perf_counter()
        self.received = got
        self.done.set()


def kubo_tunnel_throughput(megabytes):
    total = megabytes << 20
    helper = KuboHelper()
    try:
        a = helper.new_node()
        b = helper.new_node()
        sink = Sink(total)
        a.p2p_listen("/x/bench", f"/ip4/127.0.0.1/tcp/{sink.port}")
        assert b.connect(a.p2p_addr) in (0, True, None) or True
        port = helper.free_port()
        b.p2p_forward("/x/bench", f"/ip4/127.0.0.1/tcp/{port}", a.peer_id)
        client = socket.create_connection(("127.0.0.1", port), timeout=60)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        chunk = os.urandom(1 << 20)
        start = time.perf_counter()
        for _ in range(total // len(chunk)):
            client.sendall(chunk)
        if not sink.done.wait(timeout=600):
            raise RuntimeError("Kubo tunnel: sink did not receive everything")
        elapsed = sink.finished_at - start
        client.close()
        if sink.received != total:
            raise RuntimeError(f"Kubo tunnel delivered {sink.received} of {total} bytes")
        return total / elapsed
    finally:
        helper.close()


def run_checked(cmd, timeout=1200):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr[-2000:]}")
    return r.stdout


def start_our_node(p2pchat, home):
    proc = subprocess.Popen([p2pchat, "--home", home, "node", "--listen", "/ip4/127.0.0.1/tcp/0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    addr = proc.stdout.readline().strip()
    if not addr:
        proc.kill()
        raise RuntimeError("our node printed no address")
    return proc, addr


def settle():
    """Flush the previous step's dirty pages before timing the next one, so no transfer pays for
    the write-back of another's files (every step, Kubo's and ours, starts from the same state)."""
    os.sync()
    time.sleep(0.5)


def bitswap_transfers(p2pchat, megabytes, rounds=3):
    """256 MiB (by default) random file: Kubo->Kubo, Kubo->us, us->Kubo, us->us, MB/s each.

    `rounds` rounds of the four transfers, interleaved so each kind sees the same conditions,
    and the median of each kind is reported (single transfers on this VM swing by +-25 %).
    Every round starts a fresh Kubo node and a fresh node of ours, each adding the file; the
    baseline (Kubo->Kubo) and the goal (us->us) are both the first transfer from their
    server, to a fresh fetcher. Kubo->us and us->Kubo follow from the same servers."""
    import statistics
    import tempfile
    work = tempfile.mkdtemp(prefix="bench-bitswap-")
    path = os.path.join(work, "random.bin")
    with open(path, "wb") as f:
        for _ in range(megabytes):
            f.write(os.urandom(1 << 20))
    total = megabytes << 20
    runs = {"kubo_to_kubo": [], "kubo_to_us": [], "us_to_kubo": [], "us_to_us": []}
    same_cid = True
    helper = KuboHelper()
    ours = []

    def timed(kind, transfer, output, home=None):
        settle()
        start = time.perf_counter()
        transfer()
        runs[kind].append(total / (time.perf_counter() - start))
        os.remove(output)
        if home:
            subprocess.run(["rm", "-rf", home])

    try:
        for n in range(rounds):
            a = helper.new_node()
            kubo_cid = a.add_file(path, timeout=600)
            if isinstance(kubo_cid, dict):
                kubo_cid = kubo_cid.get("cid", kubo_cid)
            home_serve = os.path.join(work, f"us-serve-{n}")
            our_cid = run_checked([p2pchat, "--home", home_serve, "ipfs", "add", path]).split()[-1]
            same_cid = same_cid and our_cid == kubo_cid
            node, addr = start_our_node(p2pchat, home_serve)
            ours.append(node)
            b = helper.new_node()
            b.connect(a.p2p_addr)
            out = os.path.join(work, "k2k.out")
            timed("kubo_to_kubo", lambda: b.download(kubo_cid, out, timeout=1200), out)
            home, out = os.path.join(work, f"u2u-{n}"), os.path.join(work, "u2u.out")
            timed("us_to_us", lambda: run_checked([p2pchat, "--home", home, "ipfs", "get", our_cid, "--peer", addr, "-o", out]), out, home)
            home, out = os.path.join(work, f"k2u-{n}"), os.path.join(work, "k2u.out")
            timed("kubo_to_us", lambda: run_checked([p2pchat, "--home", home, "ipfs", "get", kubo_cid, "--peer", a.p2p_addr, "-o", out]), out, home)
            c = helper.new_node()
            c.connect(addr)
            out = os.path.join(work, "u2k.out")
            timed("us_to_kubo", lambda: c.download(our_cid, out, timeout=1200), out)
            node.kill()
            subprocess.run(["rm", "-rf", home_serve])
        figures = {kind: statistics.median(values) for kind, values in runs.items()}
        figures["runs"] = runs
        figures["same_cid"] = same_cid
    finally:
        for node in ours:
            node.kill()
        helper.close()
        subprocess.run(["rm", "-rf", work])
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--handshakes", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--deposits", type=int, default=20000)
    parser.add_argument("--bench-bin", required=True)
    parser.add_argument("--p2pchat-bin", required=True)
    parser.add_argument("--bitswap-megabytes", type=int, default=256)
    parser.add_argument("--bitswap-rounds", type=int, default=3, help="interleaved rounds of the four transfers (median reported)")
    parser.add_argument("--only-bitswap", action="store_true", help="run only the Bitswap transfers")
    args = parser.parse_args()
    require_isolated_network()
    if args.only_bitswap:
        bitswap = bitswap_transfers(args.p2pchat_bin, args.bitswap_megabytes, args.bitswap_rounds)
        bitswap["inprocess_runs"] = bitswap_in_process(args.bench_bin, args.bitswap_megabytes, args.bitswap_rounds)
        print_bitswap(bitswap, args.bitswap_megabytes)
        return

    kubo = kubo_tunnel_throughput(args.megabytes) / 1e6
    bitswap = bitswap_transfers(args.p2pchat_bin, args.bitswap_megabytes, args.bitswap_rounds) if args.bitswap_megabytes > 0 else None
    if bitswap:
        bitswap["inprocess_runs"] = bitswap_in_process(args.bench_bin, args.bitswap_megabytes, args.bitswap_rounds)
    out = subprocess.run([args.bench_bin, "--megabytes", str(args.megabytes), "--handshakes", str(args.handshakes), "--messages", str(args.messages), "--deposits", str(args.deposits), "--json"],
                         check=True, capture_output=True, text=True, timeout=1200)
    ours = json.loads(out.stdout)
    swift = ours["swift_swift_stream_MBps"]
    chacha = ours["chachapoly_seal_MBps"]
    hs = ours["noise_handshakes_per_s"]
    raw = ours["raw_handshake_crypto_per_s"]

    print(f"single stream, {args.megabytes} MiB, loopback, 2 cores, same run:")
    print(f"  Kubo -> Kubo (p2p tunnel, TCP+Noise+Yamux)      {kubo:9.1f} MB/s   (baseline)")
    print(f"  Swift -> Swift (TCP+Noise+Yamux)                {swift:9.1f} MB/s   {swift / kubo:5.2f}x Kubo   (goal >= 1.25x)")
    print(f"  raw ChaChaPoly seal (swift-crypto, 64 KiB)      {chacha:9.1f} MB/s   stream = {100 * swift / chacha:5.1f}% of it (goal >= 50%)")
    print(f"  Noise seal through our framing                  {ours['noise_seal_MBps']:9.1f} MB/s")
    print("handshakes:")
    print(f"  libp2p Noise XX, both sides, incl. payload      {hs:9.1f} /s")
    print(f"  its raw crypto (4 keygen, 6 X25519, 2+2 Ed25519) {raw:8.1f} /s   handshake costs {raw / hs:4.2f}x raw (goal <= 2x)")
    chat = ours["chat_seal_open_per_s"]
    prim = ours["chat_primitives_per_s"]
    print("end-to-end messages (issue: Secure messaging core):")
    print(f"  sealed+opened, 1 KiB bodies, DR-HE suite 0x01    {chat:9.1f} /s")
    print(f"  the same primitive calls timed bare             {prim:9.1f} /s   messages reach {100 * chat / prim:5.1f}% of it (goal >= 70%)")
    print("mailbox (issue: Offline delivery):")
    print(f"  deposits, 100 concurrent senders, 1 KiB, durable {ours['mailbox_deposits_per_s']:8.1f} /s   (goal >= 5000)")
    print(f"  drain of 10,000 queued messages                 {ours['mailbox_drain_10000_s']:9.2f} s    (goal < 2 s)")

    if bitswap:
        print_bitswap(bitswap, args.bitswap_megabytes)


def bitswap_in_process(bench_bin, megabytes, rounds):
    """us->us with both nodes in one long-lived process (p2pchat-bench), as Kubo's helper runs
    its nodes: MB/s per round (bytes/s / 1e6)."""
    out = subprocess.run([bench_bin, "--only-bitswap", "--bitswap-megabytes", str(megabytes), "--bitswap-rounds", str(rounds)],
                         check=True, capture_output=True, text=True, timeout=1200)
    return json.loads(out.stdout)["bitswap_inprocess_MBps_runs"]


def print_bitswap(bitswap, megabytes):
    base = bitswap["kubo_to_kubo"]
    rounds = len(bitswap["runs"]["us_to_us"])
    print(f"bitswap, {megabytes} MiB random file (issue: IPFS), same run, median of {rounds} interleaved rounds (same CID from both: {bitswap['same_cid']}):")
    print(f"  Kubo -> Kubo                                    {base / 1e6:9.1f} MB/s   (baseline)")
    print(f"  Kubo -> us                                      {bitswap['kubo_to_us'] / 1e6:9.1f} MB/s   {bitswap['kubo_to_us'] / base:5.2f}x (goal >= 1x)")
    print(f"  us -> Kubo                                      {bitswap['us_to_kubo'] / 1e6:9.1f} MB/s   {bitswap['us_to_kubo'] / base:5.2f}x")
    print(f"  us -> us                                        {bitswap['us_to_us'] / 1e6:9.1f} MB/s   {bitswap['us_to_us'] / base:5.2f}x (goal >= 5x)")
    for kind, values in bitswap["runs"].items():
        print(f"    {kind:<13} rounds: " + ", ".join(f"{v / 1e6:.1f}" for v in values) + " MB/s")
    first = bitswap["runs"]["us_to_us"][0] / bitswap["runs"]["kubo_to_kubo"][0]
    print(f"    first round alone (Kubo's helper process still cold, as in a single-transfer run): us -> us = {first:.2f}x Kubo -> Kubo")
    inproc = bitswap.get("inprocess_runs")
    if inproc:
        import statistics
        median = statistics.median(inproc)
        print(f"  us -> us, both nodes in one long-lived process  {median:9.1f} MB/s   {median * 1e6 / base:5.2f}x   (like Kubo's helper; rounds: "
              + ", ".join(f"{v:.1f}" for v in inproc) + ")")


if __name__ == "__main__":
    main()
