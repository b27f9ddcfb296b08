"""Writing the site's files: new ones in place, others through a temporary file renamed
over them, and removing the temporary files a build cut short left (named `.NAME.PID.tmp`
next to NAME, their process gone)."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

__all__ = ["TEMPORARY", "remove_temporaries", "replace_file", "write_new"]

TEMPORARY = re.compile(r"\..+\.(\d+)\.tmp")


def write_new(path: str, data: bytes) -> bool:
    """Write a file that is not there yet; False when it is (nothing is then written)."""
    try:  # 0o666 less the umask, like any new file; no fsync: the store is the record
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o666)
    except FileExistsError:
        return False
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)
    return True


def replace_file(temporary: str, path: Path, data: bytes) -> None:
    """Write `data` to `path` through `temporary`, renamed over it once whole."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temporary)  # left by a killed process that had this pid
    if not write_new(temporary, data):
        raise FileExistsError(f"{temporary} is being written by another process")
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs. A zombie does not: a killed worker whose dead
    parent was reparented to an init that does not reap (as in some containers) stays one,
    and its temporary files are the build's leftovers all the same."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:  # /proc/PID/stat: "pid (comm) state ...", comm may hold spaces and parentheses
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux), or gone meanwhile
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def remove_temporaries(root: Path) -> None:
    """Remove the `.NAME.PID.tmp` files under `root` whose process is gone: what a build
    killed between writing a file and renaming it left (links are not followed)."""
    for folder, _, names in os.walk(root):
        for name in names:
            found = TEMPORARY.fullmatch(name)
            if found and not _alive(int(found.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(folder, name))
