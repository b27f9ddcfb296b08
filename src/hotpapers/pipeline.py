"""The jobs the CLI runs, stage by stage: import, rank, build a day's post, the demo."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hotpapers.config import Settings
from hotpapers.errors import HotpapersError, InputError, NothingToDo, SourceError
from hotpapers.legacy import LegacyPost, parse_post
from hotpapers.models import Post, PostEntry, ShownMention
from hotpapers.rank.classic import PaperTweets, Tweet, rank_classic
from hotpapers.render.lumen import render_lumen, tweet_embed
from hotpapers.store.listings import load_listing, save_listing
from hotpapers.store.mentions import (
    latest_observations,
    load_embeds,
    mention_ids,
    save_embed,
    save_mention,
)
from hotpapers.store.papers import load_papers, save_attention, save_paper
from hotpapers.store.posts import (
    RankingRow,
    StoredRanking,
    load_post,
    load_ranking,
    post_generated_at,
    save_post,
    save_ranking,
)

__all__ = [
    "FileResult", "build_post", "classic_ranking", "fill_embeds", "import_legacy", "legacy_files",
    "store_legacy_post", "verify_legacy",
]


DAY_PAPERS = ("new", "cross")  # replacements are not papers of the day


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
    ids = {(m.source, m.native_id): save_mention(conn, m, now, verbatim=True)
           for m in legacy.mentions}
    rows = [RankingRow(e.paper.id, e.reposts + e.likes, {"reposts": e.reposts, "likes": e.likes})
            for e in post.entries]
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
            with engine.begin() as conn:
                result.rendered = render_lumen(build_post(conn, result.day, settings, now))
        results.append(result)
        progress(path)
    return results


def classic_ranking(conn: Connection, day: date, settings: Settings, as_of: datetime
                    ) -> tuple[StoredRanking, dict[str, list[tuple[str, str]]]]:
    """The day's classic ranking and the tweets shown per paper: the stored ranking of a
    published or imported day, else computed from the day's listing and mentions."""
    stored = load_ranking(conn, day, "classic")
    if stored is not None:
        return stored, {}
    listing = [paper_id for paper_id, kind in load_listing(conn, day) if kind in DAY_PAPERS]
    if not listing:
        raise NothingToDo(f"no papers stored for {day}: fetch or import that day first")
    papers = load_papers(conn, listing)
    attention = latest_observations(conn, listing, settings.classic_sources, as_of)
    inputs = [PaperTweets(paper_id=p, has_pdf=bool(papers[p].pdf_url), tweets=[
        Tweet(key, o.reposts or 0, o.likes or 0) for key, o in attention[p]])
        for p in listing]
    ranked = rank_classic(inputs, settings.classic_paper_threshold,
                          settings.classic_tweet_threshold, settings.classic_max_tweets)
    rows = [RankingRow(r.paper_id, r.score, r.parts) for r in ranked]
    ranking = StoredRanking(day=day, method="classic", as_of=as_of, rows=rows,
                            settings={"sources": settings.classic_sources})
    return ranking, {r.paper_id: r.shown for r in ranked}


def fill_embeds(conn: Connection, embeds: dict[tuple[str, str], tuple[str | None, str | None]],
                fetch: Callable[[str], str | None], warn: Callable[[str], None]) -> None:
    """Fetch the embed HTML of the X posts in `embeds` that have none yet, and cache it in
    the store. The first failure is reported through `warn` and ends the fetching: the
    posts left get the bare blockquote that X's widget expands."""
    for (source, native_id), (permalink, html) in embeds.items():
        if html is not None or source != "x" or not permalink:
            continue
        try:
            html = fetch(permalink)
        except SourceError as exc:
            warn(f"tweet embeds: {exc}; the remaining tweets are shown as bare links")
            return
        if html is not None:
            html = save_embed(conn, (source, native_id), html)
            embeds[(source, native_id)] = (permalink, html)


def build_post(conn: Connection, day: date, settings: Settings, now: datetime,
               keep: bool = False, embed: Callable[[str], str | None] | None = None,
               warn: Callable[[str], None] = lambda _: None) -> Post:
    """The day's lumen post: as stored when the day was published (same as-of, same
    bytes), else ranked now; with `keep`, that post is stored as the day's published one.
    `embed` fetches the embed HTML of a tweet URL for shown tweets that have none."""
    stored = load_post(conn, day, "lumen")
    if stored is not None:
        return stored
    ranking, shown = classic_ranking(conn, day, settings, now)
    papers = load_papers(conn, [r.paper_id for r in ranking.rows])
    embeds = load_embeds(conn, [key for keys in shown.values() for key in keys])
    if embed is not None:
        fill_embeds(conn, embeds, embed, warn)
    entries = []
    for row in ranking.rows:
        tweets = []
        for source, native_id in shown.get(row.paper_id, []):
            permalink, html = embeds[(source, native_id)]
            mention = ShownMention(native_id, html, permalink, source)
            mention.embed_html = tweet_embed(mention)  # kept as published
            tweets.append(mention)
        entries.append(PostEntry(paper=papers[row.paper_id], reposts=row.parts["reposts"],
                                 likes=row.parts["likes"], written_at=now, shown=tweets))
    post = Post(day=day, generated_at=now, entries=entries)
    if keep:
        ranking_id = save_ranking(conn, ranking, now)
        keys = [m.key for e in entries for m in e.shown]
        save_post(conn, post, "lumen", mention_ids(conn, keys), ranking_id)
    return post
