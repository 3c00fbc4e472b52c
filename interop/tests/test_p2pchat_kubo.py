"""p2pchat <-> Kubo 0.22 (go-libp2p 0.29.2), both directions."""
import pytest

from conftest import (XECHO, assert_peer_id_mismatch, assert_ping_ok, identify_json, wait_for)
from peers.tcp import tcp_roundtrip

pytestmark = pytest.mark.p2pchat


def test_we_ping_kubo(p2pchat, kubo):
    r = p2pchat.run("ping", kubo.p2p_addr, "--count", "3", timeout=60)
    assert_ping_ok(p2pchat, r, 3)


def test_we_identify_kubo(p2pchat, kubo):
    info = identify_json(p2pchat, kubo.p2p_addr)
    assert info["peerID"] == kubo.peer_id and info["peerID"].startswith("Qm")  # RSA key
    assert info["agentVersion"].startswith("kubo/"), info
    for p in ("/ipfs/bitswap/1.2.0", "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/id/push/1.0.0"):
        assert p in info["protocols"], info
    assert any(a.split("/p2p/")[0] == kubo.tcp_addr for a in info["listenAddrs"]), info
    assert info["observedAddr"].startswith("/ip4/127.0.0.1/tcp/"), info


@pytest.mark.parametrize("which", ["py-libp2p-id", "fresh-ed25519-id"])
def test_we_dial_kubo_with_wrong_peer_id(p2pchat, kubo, py_peer, fresh_peer_id, which):
    other = py_peer.peer_id if which == "py-libp2p-id" else fresh_peer_id
    r = p2pchat.run("ping", f"{kubo.tcp_addr}/p2p/{other}", "--count", "1", timeout=60)
    assert_peer_id_mismatch(p2pchat, r)


def test_kubo_dials_us(ours, kubo):
    rc = kubo.connect(ours.addr, timeout=60)
    assert rc == 0, f"ConnectToPeer -> {rc}; node log:\n{ours.log()}"
    assert wait_for(lambda: ours.peer_id in kubo.peer_ids()), kubo.peers()
    assert ours.alive()


def test_we_stream_16mib_to_kubo_tunnel(p2pchat, kubo_xecho, tcp_echo, blob):
    data, want = blob
    # stdin is held open until the echo is back: Kubo closes the tunnel on the first EOF.
    rc, got, n, err = p2pchat.stream(kubo_xecho.p2p_addr, XECHO, data, hold_fin_until_echoed=True)
    assert (rc, n) == (0, len(data)), f"rc={rc} got {n} bytes; stderr: {err[-3000:]}"
    assert got == want


def test_kubo_streams_16mib_to_us(ours, kubo2, kubo_helper, blob):
    data, want = blob
    assert kubo2.connect(ours.addr) == 0, ours.log()
    port = kubo_helper.free_port()
    assert kubo2.p2p_forward(XECHO, f"/ip4/127.0.0.1/tcp/{port}", ours.peer_id) == 1
    got, n, secs, err = tcp_roundtrip(port, data, timeout=60)
    assert (n, got) == (len(data), want), f"{n} bytes, errors {err}; node log:\n{ours.log()}"
    assert ours.alive()
