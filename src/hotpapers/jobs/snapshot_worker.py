"""The parser process of `import arxiv-snapshot`: it reads the file (gzip or not), parses
its lines (sources/arxiv/kaggle.py) and sends the writer, through a bounded queue, batches
of plain records (store/paper_rows.py) with their bad lines and the file position reached.
The file is refused, before any batch is sent, when its first PROBE lines are all bad. The
process ends by itself when the writer's process is gone."""

from __future__ import annotations

import ctypes
import ctypes.util
import gzip
import marshal
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

from hotpapers.errors import InputError
from hotpapers.sources.arxiv.kaggle_rows import RowLine, RowMaker, read_rows
from hotpapers.store.paper_rows import PaperRecord, codec

__all__ = ["PROBE", "Batch", "ParserProcess", "ReadFailed"]

PROBE = 100  # a file whose first PROBE lines are all bad is not the snapshot
QUEUED = 3  # batches parsed ahead of the writer, at most (the memory bound)
POLL = 1.0  # seconds between two looks at the other process while waiting for it
WATCH = 0.05  # seconds between two looks at the writer from the parser's watchdog


class ReadFailed(Exception):
    """The file could not be read on (a truncated or corrupt gzip, an I/O error)."""


@dataclass
class Batch:
    """Up to a batch of lines: the records of the good ones, the bad ones (line, reason),
    and the position in the (compressed) file once they were read."""

    records: list[PaperRecord]
    bad: list[tuple[int, str]]
    position: int
    lines: int


def open_snapshot(path: Path) -> tuple[BinaryIO, BinaryIO]:
    """(the lines to read, the raw file whose position tells the progress)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    raw.seek(0)
    return raw, raw


def check_looks_like_snapshot(path: Path, first: list[RowLine]) -> None:
    """InputError when the file's first lines (up to PROBE of them) are all bad."""
    probe = first[:PROBE]
    if probe and all(error for _, _, error in probe):
        lines = f"first {len(probe)} lines" if len(probe) > 1 else "only line"
        number, _, error = probe[0]
        raise InputError(f"{path}: does not look like the arXiv JSON-lines snapshot: its "
                         f"{lines} are all bad (line {number}: {(error or '')[:120]})")


def parse_batches(path: Path, holidays: Collection[date], dialect: str, size: int
                  ) -> Iterator[Batch]:
    """The file's lines in batches of `size`, made into records for `dialect` (straight
    from the decoded JSON, sources/arxiv/kaggle_rows.py)."""
    rows = codec(dialect)
    maker = RowMaker(holidays, rows.time, rows.day, rows.flag, rows.at_clock)
    stream, raw = open_snapshot(path)
    with raw, stream:
        lines = read_rows(stream, maker)
        head = list(islice(lines, PROBE))
        check_looks_like_snapshot(path, head)
        lines = chain(head, lines)
        while batch := list(islice(lines, size)):
            yield Batch([row for _, row, _ in batch if row is not None],
                        [(number, error) for number, _, error in batch if error is not None],
                        raw.tell(), len(batch))


def _die_with(parent: int) -> None:
    """End this process at once when `parent` (the writer) is gone, wherever it is
    blocked, even flushing its queue at exit with no reader left: on Linux the kernel
    kills it with its parent (PR_SET_PDEATHSIG), elsewhere a watchdog thread looks every
    WATCH seconds."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent:  # gone before the watch began
        os._exit(0)


def _pack(batch: Batch, dialect: str) -> tuple:
    """A batch as the queue carries it: SQLite's records (strings, numbers and None only)
    as one marshal bytes object, about twice as quick to make and to read as the pickle
    the queue makes otherwise (PostgreSQL's hold datetimes, which marshal cannot write)."""
    if dialect == "sqlite":
        return ("packed", marshal.dumps((batch.records, batch.bad, batch.position,
                                         batch.lines)))
    return ("batch", batch)


def _run(path: Path, holidays: list[date], dialect: str, size: int, out: Any,
         parent: int) -> None:
    """The parser process: every batch, then ("end",) or what stopped it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the writer stops this process
    _die_with(parent)

    def send(item: Any) -> bool:
        while True:
            try:
                out.put(item, timeout=POLL)
                return True
            except queue.Full:
                if os.getppid() != parent:  # the writer is gone: do not wait on the queue
                    out.cancel_join_thread()
                    return False

    try:
        for batch in parse_batches(path, holidays, dialect, size):
            if not send(_pack(batch, dialect)):
                return
    except InputError as exc:
        send(("input", str(exc)))
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        send(("read", str(exc)))
    except Exception:  # handed to the writer, which raises it
        send(("crash", traceback.format_exc()))
    else:
        send(("end",))


class ParserProcess:
    """The batches of a snapshot file, parsed in another process while they are written.
    Iterating raises InputError (the file cannot be opened or is not the snapshot),
    ReadFailed (it cannot be read on) or RuntimeError (the parser failed)."""

    def __init__(self, path: Path, holidays: Collection[date], dialect: str,
                 size: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._queue = context.Queue(maxsize=QUEUED)
        self._process = context.Process(
            target=_run, name="hotpapers-snapshot-parser", daemon=True,
            args=(path, list(holidays), dialect, size, self._queue, os.getpid()))

    def __enter__(self) -> ParserProcess:
        self._process.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._queue.close()

    def __iter__(self) -> Iterator[Batch]:
        while True:
            message = self._next()
            kind = message[0]
            if kind == "packed":
                yield Batch(*marshal.loads(message[1]))
            elif kind == "batch":
                yield message[1]
            elif kind == "end":
                return
            elif kind == "input":
                raise InputError(message[1])
            elif kind == "read":
                raise ReadFailed(message[1])
            else:
                raise RuntimeError(f"the snapshot parser failed:\n{message[1]}")

    def _next(self) -> tuple:
        while True:
            try:
                return self._queue.get(timeout=POLL)
            except queue.Empty:
                if not self._process.is_alive() and self._queue.empty():
                    raise RuntimeError("the snapshot parser process ended with code "
                                       f"{self._process.exitcode}") from None
