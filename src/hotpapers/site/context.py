"""What the site's templates get: plain dataclasses built from the store's models (no I/O).

Every text stays as stored (the templates escape it); every outside link is http(s) or
left out; every inside link is a root-relative path under the site's base path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote

from hotpapers.models import Account, Mention, Observation, Paper, Post, PostEntry, ShownMention
from hotpapers.render.cards import COUNTS, SOURCE_LABELS, count_text
from hotpapers.render.links import base_path, http_url, paper_path, paper_slug
from hotpapers.render.lumen import label_of, tweet_embed
from hotpapers.site.charts import Attention, Sparkline, sparkline, total_series
from hotpapers.site.embeds import clean_embed, widget_of
from hotpapers.site.rich_text import Piece, handle_link, paragraphs

__all__ = [
    "COUNTS", "Attention", "DayView", "MentionCard", "PaperView", "Sparkline", "base_path",
    "day_cards", "day_path", "day_view", "http_url", "mention_card", "paper_path", "paper_slug",
    "paper_view", "shown_card", "sparkline", "total_series",
]


# -- places ---------------------------------------------------------------------------------

def day_path(base: str, post: Post) -> str:
    return f"{base}/{post.day.isoformat()}/"


def _when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.date().isoformat()


# -- mentions -------------------------------------------------------------------------------

@dataclass
class MentionCard:
    """A mention as a static card (and its stored embed, for the oEmbed mode): its text
    as paragraphs of lines of pieces (site/rich_text.py), URLs and @handles linked."""

    source: str
    source_label: str
    name: str | None
    handle: str | None  # as shown: "@name", but a bare name on Hacker News
    date: str | None
    text: str
    counts: list[tuple[str, int]]
    url: str | None
    embed_html: str | None = None  # cleaned (site/embeds.py), never as stored
    widget: str | None = None  # the platform script its embed needs
    paragraphs: tuple[tuple[tuple[Piece, ...], ...], ...] = ()
    profile: str | None = None  # the author's page on the source (http(s) only)

    @property
    def count_line(self) -> str:
        """`15 likes, 5 reposts` (zeros left out; Hugging Face's points are upvotes)."""
        return count_text(self.counts, self.source)


def _latest(observations: Sequence[Observation]) -> Observation | None:
    return max(observations, key=lambda o: o.observed_at, default=None)


def mention_card(mention: Mention | None, shown: ShownMention | None = None,
                 embeds: str = "static") -> MentionCard:
    """A card from a stored mention and/or the way a post showed it. The embed HTML is
    kept only in the oEmbed mode: the post's as published, else the mention's, cleaned to
    the platforms' blockquote markup (its widget script goes once on the page)."""
    source = mention.source if mention else (shown.source if shown else "x")
    account = mention.account if mention else None
    last = _latest(mention.observations) if mention else None
    counts = [(name, int(getattr(last, name))) for name in COUNTS
              if last is not None and getattr(last, name) is not None]
    url = http_url(mention.permalink if mention else None) or http_url(
        shown.permalink if shown else None)
    embed = None
    if embeds == "oembed":
        if shown is not None:
            embed = tweet_embed(shown) if source == "x" else shown.embed_html
        embed = clean_embed(embed or (mention.embed_html if mention else None) or "") or None
    handle = "".join(((account.handle if account else None) or "").split()).lstrip("@")
    text = (mention.text if mention else None) or ""
    return MentionCard(
        source=source, source_label=SOURCE_LABELS.get(source, source),
        name=(account.name if account else None) or None,
        handle=(handle if source == "hn" else f"@{handle}") if handle else None,
        date=_when(mention.created_at) if mention else None, text=text,
        counts=counts, url=url, embed_html=embed, widget=widget_of(embed) if embed else None,
        paragraphs=paragraphs(text, source), profile=_profile(account, handle, source))


def _profile(account: Account | None, handle: str, source: str) -> str | None:
    """The author's page: a Mastodon account's id is its URL; else made from the handle."""
    found = http_url(account.native_id) if account is not None and source == "mastodon" \
        else None
    return found or (handle_link(handle, source) if handle else None)


def shown_card(shown: ShownMention, mentions: dict[tuple[str, str], Mention],
               embeds: str = "static") -> MentionCard:
    return mention_card(mentions.get(shown.key), shown, embeds)


# -- papers and days --------------------------------------------------------------------------

@dataclass
class PaperView:
    id: str
    url: str
    title: str
    authors: list[str]
    categories: list[tuple[str, str | None]]  # (name, its page or None)
    abstract: str
    abs_url: str
    pdf_url: str | None
    rank: int | None = None
    reposts: int | None = None
    likes: int | None = None
    mentions: list[MentionCard] = field(default_factory=list)
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    submitted: str | None = None
    days: list[tuple[str, str, int]] = field(default_factory=list)  # (day, url, rank)
    attention: Attention | None = None  # per source, made with its page (site/charts.py)

    @property
    def author_line(self) -> str:
        return ", ".join(self.authors)


def paper_view(paper: Paper, base: str, known_categories: set[str],
               entry: PostEntry | None = None, rank: int | None = None) -> PaperView:
    abs_url = http_url(paper.abs_url) or f"https://arxiv.org/abs/{quote(paper.id)}"
    return PaperView(
        id=paper.id, url=paper_path(base, paper.id), title=paper.title or "",
        authors=list(paper.authors),
        categories=[(c, f"{base}/categories/{c}/" if c in known_categories else None)
                    for c in paper.categories],
        abstract=paper.abstract or "", abs_url=abs_url, pdf_url=http_url(paper.pdf_url),
        rank=rank, reposts=entry.reposts if entry else None,
        likes=entry.likes if entry else None, comments=paper.comments,
        journal_ref=paper.journal_ref, doi=paper.doi, submitted=_when(paper.submitted_at))


@dataclass
class DayView:
    """A day; its papers' views are made when first asked for (a rebuild shows few days)."""

    day: str
    label: str
    url: str
    generated: str
    count: int  # its papers
    made: list[PaperView] | None = None
    maker: Callable[[], list[PaperView]] | None = field(default=None, repr=False)

    @property
    def papers(self) -> list[PaperView]:
        if self.made is None:
            self.made = self.maker() if self.maker is not None else []
            self.maker = None
        return self.made


def _paper_views(post: Post, base: str, known_categories: set[str]) -> list[PaperView]:
    return [paper_view(entry.paper, base, known_categories, entry, rank)
            for rank, entry in enumerate(post.entries, start=1)]


def day_view(post: Post, base: str, known_categories: set[str],
             mentions: dict[tuple[str, str], Mention] | None, embeds: str = "static"
             ) -> DayView:
    """The day's view; with `mentions`, its papers' views and their mention cards are made
    now, else when asked for, without cards (see day_cards)."""
    day = DayView(day=post.day.isoformat(), label=label_of(post), url=day_path(base, post),
                  generated=_when(post.generated_at) or "", count=len(post.entries),
                  maker=partial(_paper_views, post, base, known_categories))
    if mentions is not None:
        day_cards(day.papers, post, mentions, embeds)
    return day


def day_cards(papers: list[PaperView], post: Post,
              mentions: dict[tuple[str, str], Mention], embeds: str = "static") -> None:
    """Give a day's paper views the cards of the mentions their entries show."""
    for view, entry in zip(papers, post.entries, strict=True):
        view.mentions = [shown_card(s, mentions, embeds) for s in entry.shown]
