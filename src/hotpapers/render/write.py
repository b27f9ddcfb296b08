"""Atomic file writes: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hotpapers.errors import InputError

__all__ = ["check_writable", "write_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, content: str | bytes, durable: bool = True) -> Path:
    """Write `content` (text as UTF-8) to `path` so that readers see the old file or the
    new one, never half of one; the file gets the usual permissions (0666 less umask).
    `durable` also flushes it to disk before the rename (a post, a config); a site of
    thousands of pages, rebuilt from the store at will, can skip that cost. A target that
    is a folder is an InputError; other refusals are OSErrors naming the target, not the
    temporary file."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            exc.filename = str(path)
        raise
    return path


def check_writable(path: Path) -> None:
    """Raise now (InputError, or an OSError naming `path`) if `write_atomic(path, ...)`
    would fail for want of a writable folder, before work that a failed write would waste
    or leave half-done (a post stored as published but never written)."""
    fd, tmp = _temporary(path)
    os.close(fd)
    os.unlink(tmp)


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path` (its folder made if missing), open."""
    if path.is_dir():
        raise InputError(f"{path}: a folder, not a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        exc.filename = str(path)
        raise
