#!/usr/bin/env python3
"""py-libp2p 0.8.1 peer (trio): Noise (Ed25519 identity) + yamux only.

Serves echo handlers (default /p2pchat/echo/1.0.0 and /x/echo) plus py-libp2p's default
identify and ping. Controlled by JSON-lines RPC on stdin/stdout (see rpc.py):
first line out is {"event": "ready", "peer_id": ..., "addrs": [.../p2p/<id>]}.

Methods: connect(addr), ping(addr, count), identify(addr), echo(addr, protocol, nbytes, seed),
peers(), peerstore(peer_id), disconnect(peer_id), echo_log().
"""
import argparse
import hashlib
import json
import logging
import os
import random
import sys
import time

import multiaddr
import trio

from libp2p import new_host
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto import x25519
from libp2p.custom_types import TProtocol
from libp2p.identity.identify.identify import ID as IDENTIFY_ID
from libp2p.identity.identify.pb.identify_pb2 import Identify
from libp2p.network.stream.exceptions import StreamEOF
from libp2p.peer.id import ID as PeerID
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.utils.varint import read_length_prefixed_protobuf

PING_ID = TProtocol("/ipfs/ping/1.0.0")
CHUNK = 64 * 1024


def build_host():
    kp = create_new_key_pair()
    return new_host(
        key_pair=kp,
        sec_opt={NOISE_PROTOCOL_ID: NoiseTransport(kp, noise_privkey=x25519.create_new_key_pair().private_key)},
        muxer_opt={YAMUX_PROTOCOL_ID: Yamux},
    )


async def read_exactly(stream, n):
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = await stream.read(n - len(buf))
        except StreamEOF:
            break
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


class Peer:
    def __init__(self, host, nursery, out):
        self.host = host
        self.nursery = nursery
        self.out = out
        self.echo_log = []

    # --- serving -------------------------------------------------------------------
    async def echo_handler(self, stream):
        total = 0
        try:
            while True:
                try:
                    data = await stream.read(CHUNK)
                except StreamEOF:
                    break
                if not data:
                    break
                total += len(data)
                await stream.write(data)
            await stream.close_write()
        except Exception as e:  # noqa: BLE001
            logging.warning("echo handler error after %d bytes: %r", total, e)
            try:
                await stream.reset()
            except Exception:  # noqa: BLE001
                pass
        finally:
            self.echo_log.append({"peer": str(stream.muxed_conn.peer_id), "bytes": total})

    # --- RPC methods ---------------------------------------------------------------
    async def _connect(self, addr):
        info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
        await self.host.connect(info)
        return info.peer_id

    async def m_connect(self, addr):
        pid = await self._connect(addr)
        return str(pid)

    async def m_ping(self, addr, count=3):
        pid = await self._connect(addr)
        stream = await self.host.new_stream(pid, [PING_ID])
        rtts = []
        try:
            for _ in range(count):
                payload = os.urandom(32)
                t0 = time.perf_counter()
                await stream.write(payload)
                pong = await read_exactly(stream, 32)
                rtts.append((time.perf_counter() - t0) * 1000)
                if pong != payload:
                    raise RuntimeError(f"ping payload mismatch: {pong.hex()} != {payload.hex()}")
        finally:
            await stream.close()
        return rtts

    async def m_identify(self, addr, wait=10.0):
        """Dial, run identify ourselves (for agentVersion etc.) and report the peerstore view."""
        pid = await self._connect(addr)
        stream = await self.host.new_stream(pid, [IDENTIFY_ID])
        with trio.fail_after(10):
            data = await read_length_prefixed_protobuf(stream, use_varint_format=True)
        try:
            await stream.close()
        except Exception:  # noqa: BLE001
            pass
        msg = Identify()
        msg.ParseFromString(data)
        # the host's own background identify fills the peerstore; wait for it
        ps = await self._peerstore(pid, wait)
        observed = ""
        if msg.observed_addr:
            try:
                observed = str(multiaddr.Multiaddr(msg.observed_addr))
            except Exception:  # noqa: BLE001
                observed = msg.observed_addr.hex()
        return {
            "peer_id": str(pid),
            "agent_version": msg.agent_version,
            "protocol_version": msg.protocol_version,
            "protocols": list(msg.protocols),
            "listen_addrs": [str(multiaddr.Multiaddr(a)) for a in msg.listen_addrs],
            "observed_addr": observed,
            "has_signed_peer_record": msg.HasField("signedPeerRecord"),
            "peerstore": ps,
        }

    async def _peerstore(self, pid, wait=0.0):
        ps = self.host.get_peerstore()
        deadline = trio.current_time() + wait
        while True:
            try:
                protos = list(ps.get_protocols(pid))
            except Exception:  # noqa: BLE001
                protos = []
            if protos or trio.current_time() >= deadline:
                break
            await trio.sleep(0.1)
        try:
            addrs = [str(a) for a in ps.addrs(pid)]
        except Exception:  # noqa: BLE001
            addrs = []
        return {"protocols": protos, "addrs": addrs}

    async def m_peerstore(self, peer_id, wait=0.0):
        return await self._peerstore(PeerID.from_base58(peer_id), wait)

    async def m_peers(self):
        return [str(p) for p in self.host.get_network().connections.keys()]

    async def m_disconnect(self, peer_id):
        await self.host.disconnect(PeerID.from_base58(peer_id))
        return True

    async def m_echo_log(self):
        return self.echo_log

    async def m_echo(self, addr, protocol, nbytes, seed=None, half_close="after-write"):
        """Open `protocol` to addr, send nbytes random bytes while reading the echo back.

        half_close="after-read" delays our FIN until all nbytes came back: Kubo's p2p
        tunnels tear the whole stream down as soon as either direction sees EOF."""
        pid = await self._connect(addr)
        rng = random.Random(seed)
        data = rng.randbytes(nbytes)
        stream = await self.host.new_stream(pid, [TProtocol(protocol)])
        got = hashlib.sha256()
        received = 0
        all_back = trio.Event()
        t0 = time.perf_counter()

        async def writer():
            view = memoryview(data)
            for off in range(0, len(view), CHUNK):
                await stream.write(bytes(view[off:off + CHUNK]))
            if half_close == "after-read":
                await all_back.wait()
            await stream.close_write()

        async def reader():
            nonlocal received
            while True:
                try:
                    chunk = await stream.read(CHUNK)
                except StreamEOF:
                    break
                if not chunk:
                    break
                got.update(chunk)
                received += len(chunk)
                if received >= nbytes:
                    all_back.set()
            all_back.set()

        async with trio.open_nursery() as n:
            n.start_soon(writer)
            n.start_soon(reader)
        secs = time.perf_counter() - t0
        try:
            await stream.close()
        except Exception:  # noqa: BLE001
            pass
        return {
            "sent": nbytes, "received": received, "seconds": secs,
            "sent_sha256": hashlib.sha256(data).hexdigest(), "received_sha256": got.hexdigest(),
        }


# --- Bitswap client (added for interop/tests/test_bitswap_*.py) ------------------------
async def _bitswap_client(peer):
    """One BitswapClient per peer process, started on the peer's nursery (it needs one)."""
    client = getattr(peer, "_bitswap", None)
    if client is None:
        from libp2p.bitswap import BitswapClient
        client = BitswapClient(peer.host)
        client.set_nursery(peer.nursery)
        await client.start()
        peer._bitswap = client
    return client


async def _m_bitswap_fetch(self, addr, cid, fetch_timeout=120.0):
    """Fetches the UnixFS file `cid` from the peer at `addr` over Bitswap; returns
    {"sha256": ..., "size": ...}."""
    from libp2p.bitswap.dag import MerkleDag
    client = await _bitswap_client(self)
    info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    await self.host.connect(info)
    data, _ = await MerkleDag(client).fetch_file(cid, peer_id=info.peer_id, timeout=fetch_timeout)
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


Peer.m_bitswap_fetch = _m_bitswap_fetch


async def serve_rpc(peer, out):
    stdin = trio.lowlevel.FdStream(os.dup(0))
    buf = b""

    async def handle(req):
        rid = req.get("id")
        try:
            fn = getattr(peer, "m_" + req["method"])
            with trio.fail_after(max(1.0, req.get("timeout", 120) - 3)):
                result = await fn(**req.get("params", {}))
            out({"id": rid, "result": result})
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, trio.Cancelled):
                raise
            logging.exception("rpc %s failed", req.get("method"))
            out({"id": rid, "error": f"{type(e).__name__}: {e}"})

    while True:
        data = await stdin.receive_some(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            req = json.loads(line)
            if req.get("method") == "shutdown":
                out({"id": req.get("id"), "result": True})
                return
            peer.nursery.start_soon(handle, req)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    ap.add_argument("--echo", action="append", default=None)
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args()
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    echo_protos = args.echo or ["/p2pchat/echo/1.0.0", "/x/echo"]

    rpc_out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def out(obj):
        rpc_out.write(json.dumps(obj) + "\n")
        rpc_out.flush()

    host = build_host()
    async with host.run(listen_addrs=[multiaddr.Multiaddr(args.listen)]):
        async with trio.open_nursery() as nursery:
            peer = Peer(host, nursery, out)
            for p in echo_protos:
                host.set_stream_handler(TProtocol(p), peer.echo_handler)
            pid = host.get_id().to_string()
            addrs = []
            for a in host.get_addrs():
                s = str(a)
                addrs.append(s if "/p2p/" in s else f"{s}/p2p/{pid}")
            out({"event": "ready", "peer_id": pid, "addrs": addrs, "pid": os.getpid()})
            await serve_rpc(peer, out)
            nursery.cancel_scope.cancel()
    os._exit(0)


if __name__ == "__main__":
    trio.run(main)
