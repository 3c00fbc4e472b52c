"""Client side of the py-libp2p peer helper."""
import os
import tempfile

from .rpc import HelperProcess


class PyPeer:
    def __init__(self, workdir=None, echo=None, log_level="WARNING"):
        self.workdir = workdir or tempfile.mkdtemp(prefix="pyp2p-")
        args = ["--log-level", log_level]
        for p in echo or []:
            args += ["--echo", p]
        self.helper = HelperProcess("py_peer.py", args, cwd=self.workdir,
                                    log_path=os.path.join(self.workdir, "py_peer.log"))
        self.peer_id = self.helper.ready["peer_id"]
        self.addrs = self.helper.ready["addrs"]

    @property
    def p2p_addr(self):
        return next(a for a in self.addrs if a.startswith("/ip4/127.0.0.1/tcp/"))

    @property
    def tcp_addr(self):
        return self.p2p_addr.split("/p2p/")[0]

    def call(self, method, timeout=120, **kw):
        return self.helper.call(method, timeout=timeout, **kw)

    def connect(self, addr, timeout=30):
        return self.call("connect", timeout, addr=addr)

    def ping(self, addr, count=3, timeout=30):
        return self.call("ping", timeout, addr=addr, count=count)

    def identify(self, addr, timeout=30):
        return self.call("identify", timeout, addr=addr)

    def echo(self, addr, protocol, nbytes, seed=None, half_close="after-write", timeout=180):
        return self.call("echo", timeout, addr=addr, protocol=protocol, nbytes=nbytes, seed=seed,
                         half_close=half_close)

    def peers(self):
        return self.call("peers")

    def peerstore(self, peer_id, wait=0.0):
        return self.call("peerstore", peer_id=peer_id, wait=wait)

    def disconnect(self, peer_id):
        return self.call("disconnect", peer_id=peer_id)

    # --- Bitswap (for interop/tests/test_bitswap_*.py) ---
    def bitswap_fetch(self, addr, cid, timeout=300):
        """py-libp2p's BitswapClient fetches UnixFS `cid` from `addr`: {"sha256", "size"}."""
        return self.call("bitswap_fetch", timeout, addr=addr, cid=cid, fetch_timeout=timeout - 10)

    def close(self):
        self.helper.close()
