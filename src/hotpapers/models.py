"""Plain data shared by sources, store, rankers and renderers (no I/O, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "Account",
    "AccountAttention",
    "AccountValue",
    "Mention",
    "Observation",
    "Paper",
    "Post",
    "PostEntry",
    "ShownMention",
    "SiteData",
    "SiteDetails",
    "SiteStamps",
    "SourceSummary",
    "SourceSums",
    "Version",
    "WindowEntry",
    "WindowRanking",
    "strip_controls",
]

T = TypeVar("T")
# C0 control characters but tab and newline are dropped; a carriage return (alone or before
# a newline) becomes a newline. They come in from snapshots and posts, show as nothing or
# break outputs (a NUL makes git take a post for binary, XML feeds may not hold any of them).
_DROP = {c: None for c in range(0x20) if chr(c) not in "\t\n\r"}


@dataclass
class Version:
    """One version of a paper: its number and when it was submitted."""

    number: int
    submitted_at: datetime | None = None
    size: str | None = None


@dataclass
class Paper:
    """An arXiv record, keyed by its versionless id."""

    id: str
    title: str
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # primary first
    abstract: str = ""
    abs_url: str | None = None
    pdf_url: str | None = None
    latest_version: int | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    announced_on: date | None = None
    withdrawn: bool = False
    versions: list[Version] = field(default_factory=list)


@dataclass
class Account:
    """An author account on a source; native_id is '@handle' when only the handle is known."""

    source: str
    native_id: str
    handle: str | None = None
    name: str | None = None
    created_at: datetime | None = None  # when the account was made, when the source says


@dataclass
class Observation:
    """The counts of a mention seen at one time."""

    observed_at: datetime
    likes: int | None = None
    reposts: int | None = None
    quotes: int | None = None
    replies: int | None = None
    points: int | None = None
    via: str = "api"  # "stream" when counted from a live stream


@dataclass
class Mention:
    """One public post on a source that names one or more papers."""

    source: str
    native_id: str
    paper_ids: list[str]
    permalink: str | None = None
    account: Account | None = None
    text: str | None = None
    created_at: datetime | None = None
    kind: str = "post"  # post, quote, reply, story, upvote-page
    embed_html: str | None = None
    observations: list[Observation] = field(default_factory=list)
    parent_native_id: str | None = None  # the quoted or replied-to post


@dataclass
class ShownMention:
    """A mention as a post shows it: its embed HTML when known, else its permalink; and,
    when known, what a card of it shows (author, text, time, counts)."""

    native_id: str
    embed_html: str | None
    permalink: str | None = None
    source: str = "x"
    name: str | None = None
    handle: str | None = None
    text: str | None = None
    created_at: datetime | None = None
    counts: tuple[tuple[str, int], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.native_id)


@dataclass(frozen=True)
class SourceSummary:
    """One source's share of a paper in a hot or trending post: the people and posts the
    ranking counted there, and the counts of those posts (likes, reposts...) summed."""

    source: str
    people: int
    posts: int
    counts: tuple[tuple[str, int], ...] = ()


@dataclass
class PostEntry:
    """One paper of a post: its totals, the time its block was written, the mentions shown;
    in a hot or trending post also its score and per-source summary."""

    paper: Paper
    reposts: int
    likes: int
    written_at: datetime
    shown: list[ShownMention] = field(default_factory=list)
    score: float | None = None
    sources: list[SourceSummary] = field(default_factory=list)


@dataclass
class Post:
    """A ranked day ready to render, by `method` (classic: the original blog's rule);
    `layout` holds the facts a faithful re-render needs."""

    day: date
    generated_at: datetime
    entries: list[PostEntry] = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    method: str = "classic"


@dataclass(frozen=True)
class AccountAttention:
    """What one account did about one paper on one source, as of the ranking's time:
    its distinct posts and their summed counts. `reposts_kept` is the reposts left after
    each post's reposts were capped against its likes (see HotRules.repost_ratio)."""

    paper_id: str
    source: str
    account: str
    posts: int = 1
    likes: int = 0
    reposts: int = 0
    reposts_kept: int | None = None
    quotes: int = 0
    replies: int = 0
    points: int = 0
    first_at: datetime | None = None
    account_created_at: datetime | None = None
    handle: str | None = None


@dataclass(frozen=True)
class AccountValue:
    """One account's value to a paper on a source: what it adds to the source's raw sum."""

    account: str
    posts: int
    value: float


class SourceSums(NamedTuple):
    """The attention one paper has on one source, summed over the accounts that posted
    about it (hotpapers.rank.hot.source_sums): what the hot and trending rankers read. A
    named tuple: a month's ranking makes tens of thousands, five times faster than a
    frozen dataclass."""

    paper_id: str
    source: str
    raw: float  # sum of the accounts' values, in input order
    people: int
    posts: int
    reposts_capped: int  # reposts left out by the repost cap
    new_accounts: int  # accounts created shortly before they posted
    first_at: datetime | None = None  # the earliest post (None: no time known)
    top_accounts: tuple[AccountValue, ...] = ()  # the most valuable, ties in input order


def _strip_text(text: str) -> str:
    if text.isprintable():  # the usual case, found at C speed: no control character
        return text
    cleaned = text.translate(_DROP)  # str.translate: a C loop, fast on clean texts
    if "\r" in cleaned:
        cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
    return text if cleaned == text else cleaned


def strip_controls(value: T) -> T:
    """`value` without C0 control characters (tab and newline kept, a carriage return made
    a newline) in any of its texts: a str, or the strs inside lists, tuples, dicts and
    dataclasses (a copy is made only where something changes). What every text coming in
    goes through before it is stored; `import legacy` alone keeps its posts' bytes."""
    if isinstance(value, str):
        return _strip_text(value)  # type: ignore[return-value]
    if isinstance(value, (list, tuple)):
        items = [strip_controls(item) for item in value]
        changed = any(a is not b for a, b in zip(items, value, strict=True))
        return type(value)(items) if changed else value  # type: ignore[return-value]
    if isinstance(value, dict):
        pairs = [(strip_controls(k), strip_controls(v)) for k, v in value.items()]
        changed = any(a is not k or b is not v
                      for (a, b), (k, v) in zip(pairs, value.items(), strict=True))
        return dict(pairs) if changed else value  # type: ignore[return-value]
    names = getattr(type(value), "__dataclass_fields__", None)
    if names is None:
        return value
    changes: dict[str, Any] = {}
    for name in names:
        old = getattr(value, name)
        if old is None or isinstance(old, (int, float, date)):  # datetime is a date
            continue
        new = strip_controls(old)
        if new is not old:
            changes[name] = new
    return replace(value, **changes) if changes else value  # type: ignore[type-var]


@dataclass
class WindowEntry:
    """A paper of a week's or month's ranking: its score and the stored parts of it."""

    paper: Paper
    score: float
    parts: dict = field(default_factory=dict)  # as `hotpapers explain --json` shows them


@dataclass
class WindowRanking:
    """The ranking of the week or the month ending with a published day, by hot or
    trending, as of that day's ranking (jobs/window_rankings.py)."""

    window: str  # "week" or "month"
    method: str  # "hot" or "trending"
    day: date
    start: date | None
    as_of: datetime
    entries: list[WindowEntry] = field(default_factory=list)


@dataclass
class SiteData:
    """What the static site shows: the posts of one format and the attention behind them,
    and the newest week's and month's rankings."""

    posts: list[Post] = field(default_factory=list)  # newest day first
    mentions: dict[str, list[Mention]] = field(default_factory=dict)  # live, by row id
    totals: dict[str, list[dict]] = field(default_factory=dict)  # paper_attention rows
    windows: list[WindowRanking] = field(default_factory=list)  # week before month


@dataclass
class SiteStamps:
    """The change stamps a site build is keyed by (store/stamps.py): the store's counter,
    its whole-store stamp, and those of the days (ISO) and of the papers the posts show."""

    latest: int = 0
    everything: int = 0
    days: dict[str, int] = field(default_factory=dict)
    papers: dict[str, int] = field(default_factory=dict)


@dataclass
class SiteDetails:
    """The heavy part of the site's data, read for the pages to make only: the mentions
    each day's entries showed (by day and position from 1), the live mentions of papers by
    paper, the mentions those entries may show by (source, native id), paper totals."""

    shown: dict[tuple[date, int], list[ShownMention]] = field(default_factory=dict)
    mentions: dict[str, list[Mention]] = field(default_factory=dict)
    by_key: dict[tuple[str, str], Mention] = field(default_factory=dict)
    totals: dict[str, list[dict]] = field(default_factory=dict)
