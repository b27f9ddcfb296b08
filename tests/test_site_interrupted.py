"""A `site build` killed with SIGKILL in the middle: its workers die with it, and the next
build removes the temporary files it left and makes the same site as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import shared_path
from hotpapers.site.output import BUILDING

LINUX = sys.platform.startswith("linux")


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie no longer does: it cannot write)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def contents(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def build(db_url: str, out: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "HOTPAPERS_DB": db_url, "XDG_CONFIG_HOME": str(out.parent / "cfg")}
    return subprocess.Popen([sys.executable, "-m", "hotpapers", "-q", "site", "build",
                             "--out", str(out), "--jobs", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)


def kill_mid_build(db_url: str, out: Path) -> tuple[int, set[int]]:
    """Start a build, SIGKILL it once its worker runs and pages are being written; return
    its pid and its workers'."""
    process = build(db_url, out)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        workers = children_of(process.pid)
        papers = out / "papers"
        if workers and papers.is_dir() and sum(1 for _ in papers.iterdir()) >= 20:
            break
    assert process.poll() is None, "the build ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return process.pid, workers


@pytest.mark.skipif(not LINUX, reason="reads /proc to find the build's workers")
def test_p16_a_killed_build_leaves_no_worker_and_the_next_build_cleans_up(cli, db_url,
                                                                         tmp_path):
    corpus = shared_path("corpus", "legacy-posts")
    assert cli("import", "legacy", corpus).code == 0
    out = tmp_path / "site"
    parent, workers = kill_mid_build(db_url, out)
    assert workers, "the build had no worker process when it was killed"
    seen = tree(out)
    assert (out / BUILDING).exists(), "the killed build did not mark the folder"
    deadline = time.monotonic() + 30  # dead workers only have to be reaped
    while any(alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(alive(w) for w in workers)
    assert tree(out) == seen, "a worker kept writing after the build was killed"

    # what a kill between a temporary file's creation and its renaming leaves
    for stale in (out / f".index.html.{parent}.tmp", out / "papers" / f".x.html.{parent}.tmp"):
        stale.write_text("half a page")
    mine = [out / "notes.1.tmp", out / ".notes.tmp", tmp_path / f".outside.{parent}.tmp"]
    for path in mine:
        path.write_text("not the build's")
    finished = build(db_url, out)
    assert finished.wait(timeout=300) == 0, finished.stderr.read()
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.tmp"))
    assert left == sorted(str(p.relative_to(tmp_path)) for p in mine)
    assert not (out / BUILDING).exists()
    for path in mine:
        path.unlink()

    clean = tmp_path / "clean"
    assert build(db_url, clean).wait(timeout=300) == 0
    assert contents(out) == contents(clean)


HOLD = """
import os, sys
from pathlib import Path
from hotpapers.site.output import folder_lock

with folder_lock(Path(sys.argv[1])):
    if os.fork() == 0:  # a worker: it keeps the lock it inherited until stdin closes
        sys.stdin.read()
        os._exit(0)
    print("held", flush=True)
    os._exit(0)  # the build ends abruptly; its worker lives on for a moment
"""


def _try_lock(folder: Path) -> bool:
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


@pytest.mark.skipif(not LINUX, reason="flock on a folder, as Linux has it")
def test_p16_the_folder_stays_locked_until_a_killed_builds_last_worker_is_gone(tmp_path):
    """The next build waits on this lock, so it never looks for leftover temporary files
    while a dying worker of the killed build can still write one."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == "held\n"
        holder.wait(timeout=30)  # the build itself is gone
        assert not _try_lock(tmp_path)  # its worker still holds the folder
    finally:
        holder.stdin.close()  # the worker ends
    deadline = time.monotonic() + 30
    while not _try_lock(tmp_path):
        assert time.monotonic() < deadline, "the folder stayed locked after the worker ended"
        time.sleep(0.01)
    assert sorted(os.listdir(tmp_path)) == []  # the lock leaves no file in the site
