"""Block-store maintenance from the CLI, like Kubo's `ipfs repo stat`, `ipfs repo gc` and
`ipfs pin ls/add/rm`. Our binary only: no third-party peer.

CLI contract: `p2pchat ipfs stat` prints `blocks: N`, `size: B bytes (…)`, `on disk: B bytes
(…)`, `pins: N`; `p2pchat ipfs gc` prints `removed N blocks, freed B bytes, compacted K
segments`, or fails with status 1 while another process writes blocks; `p2pchat ipfs pin ls`
prints one CID per line; `pin add CID` pins recursively (blocks may be absent); `pin rm CID`
fails with status 1 if CID was not pinned. `ipfs add` pins what it adds.
"""
import fcntl
import os
import re

import pytest

from conftest import P2PChat
from test_bitswap_kubo import ipfs_add, require_ipfs_cli, sha_file, write_random

SIZE_A = 3 * 1024 * 1024 + 777  # 13 chunks of 256 KiB and a root
SIZE_B = 3 * 1024 * 1024 + 4321
GC_LINE = re.compile(r"^removed (\d+) blocks, freed (\d+) bytes, compacted (\d+) segments$")


def stat(client):
    """`ipfs stat` as {"blocks": int, "size": int, "on disk": int, "pins": int}."""
    r = client.run("ipfs", "stat", timeout=60)
    assert r.returncode == 0, "p2pchat ipfs stat failed\n" + client.describe(r)
    found = {}
    for line in r.stdout.decode().splitlines():
        m = re.match(r"^(blocks|size|on disk|pins): (\d+)( bytes( \(.+\))?)?$", line)
        assert m, f"unexpected ipfs stat line {line!r}\n" + client.describe(r)
        found[m.group(1)] = int(m.group(2))
    assert set(found) == {"blocks", "size", "on disk", "pins"}, client.describe(r)
    return found


def gc(client):
    """Runs `ipfs gc` (must succeed); returns (removed blocks, freed bytes, compacted segments)."""
    r = client.run("ipfs", "gc", timeout=120)
    assert r.returncode == 0, "p2pchat ipfs gc failed\n" + client.describe(r)
    lines = r.stdout.decode().splitlines()
    m = GC_LINE.match(lines[-1]) if lines else None
    assert m, "ipfs gc printed no `removed N blocks, freed B bytes, compacted K segments`\n" + client.describe(r)
    return tuple(int(g) for g in m.groups())


def pins(client):
    r = client.run("ipfs", "pin", "ls", timeout=60)
    assert r.returncode == 0, "p2pchat ipfs pin ls failed\n" + client.describe(r)
    return r.stdout.decode().split()


@pytest.mark.p2pchat
def test_unpin_then_gc_frees_that_file_and_keeps_the_other(tmp_path):
    client = P2PChat(str(tmp_path / "home"))
    require_ipfs_cli(client)
    path_a, path_b = str(tmp_path / "a.bin"), str(tmp_path / "b.bin")
    write_random(path_a, SIZE_A, 0xA11CE)
    digest_b = write_random(path_b, SIZE_B, 0xB0B)
    cid_a, cid_b = ipfs_add(client, path_a), ipfs_add(client, path_b)

    before = stat(client)
    assert before["blocks"] >= 2 * 14, before
    assert before["size"] >= SIZE_A + SIZE_B, before
    assert before["on disk"] > 0, before
    assert before["pins"] == 2, before
    assert sorted(pins(client)) == sorted([cid_a, cid_b])

    r = client.run("ipfs", "pin", "rm", cid_a, timeout=60)
    assert r.returncode == 0, client.describe(r)
    assert pins(client) == [cid_b]
    assert stat(client)["blocks"] == before["blocks"], "pin rm alone must not delete blocks"

    removed, freed, _ = gc(client)
    assert removed >= 14, f"gc removed {removed} blocks of a 14-block file"
    assert freed >= SIZE_A, f"gc freed {freed} bytes of a {SIZE_A}-byte file"

    after = stat(client)
    assert after["blocks"] == before["blocks"] - removed, (before, after, removed)
    assert after["size"] == before["size"] - freed, (before, after, freed)
    assert after["size"] >= SIZE_B, after
    # Deleted chunks leave holes in their segment file at once (the database may grow a little).
    assert before["on disk"] - after["on disk"] >= SIZE_A // 2, (before, after)
    assert after["pins"] == 1, after

    # The pinned file is intact and exports byte-exact from the local store (no peers).
    out = str(tmp_path / "b.out")
    r = client.run("ipfs", "get", cid_b, "-o", out, timeout=120)
    assert r.returncode == 0, "local export of the still-pinned file failed\n" + client.describe(r)
    assert sha_file(out) == digest_b
    # The unpinned one is gone (a CAR export reads only the local store and pins nothing).
    r = client.run("ipfs", "car", "export", cid_a, "-o", str(tmp_path / "a.car"), timeout=60)
    assert r.returncode != 0, "the collected file can still be exported\n" + client.describe(r)

    r = client.run("ipfs", "pin", "rm", cid_a, timeout=60)
    assert r.returncode == 1, "pin rm of a root that is not pinned must exit 1\n" + client.describe(r)
    err = r.stderr.decode()
    assert cid_a in err and "not pinned" in err, client.describe(r)
    assert "Fatal error" not in err and "Stack dump" not in err, client.describe(r)

    # A pin needs no blocks present: the collected root can be pinned again (and fetched later).
    r = client.run("ipfs", "pin", "add", cid_a, timeout=60)
    assert r.returncode == 0, client.describe(r)
    assert sorted(pins(client)) == sorted([cid_a, cid_b])
    assert stat(client)["pins"] == 2

    r = client.run("ipfs", "pin", "add", "not-a-cid", timeout=60)
    assert r.returncode == 1 and "invalid CID 'not-a-cid'" in r.stderr.decode(), client.describe(r)


@pytest.mark.p2pchat
def test_gc_with_nothing_to_collect_reports_zero(tmp_path):
    client = P2PChat(str(tmp_path / "home"))
    require_ipfs_cli(client)
    assert gc(client) == (0, 0, 0), "gc of an empty store"
    path = str(tmp_path / "f.bin")
    digest = write_random(path, SIZE_B, 0x6C)
    cid = ipfs_add(client, path)
    before = stat(client)
    assert gc(client)[:2] == (0, 0), "gc removed blocks of a pinned file"
    after = stat(client)
    # Blocks, data and pins unchanged; the database's log may grow by a page or two.
    assert {k: v for k, v in after.items() if k != "on disk"} == {k: v for k, v in before.items() if k != "on disk"}
    assert abs(after["on disk"] - before["on disk"]) <= 256 * 1024, (before, after)
    out = str(tmp_path / "f.out")
    r = client.run("ipfs", "get", cid, "-o", out, timeout=120)
    assert r.returncode == 0 and sha_file(out) == digest, client.describe(r)


@pytest.mark.p2pchat
def test_gc_defers_while_another_process_writes_blocks(tmp_path):
    """Block writers (an import, a fetch) hold `blocks/gc.lock` shared for their whole run;
    gc then collects nothing and says so with status 1, and works once they are done."""
    client = P2PChat(str(tmp_path / "home"))
    require_ipfs_cli(client)
    path = str(tmp_path / "f.bin")
    write_random(path, SIZE_A, 0xDEF)
    cid = ipfs_add(client, path)
    r = client.run("ipfs", "pin", "rm", cid, timeout=60)
    assert r.returncode == 0, client.describe(r)
    before = stat(client)

    fd = os.open(str(tmp_path / "home" / "blocks" / "gc.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        r = client.run("ipfs", "gc", timeout=60)
    finally:
        os.close(fd)
    assert r.returncode == 1, "gc ran while a writer held the lock\n" + client.describe(r)
    err = r.stderr.decode()
    assert "writing blocks" in err and "again" in err, client.describe(r)
    assert stat(client) == before, "a deferred gc deleted blocks"

    removed, freed, _ = gc(client)
    assert removed == before["blocks"] and freed == before["size"], (removed, freed, before)
