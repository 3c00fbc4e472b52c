"""Self-test of the third-party peers (no p2pchat needed): Kubo <-> py-libp2p, Kubo <-> Kubo."""
import time

from conftest import XECHO, ECHO, sha
from peers.tcp import tcp_roundtrip


def wait_for(pred, timeout=10, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def test_kubo_identity(kubo):
    assert kubo.peer_id.startswith("Qm")  # RSA-2048 identity
    assert kubo.addrs == [kubo.tcp_addr]  # loopback TCP only


def test_py_dials_kubo_ping_identify(py_peer, kubo):
    rtts = py_peer.ping(kubo.p2p_addr, count=3)
    assert len(rtts) == 3 and all(r > 0 for r in rtts)
    ident = py_peer.identify(kubo.p2p_addr)
    assert ident["peer_id"] == kubo.peer_id
    assert ident["agent_version"].startswith("kubo/0.22")
    for p in ("/ipfs/bitswap/1.2.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/x/"):
        assert p in ident["protocols"]
    assert kubo.tcp_addr in ident["listen_addrs"]
    assert "/ipfs/ping/1.0.0" in ident["peerstore"]["protocols"]


def test_kubo_dials_py(py_peer, kubo2):
    assert kubo2.connect(py_peer.p2p_addr) == 0
    assert wait_for(lambda: py_peer.peer_id in kubo2.peer_ids())
    assert wait_for(lambda: kubo2.peer_id in py_peer.peers())


def test_kubo_wrong_peer_id_fails(kubo, kubo2, py_peer):
    # Kubo dialing py-libp2p's address but expecting kubo2's identity must fail.
    assert kubo.connect(f"{py_peer.tcp_addr}/p2p/{kubo2.peer_id}", timeout=60) != 0


def test_kubo_tunnel_kubo_to_kubo_16mib(kubo_xecho, kubo2, kubo_helper, blob):
    data, want = blob
    assert kubo2.connect(kubo_xecho.p2p_addr) == 0
    port = kubo_helper.free_port()
    assert kubo2.p2p_forward(XECHO, f"/ip4/127.0.0.1/tcp/{port}", kubo_xecho.peer_id) == 1
    got, n, secs, err = tcp_roundtrip(port, data)
    assert (n, got) == (len(data), want), err


def test_py_streams_16mib_to_kubo_tunnel(kubo_xecho, py_peer):
    # FIN only after everything came back: Kubo closes the tunnel on the first EOF.
    r = py_peer.echo(kubo_xecho.p2p_addr, XECHO, 16 << 20, seed=7, half_close="after-read")
    assert r["received"] == r["sent"] and r["received_sha256"] == r["sent_sha256"]


def test_kubo_tunnel_to_py_echo_16mib(kubo2, py_peer, kubo_helper, blob):
    data, want = blob
    assert kubo2.connect(py_peer.p2p_addr) == 0
    port = kubo_helper.free_port()
    assert kubo2.p2p_forward(XECHO, f"/ip4/127.0.0.1/tcp/{port}", py_peer.peer_id) == 1
    got, n, secs, err = tcp_roundtrip(port, data)
    assert (n, got) == (len(data), want), err


def test_py_to_py_echo(py_peer, tmp_path):
    from peers.py import PyPeer
    other = PyPeer(str(tmp_path))
    try:
        r = other.echo(py_peer.p2p_addr, ECHO, 4 << 20, seed=3)
        assert r["received"] == r["sent"] and r["received_sha256"] == r["sent_sha256"]
        assert len(other.ping(py_peer.p2p_addr, count=2)) == 2
    finally:
        other.close()
