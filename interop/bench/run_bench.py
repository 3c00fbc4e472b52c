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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=256)
    parser.add_argument("--handshakes", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--deposits", type=int, default=20000)
    parser.add_argument("--bench-bin", required=True)
    args = parser.parse_args()
    require_isolated_network()

    kubo = kubo_tunnel_throughput(args.megabytes) / 1e6
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


if __name__ == "__main__":
    main()

