"""Plain-TCP helpers: an echo server (target of Kubo P2PListen) and a round-trip client."""
import hashlib
import socket
import threading
import time


class TcpEchoServer:
    """Threaded TCP echo server on 127.0.0.1: echoes everything, half-closes on EOF."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []  # bytes echoed per finished connection
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def multiaddr(self):
        return f"/ip4/127.0.0.1/tcp/{self.port}"

    def _accept_loop(self):
        while not self._closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        total = 0
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                c.sendall(data)
                total += len(data)
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()
            self.conns.append(total)

    def close(self):
        self._closed = True
        self.sock.close()


def tcp_roundtrip(port, data, timeout=60, half_close="after-read"):
    """Connect to 127.0.0.1:port, write `data` while reading; return (received_bytes_sha256, n, secs).

    half_close: "after-write" shuts down our write side as soon as everything is written;
    "after-read" (default) waits until len(data) bytes came back first, because Kubo's p2p
    tunnel tears the whole stream down when one direction ends.
    """
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    got = hashlib.sha256()
    n = 0
    err = []
    done_reading = threading.Event()

    def writer():
        try:
            s.sendall(data)
            if half_close == "after-write":
                s.shutdown(socket.SHUT_WR)
            else:
                done_reading.wait(timeout)
                s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t0 = time.perf_counter()
    w = threading.Thread(target=writer, daemon=True)
    w.start()
    try:
        while True:
            if half_close != "after-write" and n >= len(data):
                break
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            got.update(chunk)
            n += len(chunk)
    except OSError as e:
        err.append(e)
    finally:
        done_reading.set()
        w.join(timeout)
        s.close()
    return got.hexdigest(), n, time.perf_counter() - t0, err
