"""`hotpapers import arxiv-snapshot`: the public arXiv metadata snapshot into the store,
streamed in batches with bounded memory; bad lines are reported and skipped, and a file
whose first lines are all bad is refused before anything is written."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.errors import InputError
from hotpapers.models import Paper
from hotpapers.sources.arxiv.kaggle import SnapshotLine, read_lines
from hotpapers.store.bulk import save_papers_bulk
from hotpapers.store.papers import load_papers

__all__ = ["BATCH", "SnapshotImport", "import_arxiv_snapshot"]

BATCH = 2000
PROBE = 100  # a file whose first PROBE lines are all bad is not the snapshot (<= BATCH)

KEEP_BAD = 1000  # bad lines remembered with their reason; the rest are only counted


@dataclass
class SnapshotImport:
    stored: int = 0
    unchanged: int = 0  # papers stored already, exactly as the snapshot has them
    bad: list[tuple[int, str]] = field(default_factory=list)  # the first KEEP_BAD
    bad_count: int = 0


def _open(path: Path) -> tuple[BinaryIO, BinaryIO]:
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


def _batches(lines: Iterator[SnapshotLine]) -> Iterator[list[SnapshotLine]]:
    while batch := list(islice(lines, BATCH)):
        yield batch


def _unchanged(stored: Paper | None, paper: Paper) -> bool:
    """Whether storing `paper` leaves the stored paper as it was: the same, or older (an
    older record never replaces a newer version)."""
    if stored is None:
        return False
    return stored == paper or (paper.latest_version or 0) < (stored.latest_version or 0)


def _check_looks_like_snapshot(path: Path, first: list[SnapshotLine]) -> None:
    """InputError when the file's first lines (up to PROBE of them) are all bad."""
    probe = first[:PROBE]
    if probe and all(line.error for line in probe):
        lines = f"first {len(probe)} lines" if len(probe) > 1 else "only line"
        reason = (probe[0].error or "")[:120]
        raise InputError(f"{path}: does not look like the arXiv JSON-lines snapshot: its "
                         f"{lines} are all bad (line {probe[0].number}: {reason})")


def import_arxiv_snapshot(engine: Engine, path: Path, settings: Settings, now: datetime,
                          progress: Callable[[int], None] = lambda _: None) -> SnapshotImport:
    """Import every good line, one transaction per batch; report each bad line. InputError,
    with nothing written, when the first PROBE lines are all bad."""
    result = SnapshotImport()
    stream, raw = _open(path)
    with raw, stream:
        try:
            for number, batch in enumerate(_batches(read_lines(stream, settings.arxiv_holidays))):
                if number == 0:
                    _check_looks_like_snapshot(path, batch)
                good = [line.paper for line in batch if line.paper is not None]
                errors = [(line.number, line.error) for line in batch if line.error]
                result.bad_count += len(errors)
                result.bad += errors[: max(0, KEEP_BAD - len(result.bad))]
                with engine.begin() as conn:
                    before = load_papers(conn, [paper.id for paper in good])
                    save_papers_bulk(conn, good, now)
                result.stored += len(good)
                result.unchanged += sum(_unchanged(before.get(p.id), p) for p in good)
                progress(raw.tell())
        except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"{path}: cannot read after {result.stored} papers: {exc}") from None
    return result
