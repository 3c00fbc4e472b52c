"""JSON-lines RPC client for the helper peer processes (kubo_helper.py, py_peer.py)."""
import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading

PEERS_DIR = os.path.dirname(os.path.abspath(__file__))


class RpcError(RuntimeError):
    pass


class HelperProcess:
    """Spawns `python <script> args...`; stdout carries JSON lines, stderr goes to a log file."""

    def __init__(self, script, args=(), cwd=None, log_path=None, ready_timeout=60, env=None):
        self.log_path = log_path or os.devnull
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-u", os.path.join(PEERS_DIR, script), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            cwd=cwd, env=env, start_new_session=True,
        )
        self._ids = itertools.count(1)
        self._pending = {}
        self._lock = threading.Lock()
        self.events = queue.Queue()
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        try:
            self.ready = self.wait_event("ready", ready_timeout)
        except Exception:
            self.close()
            raise

    def _read_loop(self):
        for raw in self.proc.stdout:
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            rid = msg.get("id")
            if rid is None:
                self.events.put(msg)
                continue
            with self._lock:
                q = self._pending.pop(rid, None)
            if q is not None:
                q.put(msg)
        self.events.put({"event": "exit"})
        with self._lock:
            pend, self._pending = self._pending, {}
        for q in pend.values():
            q.put({"error": "helper process exited"})

    def wait_event(self, name, timeout):
        try:
            ev = self.events.get(timeout=timeout)
        except queue.Empty:
            raise RpcError(f"timed out waiting for {name!r} event; log: {self.tail_log()}")
        if ev.get("event") != name:
            raise RpcError(f"expected {name!r} event, got {ev}; log: {self.tail_log()}")
        return ev

    def call(self, method, timeout=60, **params):
        rid = next(self._ids)
        q = queue.Queue()
        with self._lock:
            self._pending[rid] = q
        line = json.dumps({"id": rid, "method": method, "params": params, "timeout": timeout}) + "\n"
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise RpcError(f"{method}: helper is gone ({e}); log: {self.tail_log()}")
        try:
            msg = q.get(timeout=timeout)
        except queue.Empty:
            with self._lock:
                self._pending.pop(rid, None)
            raise RpcError(f"{method} timed out after {timeout}s; log: {self.tail_log()}")
        if "error" in msg:
            raise RpcError(f"{method}: {msg['error']}")
        return msg["result"]

    def tail_log(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, 2)
                f.seek(max(0, f.tell() - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def close(self, timeout=5):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"id": 0, "method": "shutdown"}\n')
                self.proc.stdin.flush()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        self._log.close()
