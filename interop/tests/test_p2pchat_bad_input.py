"""Malformed input at our listener: each bad connection is closed, the host keeps serving."""
import os
import socket
import time

import pytest

from conftest import assert_ping_ok, wait_for

pytestmark = pytest.mark.p2pchat

MSS = b"\x13/multistream/1.0.0\n"
NOISE = b"\x07/noise\n"


def expect_closed(sock, timeout=15):
    """Read until the peer closes (EOF or reset). Fails if the connection stays open."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return "eof"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        pass
    pytest.fail(f"our node kept a bad connection open for {timeout}s", pytrace=False)


def read_mss_token(sock, timeout=10):
    sock.settimeout(timeout)
    n = sock.recv(1)[0]
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"got {len(buf)}/{n}")
        buf += chunk
    return buf


def case_garbage(sock):
    sock.sendall(b"GET / HTTP/1.1\r\nHost: p2pchat\r\n\r\n" + os.urandom(512))


def case_random_bytes(sock):
    sock.sendall(bytes([0x05]) + os.urandom(1024))


def case_truncated_header(sock):
    sock.sendall(MSS[:10])
    sock.shutdown(socket.SHUT_WR)


def case_oversized_varint(sock):
    # a length of ~2^35 bytes for the first multistream message, then silence
    sock.sendall(b"\xff\xff\xff\xff\x7f")


def case_overlong_varint(sock):
    # 11 continuation bytes: not a valid uvarint at all
    sock.sendall(b"\xff" * 11 + b"\x01")


def case_noise_garbage_first_frame(sock):
    sock.sendall(MSS + NOISE)
    assert read_mss_token(sock) == MSS[1:]
    assert read_mss_token(sock) == NOISE[1:]
    sock.sendall(b"\x00\x07" + os.urandom(7))  # XX msg1 must be a 32-byte ephemeral key


def case_noise_garbage_third_frame(sock):
    sock.sendall(MSS + NOISE)
    assert read_mss_token(sock) == MSS[1:]
    assert read_mss_token(sock) == NOISE[1:]
    sock.sendall(b"\x00\x20" + os.urandom(32))  # msg1: any 32 bytes are an X25519 key
    n = int.from_bytes(recv_exact(sock, 2), "big")
    recv_exact(sock, n)  # msg2 from our node
    junk = os.urandom(200)
    sock.sendall(len(junk).to_bytes(2, "big") + junk)  # msg3 that cannot decrypt


CASES = {
    "tcp-garbage": case_garbage,
    "random-bytes": case_random_bytes,
    "truncated-multistream-header": case_truncated_header,
    "oversized-varint-length": case_oversized_varint,
    "overlong-varint": case_overlong_varint,
    "noise-garbage-msg1": case_noise_garbage_first_frame,
    "noise-garbage-msg3": case_noise_garbage_third_frame,
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_closes_connection_and_host_keeps_serving(case, ours, py_peer, kubo, p2pchat):
    port = ours.tcp_port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            CASES[case](s)
        except (ConnectionResetError, BrokenPipeError, EOFError):
            pass  # closed on us already: fine
        expect_closed(s)
    assert ours.alive(), f"node died on {case}:\n{ours.log()}"
    # host still serves: a fresh py-libp2p connection pings us ...
    if ours.peer_id in py_peer.peers():
        py_peer.disconnect(ours.peer_id)
        wait_for(lambda: ours.peer_id not in py_peer.peers(), timeout=5)
    assert len(py_peer.ping(ours.addr, count=1)) == 1, ours.log()
    # ... Kubo can connect ...
    assert kubo.connect(ours.addr) == 0, ours.log()
    # ... and our own CLI can ping it.
    r = p2pchat.run("ping", ours.addr, "--count", "1", timeout=60)
    assert_ping_ok(p2pchat, r, 1)
