"""`import legacy` and `legacy verify`: the original Hot Papers posts into the store, each in
its own transaction, and rendered again to check they come out byte for byte."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hotpapers.config import Settings
from hotpapers.errors import HotpapersError, InputError
from hotpapers.jobs.post import render_post, write_post
from hotpapers.rank.rows import ClassicParts
from hotpapers.render.lumen import render_lumen
from hotpapers.render.lumen_parse import LegacyPost, parse_post
from hotpapers.store.listings import load_listing, save_listing
from hotpapers.store.mentions import save_mentions
from hotpapers.store.papers import load_papers, save_attention, save_paper
from hotpapers.store.posts import (
    RankingRow,
    StoredRanking,
    load_post,
    post_generated_at,
    save_post,
    save_ranking,
)

__all__ = ["FileResult", "import_legacy", "legacy_files", "store_legacy_post", "verify_legacy"]


@dataclass
class FileResult:
    path: Path
    day: date | None = None
    papers: int = 0
    error: str | None = None
    replaced: datetime | None = None  # generation time of another post of that day it replaced
    changed: bool = False  # the day's stored post renders differently than before the import
    rendered: str | None = None  # set by verify_legacy

    @property
    def identical(self) -> bool:
        return self.rendered is not None and self.rendered.encode() == self.path.read_bytes()


def store_legacy_post(conn: Connection, legacy: LegacyPost, now: datetime) -> datetime | None:
    """Store one parsed post: papers, totals as published, tweets, ranking and post; the
    papers are dated to the post's day, and make its listing when none is stored.
    Returns the generation time of a different post of that day it replaced, if any."""
    post = legacy.post
    previous = post_generated_at(conn, post.day, "lumen")
    known = load_papers(conn, [e.paper.id for e in post.entries])
    listed = bool(load_listing(conn, post.day))
    for entry in post.entries:
        if entry.paper.id not in known:
            entry.paper.announced_on = entry.paper.announced_on or post.day
            save_paper(conn, entry.paper, now, stored=None, verbatim=True)  # byte for byte
            known[entry.paper.id] = entry.paper
        save_attention(conn, entry.paper.id, "legacy", entry.written_at,
                       reposts=entry.reposts, likes=entry.likes)
    if not listed:
        save_listing(conn, post.day, [(e.paper.id, "new") for e in post.entries])
    saved = save_mentions(conn, legacy.mentions, now, verbatim=True)
    ids = {(m.source, m.native_id): i for m, i in zip(legacy.mentions, saved, strict=True)}
    rows = [RankingRow(e.paper.id, e.reposts + e.likes,
                       ClassicParts(e.reposts, e.likes).to_json()) for e in post.entries]
    ranking = StoredRanking(day=post.day, method="classic", as_of=post.generated_at, rows=rows,
                            settings={"imported": True, "source": "legacy"})
    save_post(conn, post, "lumen", ids, save_ranking(conn, ranking, now))
    return previous if previous not in (None, post.generated_at) else None


def legacy_files(paths: Iterable[Path]) -> list[Path]:
    """Files named, and the `*.md` files of folders named, in order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix == ".md" and p.is_file())
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return found


def _rendered(conn: Connection, day: date) -> str | None:
    """The day's stored lumen post as it renders, or None when there is none."""
    post = load_post(conn, day, "lumen")
    return None if post is None else render_lumen(post)


def import_legacy(engine: Engine, paths: Iterable[Path], now: datetime,
                  progress: Callable[[Path], None] = lambda _: None) -> list[FileResult]:
    """Import each post in its own transaction; a bad file is reported, the rest go in."""
    results = []
    for path in legacy_files(paths):
        result = FileResult(path)
        try:
            legacy = parse_post(path.read_bytes(), str(path))
            with engine.begin() as conn:
                before = _rendered(conn, legacy.post.day)
                result.replaced = store_legacy_post(conn, legacy, now)
                result.changed = before is None or before != _rendered(conn, legacy.post.day)
            result.day, result.papers = legacy.post.day, len(legacy.post.entries)
        except HotpapersError as exc:
            result.error = str(exc)
        except OSError as exc:
            result.error = f"{path}: {exc.strerror or exc}"
        except SQLAlchemyError as exc:  # the transaction was rolled back: nothing of it stays
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            result.error = f"{path}: the database refused the post: {reason}"
        results.append(result)
        progress(path)
    return results


def verify_legacy(engine: Engine, files: Iterable[Path], settings: Settings, now: datetime,
                  progress: Callable[[Path], None] = lambda _: None) -> list[FileResult]:
    """Import each post and render its day again right away (so two posts of one day are
    each checked against their own import)."""
    results = []
    for path in files:
        (result,) = import_legacy(engine, [path], now)
        if result.error is None:
            post = write_post(engine, result.day, settings, now)
            result.rendered = render_post(post, "lumen", settings).text
        results.append(result)
        progress(path)
    return results


