"""p2pchat <-> py-libp2p 0.8.1 (Noise + yamux only), both directions."""
import pytest

from conftest import (ECHO, XECHO, assert_peer_id_mismatch, assert_ping_ok, identify_json,
                      wait_for)

pytestmark = pytest.mark.p2pchat


def test_we_ping_py(p2pchat, py_peer):
    r = p2pchat.run("ping", py_peer.p2p_addr, "--count", "3", timeout=60)
    assert_ping_ok(p2pchat, r, 3)


def test_we_identify_py(p2pchat, py_peer):
    info = identify_json(p2pchat, py_peer.p2p_addr)
    assert info["peerID"] == py_peer.peer_id and info["peerID"].startswith("12D3KooW")
    assert info["agentVersion"].startswith("py-libp2p/"), info
    for p in ("/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", ECHO, XECHO):
        assert p in info["protocols"], info
    assert any(a.split("/p2p/")[0] == py_peer.tcp_addr for a in info["listenAddrs"]), info
    assert info["observedAddr"].startswith("/ip4/127.0.0.1/tcp/"), info


@pytest.mark.parametrize("which", ["kubo-id", "fresh-ed25519-id"])
def test_we_dial_py_with_wrong_peer_id(p2pchat, py_peer, kubo, fresh_peer_id, which):
    other = kubo.peer_id if which == "kubo-id" else fresh_peer_id
    r = p2pchat.run("ping", f"{py_peer.tcp_addr}/p2p/{other}", "--count", "1", timeout=60)
    assert_peer_id_mismatch(p2pchat, r)


def test_py_dials_and_pings_us(ours, py_peer):
    rtts = py_peer.ping(ours.addr, count=3)
    assert len(rtts) == 3, ours.log()
    assert wait_for(lambda: ours.peer_id in py_peer.peers())


def test_py_identifies_us(ours, py_peer):
    info = py_peer.identify(ours.addr)
    assert info["peer_id"] == ours.peer_id
    for p in ("/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", ECHO, XECHO):
        assert p in info["protocols"], info
    assert info["agent_version"], info
    # py-libp2p's own background identify put our protocols into its peerstore
    ps = info["peerstore"]["protocols"]
    assert "/ipfs/ping/1.0.0" in ps and ECHO in ps, info["peerstore"]
    assert any(a.startswith("/ip4/127.0.0.1/tcp/") for a in info["listen_addrs"]), info


def test_we_stream_16mib_to_py(p2pchat, py_peer, blob):
    data, want = blob
    rc, got, n, err = p2pchat.stream(py_peer.p2p_addr, ECHO, data)
    assert (rc, n) == (0, len(data)), f"rc={rc} got {n} bytes; stderr: {err[-3000:]}"
    assert got == want


def test_py_streams_16mib_to_us(ours, py_peer):
    r = py_peer.echo(ours.addr, ECHO, 16 << 20, seed=11)
    assert r["received"] == r["sent"], (r, ours.log())
    assert r["received_sha256"] == r["sent_sha256"]
    assert ours.alive()
