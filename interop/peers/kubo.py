"""Client side of the Kubo helper: one helper process, several repos (nodes)."""
import os
import tempfile

from .rpc import HelperProcess


class KuboNode:
    def __init__(self, helper, repo, info):
        self.helper = helper
        self.repo = repo
        self.peer_id = info["peer_id"]
        self.addrs = info["addrs"]

    @property
    def tcp_addr(self):
        return next(a for a in self.addrs if a.startswith("/ip4/127.0.0.1/tcp/"))

    @property
    def p2p_addr(self):
        return f"{self.tcp_addr}/p2p/{self.peer_id}"

    def _call(self, method, timeout=60, **kw):
        return self.helper.call(method, timeout=timeout, repo=self.repo, **kw)

    def connect(self, addr, timeout=60):
        return self._call("connect", timeout=timeout, addr=addr)

    def peers(self):
        return self._call("peers")

    def peer_ids(self):
        return self._call("peer_ids")

    def p2p_listen(self, proto, target):
        return self._call("p2p_listen", proto=proto, target=target)

    def p2p_forward(self, proto, listen, peer_id):
        return self._call("p2p_forward", proto=proto, listen=listen, peer_id=peer_id)

    def p2p_close_all(self):
        return self._call("p2p_close_all")

    def add_file(self, path, timeout=120):
        return self._call("add_file", timeout=timeout, path=path)

    def download(self, cid, dest, timeout=120):
        return self._call("download", timeout=timeout, cid=cid, dest=dest)


class KuboHelper:
    """Owns a temp dir (repos + helper log + kubo.log) and the helper process."""

    def __init__(self, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="kubo-")
        self.helper = HelperProcess("kubo_helper.py", cwd=self.workdir,
                                    log_path=os.path.join(self.workdir, "helper.log"))
        self._n = 0

    def new_node(self, timeout=120):
        self._n += 1
        repo = os.path.join(self.workdir, f"repo{self._n}")
        info = self.helper.call("create", timeout=timeout, repo=repo)
        return KuboNode(self.helper, repo, info)

    def free_port(self):
        return self.helper.call("free_port")

    def close(self):
        self.helper.close()
