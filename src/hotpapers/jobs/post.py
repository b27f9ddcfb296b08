"""A day's post: the published post of a day as it was published, else the day's classic
ranking with its shown tweets. Read in one go, missing tweet embeds fetched with no
transaction open, assembled purely, then one short transaction caches and keeps it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.jobs.ranking import classic_ranking, stored_parts
from hotpapers.jobs.window_rankings import fill_window_rankings, keep_window_rankings
from hotpapers.models import Paper, Post, strip_controls
from hotpapers.render.assemble import Embeds, PostRow, assemble_post
from hotpapers.render.lumen import file_name, render_lumen
from hotpapers.render.markdown import FLAVORS, file_name_for, render_markdown
from hotpapers.sources.x.oembed import TweetEmbeds
from hotpapers.store.mentions import load_embeds, mention_ids, save_embed
from hotpapers.store.papers import load_papers
from hotpapers.store.posts import StoredRanking, load_post, save_post, save_ranking

__all__ = ["FORMATS", "DayInputs", "DayPost", "RenderedPost", "fetch_embeds", "make_post",
           "read_day", "render_post", "tweet_embeds", "write_post"]

FORMATS = ("lumen", *FLAVORS)
Fetch = Callable[[str], str | None]


@dataclass
class DayInputs:
    """What a day's post is made from, read in one go: the day's published post, or else
    its classic ranking, the rows a post shows of it, their papers and the stored embeds."""

    stored: Post | None = None
    ranking: StoredRanking | None = None
    rows: list[PostRow] = field(default_factory=list)
    papers: dict[str, Paper] = field(default_factory=dict)
    embeds: dict[tuple[str, str], tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class DayPost:
    """A day's post; `ranking` is the ranking it was assembled from by this call (None for
    the post of a day published before), `kept` whether this call stored both."""

    post: Post
    ranking: StoredRanking | None = None
    kept: bool = False


@dataclass(frozen=True)
class RenderedPost:
    """A post as one format writes it: its file name and its text."""

    name: str
    text: str


def read_day(conn: Connection, day: date, settings: Settings, now: datetime) -> DayInputs:
    """The day's published post, or what a post of it ranked `now` is made from."""
    stored = load_post(conn, day, "lumen")
    if stored is not None:
        return DayInputs(stored=stored)
    ranking, shown = classic_ranking(conn, day, settings, now)
    parts = stored_parts(ranking)
    rows = [PostRow(r.paper_id, p.reposts, p.likes, tuple(shown.get(r.paper_id, [])))
            for r, p in zip(ranking.rows, parts, strict=True)]
    papers = load_papers(conn, [r.paper_id for r in rows])
    embeds = load_embeds(conn, [key for row in rows for key in row.shown])
    return DayInputs(ranking=ranking, rows=rows, papers=papers, embeds=embeds)


def fetch_embeds(embeds: Embeds, fetch: Fetch, warn: Callable[[str], None]
                 ) -> dict[tuple[str, str], str]:
    """The embed HTML of the X posts in `embeds` that have none yet, as it will be stored
    (control characters dropped); network only, no store. The first failure is reported
    through `warn` and ends the fetching: the posts left get the bare blockquote that X's
    widget expands."""
    fetched = {}
    for (source, native_id), (permalink, html) in embeds.items():
        if html is not None or source != "x" or not permalink:
            continue
        try:
            html = fetch(permalink)
        except SourceError as exc:
            warn(f"tweet embeds: {exc}; the remaining tweets are shown as bare links")
            break
        if html is not None:
            fetched[(source, native_id)] = strip_controls(html)
    return fetched


def _store(conn: Connection, day_post: DayPost, fetched: dict[tuple[str, str], str],
           keep: bool, settings: Settings, now: datetime) -> DayPost:
    """Cache the fetched embeds; with `keep`, store the ranking and the post as the day's
    published one (with the week's and month's rankings), unless another run published the
    day while the embeds were fetched: then that post is the day's."""
    for key, html in fetched.items():
        save_embed(conn, key, html)
    if not keep:
        return day_post
    published = load_post(conn, day_post.post.day, "lumen")
    if published is not None:
        return DayPost(published)
    post, ranking = day_post.post, day_post.ranking
    ranking_id = save_ranking(conn, ranking, now)
    keys = [m.key for e in post.entries for m in e.shown]
    save_post(conn, post, "lumen", mention_ids(conn, keys), ranking_id)
    keep_window_rankings(conn, post.day, settings, ranking.as_of, now)
    return DayPost(post, ranking, kept=True)


def make_post(engine: Engine, day: date, settings: Settings, now: datetime, *,
              keep: bool = False, embed: Fetch | None = None,
              warn: Callable[[str], None] = lambda _: None) -> DayPost:
    """The day's lumen post: as stored when the day was published (same as-of, same
    bytes), else ranked now; with `keep`, that post is stored as the day's published one.
    `embed` fetches the embed HTML of a tweet URL for shown tweets that have none: it runs
    with no transaction open, and what it returns is cached in the store."""
    with engine.connect() as conn:
        inputs = read_day(conn, day, settings, now)
    if inputs.stored is not None:
        if keep:
            fill_window_rankings(engine, day, "classic", settings, now)
        return DayPost(inputs.stored)
    fetched = fetch_embeds(inputs.embeds, embed, warn) if embed is not None else {}
    embeds = {key: (link, fetched.get(key, html)) for key, (link, html) in inputs.embeds.items()}
    post = assemble_post(inputs.rows, inputs.papers, embeds, day=day, written_at=now)
    made = DayPost(post, inputs.ranking)
    if not fetched and not keep:
        return made
    with engine.begin() as conn:
        return _store(conn, made, fetched, keep, settings, now)


def write_post(engine: Engine, day: date, settings: Settings, now: datetime, *,
               keep: bool = False, embed: Fetch | None = None,
               warn: Callable[[str], None] = lambda _: None) -> Post:
    """The day's lumen post (see make_post)."""
    return make_post(engine, day, settings, now, keep=keep, embed=embed, warn=warn).post


def tweet_embeds(settings: Settings) -> Fetch | None:
    """What fetches a tweet's embed HTML from X's oEmbed endpoint; None when x_oembed_url
    is "" (shown tweets without stored HTML stay bare links, and nothing is asked)."""
    return TweetEmbeds(settings).embed if settings.x_oembed_url else None


def render_post(post: Post, fmt: str, settings: Settings) -> RenderedPost:
    """`post` in `fmt`: lumen (the original blog's format, named by post_filename), or
    hugo, jekyll or markdown."""
    if fmt == "lumen":
        return RenderedPost(file_name(post, settings.post_filename), render_lumen(post))
    return RenderedPost(file_name_for(post, fmt), render_markdown(post, fmt))
