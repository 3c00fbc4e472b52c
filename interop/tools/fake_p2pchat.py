#!/usr/bin/env python3
"""A stand-in for the p2pchat CLI built on py-libp2p, used only to validate the interop
tests themselves (P2PCHAT_BIN=interop/tools/fake_p2pchat). Not the product under test."""
import argparse
import hashlib
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))

import multiaddr  # noqa: E402
import trio  # noqa: E402
from libp2p.crypto.ed25519 import create_new_key_pair  # noqa: E402
from libp2p.custom_types import TProtocol  # noqa: E402
from libp2p.network.stream.exceptions import StreamEOF  # noqa: E402
from libp2p.peer.peerinfo import info_from_p2p_addr  # noqa: E402

import py_peer  # noqa: E402


def keypair(home):
    os.makedirs(home, exist_ok=True)
    path = os.path.join(home, "fake.seed")
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(os.urandom(32))
    return create_new_key_pair(open(path, "rb").read())


def host_for(home):
    kp = keypair(home)
    from libp2p import new_host
    from libp2p.crypto import x25519
    return new_host(key_pair=kp,
                    sec_opt={py_peer.NOISE_PROTOCOL_ID: py_peer.NoiseTransport(
                        kp, noise_privkey=x25519.create_new_key_pair().private_key)},
                    muxer_opt={py_peer.YAMUX_PROTOCOL_ID: py_peer.Yamux})


async def dial(h, addr):
    info = info_from_p2p_addr(multiaddr.Multiaddr(addr))
    try:
        with trio.fail_after(20):
            await h.connect(info)
    except BaseException as e:  # noqa: BLE001
        print(f"error: cannot connect to {addr} (peer id mismatch or unreachable): {e!r}",
              file=sys.stderr)
        sys.exit(1)
    conns = h.get_network().get_connections(info.peer_id) if hasattr(
        h.get_network(), "get_connections") else [1]
    if not conns:
        print("error: peer id mismatch", file=sys.stderr)
        sys.exit(1)
    return info.peer_id


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("id")
    n = sub.add_parser("node")
    n.add_argument("--listen", default="/ip4/127.0.0.1/tcp/0")
    n.add_argument("--echo", action="append", default=[])
    p = sub.add_parser("ping")
    p.add_argument("addr")
    p.add_argument("--count", type=int, default=4)
    i = sub.add_parser("identify")
    i.add_argument("addr")
    i.add_argument("--json", action="store_true")
    s = sub.add_parser("stream")
    s.add_argument("addr")
    s.add_argument("protocol")
    a = ap.parse_args()

    if a.cmd == "id":
        from libp2p.peer.id import ID
        print(ID.from_pubkey(keypair(a.home).public_key).to_string())
        return
    h = host_for(a.home)
    listen = [multiaddr.Multiaddr(a.listen)] if a.cmd == "node" else []
    async with h.run(listen_addrs=listen):
        async with trio.open_nursery() as nursery:
            peer = py_peer.Peer(h, nursery, lambda o: None)
            if a.cmd == "node":
                for proto in a.echo:
                    h.set_stream_handler(TProtocol(proto), peer.echo_handler)
                pid = h.get_id().to_string()
                for ad in h.get_addrs():
                    s_ = str(ad)
                    print(s_ if "/p2p/" in s_ else f"{s_}/p2p/{pid}", flush=True)
                with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as sigs:
                    async for _ in sigs:
                        break
            elif a.cmd == "ping":
                await dial(h, a.addr)
                for i_, rtt in enumerate(await peer.m_ping(a.addr, a.count)):
                    print(f"pong from peer: seq={i_} time={rtt:.3f} ms", flush=True)
            elif a.cmd == "identify":
                await dial(h, a.addr)
                r = await peer.m_identify(a.addr)
                print(json.dumps({"peerID": r["peer_id"], "agentVersion": r["agent_version"],
                                  "protocolVersion": r["protocol_version"],
                                  "protocols": r["protocols"], "listenAddrs": r["listen_addrs"],
                                  "observedAddr": r["observed_addr"]}))
            elif a.cmd == "stream":
                pid = await dial(h, a.addr)
                st = await h.new_stream(pid, [TProtocol(a.protocol)])
                stdin = trio.lowlevel.FdStream(os.dup(0))
                stdout = trio.lowlevel.FdStream(os.dup(1))

                async def up():
                    while True:
                        d = await stdin.receive_some(65536)
                        if not d:
                            break
                        await st.write(d)
                    await st.close_write()

                async def down():
                    while True:
                        try:
                            d = await st.read(65536)
                        except StreamEOF:
                            break
                        if not d:
                            break
                        await stdout.send_all(d)

                async with trio.open_nursery() as nn:
                    nn.start_soon(up)
                    nn.start_soon(down)
            nursery.cancel_scope.cancel()
    os._exit(0)


if __name__ == "__main__":
    trio.run(main)
