"""Make a day's Digest from the store: the day's post by the configured method (the
original lumen format, published with its as-of time) and the papers it lists; and publish
it to a target once, recording the publication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Engine

from hotpapers.config import Settings
from hotpapers.jobs.post import make_post, render_post
from hotpapers.jobs.ranked_post import make_ranked_post, post_method
from hotpapers.jobs.ranking import Method, Window, rank_papers, ranked_rows
from hotpapers.models import Paper, Post
from hotpapers.publish.base import Digest, DigestPaper, Payload, Publisher, Receipt
from hotpapers.rank.rows import ClassicParts, RankedRow
from hotpapers.render.links import paper_url
from hotpapers.store.publications import load_publication, save_publication

__all__ = ["Published", "make_digest", "publish_once"]


def _summary(row: RankedRow) -> str:
    parts = row.parts
    if isinstance(parts, ClassicParts):
        return f"retweets: {parts.reposts}, favorites: {parts.likes}"
    return f"{parts.people} people on {', '.join(parts.sources) or 'no source'}"


def _url(paper: Paper, settings: Settings) -> str:
    if settings.site_url:
        return paper_url(settings.site_url, paper.id)
    return paper.abs_url or f"https://arxiv.org/abs/{paper.id}"


def _ranked(engine: Engine, day: date, method: Method, settings: Settings, now: datetime,
            embed, keep: bool, warn) -> tuple[Post, list[RankedRow], dict[str, Paper]]:
    """The day's post by `method`, the rows it lists and their papers; the day is ranked
    once. The classic post is kept as the day's archived post whatever the method (the
    site and `legacy verify` read it)."""
    if method is not Method.classic:  # published first: it decides the day's method
        hot = make_ranked_post(engine, day, method, settings, now, keep=keep, embed=embed,
                               warn=warn)
        make_post(engine, day, settings, now, keep=keep, embed=embed, warn=warn)
        return hot.post, ranked_rows(hot.ranking), {e.paper.id: e.paper for e in hot.post.entries}
    made = make_post(engine, day, settings, now, keep=keep, embed=embed, warn=warn)
    # a preview's ranking is in no store: reuse it; a kept one is read back as stored
    known = made.ranking if not made.kept else None
    with engine.connect() as conn:
        # the post's time: a published day's digest ranks the same again
        ranked = rank_papers(conn, day, method, Window.day, settings, made.post.generated_at,
                             classic=known)
    return made.post, ranked.rows, ranked.papers


def make_digest(engine: Engine, day: date, settings: Settings, now: datetime,
                embed: Callable[[str], str | None] | None = None, keep: bool = True,
                warn: Callable[[str], None] = lambda _: None) -> Digest:
    """The day's digest by `daily_method` (classic for a day published by classic only):
    its post (see make_post and make_ranked_post: embeds are fetched with no transaction
    open) and the papers it lists. With `keep` the day is stored as published when it was
    not yet (a published day keeps its as-of time and renders the same bytes). A dry run
    passes keep=False and changes nothing."""
    method = post_method(engine, day, settings)
    post, rows, found = _ranked(engine, day, method, settings, now, embed, keep, warn)
    papers = tuple(
        DigestPaper(rank=i, id=row.paper_id, title=found[row.paper_id].title,
                    authors=tuple(found[row.paper_id].authors),
                    url=_url(found[row.paper_id], settings),
                    pdf_url=found[row.paper_id].pdf_url, score=row.score,
                    summary=_summary(row))
        for i, row in enumerate(rows, start=1))
    day_url = f"{settings.site_url.rstrip('/')}/{day.isoformat()}/" if settings.site_url else None
    rendered = render_post(post, "lumen", settings)
    return Digest(day=day, title=f"Hot Papers {day.isoformat()}", method=method.value,
                  generated_at=post.generated_at, papers=papers, post_name=rendered.name,
                  post_text=rendered.text, url=day_url)


class Published:
    """The outcome of publishing a day to one target."""

    def __init__(self, target: str, payloads: list[Payload], receipt: Receipt | None = None,
                 already: dict | None = None) -> None:
        self.target, self.payloads, self.receipt, self.already = (
            target, payloads, receipt, already)

    def line(self) -> str:
        if self.already is not None:
            return (f"{self.target}: already published at "
                    f"{self.already['published_at']:%Y-%m-%d %H:%M %Z} "
                    f"({self.already['remote_id']}); --force publishes again")
        if self.receipt is None:
            return f"{self.target}: dry run: " + "; ".join(p.summary for p in self.payloads)
        return f"{self.target}: published ({self.receipt.remote_id})"


def publish_once(engine: Engine, digest: Digest, publisher: Publisher,
                 clock: Callable[[], datetime], *, dry_run: bool = False,
                 force: bool = False) -> Published:
    """Publish `digest` to `publisher` unless that day was published there already (or
    with `force`); the publication is recorded as soon as the target accepted it."""
    with engine.connect() as conn:
        already = load_publication(conn, digest.day, publisher.name)
    payloads = publisher.prepare(digest)
    if already is not None and not force and not dry_run:
        return Published(publisher.name, payloads, already=already)
    if dry_run:
        return Published(publisher.name, payloads)
    receipt = publisher.send(digest, payloads)
    with engine.begin() as conn:
        save_publication(conn, digest.day, publisher.name, receipt.remote_id, clock(),
                         "lumen" if digest.method == "classic" else digest.method)
    return Published(publisher.name, payloads, receipt)


