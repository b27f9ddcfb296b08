"""Mentions and per-source attention as plain markdown: a mention card is a blockquote
(author, text, date, counts, link) with every field escaped, so it survives Hugo's and
Jekyll's safe defaults, which drop raw HTML; and the pick of a paper's best mentions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from hotpapers.models import Mention, ShownMention, SourceSummary
from hotpapers.render.embed_reader import parse_tweet_embed
from hotpapers.render.md_text import escape_text, link, text_line

__all__ = ["COUNTS", "SOURCE_LABELS", "best_mentions", "card_facts", "count_text",
           "counts_as_of", "mention_card", "score_line", "shown_of",
           "source_counts", "summary_line"]

COUNTS = ("likes", "reposts", "quotes", "replies", "points")
SOURCE_LABELS = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon", "hn": "Hacker News",
                 "reddit": "Reddit", "hf": "Hugging Face", "legacy": "X (as published)"}
_NOUNS = {"likes": ("like", "likes"), "reposts": ("repost", "reposts"),
          "quotes": ("quote", "quotes"), "replies": ("reply", "replies"),
          "points": ("point", "points")}


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def count_text(counts: Iterable[tuple[str, int]], source: str = "") -> str:
    """`340 likes, 1 repost` (zeros left out); Hugging Face's points are upvotes."""
    words = []
    for name, value in counts:
        if not value:
            continue
        one, many = ("upvote", "upvotes") if name == "points" and source == "hf" else \
            _NOUNS.get(name, (name, name))
        words.append(f"{value} {one if value == 1 else many}")
    return ", ".join(words)


def counts_as_of(mention: Mention, as_of: datetime) -> tuple[tuple[str, int], ...]:
    """The mention's counts in its last observation made by `as_of` (none: no counts)."""
    seen = [o for o in mention.observations if _utc(o.observed_at) <= _utc(as_of)]
    if not seen:
        return ()
    last = max(seen, key=lambda o: _utc(o.observed_at))
    return tuple((name, int(getattr(last, name))) for name in COUNTS
                 if getattr(last, name) is not None)


def _live(mentions: Iterable[Mention], as_of: datetime) -> list[Mention]:
    """The mentions made by `as_of` (a mention of unknown time counts)."""
    return [m for m in mentions if m.created_at is None or _utc(m.created_at) <= _utc(as_of)]


def source_counts(mentions: Iterable[Mention], as_of: datetime
                  ) -> dict[str, tuple[tuple[str, int], ...]]:
    """Per source, the counts of its mentions as of `as_of`, summed, in COUNTS order."""
    sums: dict[str, dict[str, int]] = {}
    for mention in _live(mentions, as_of):
        totals = sums.setdefault(mention.source, {})
        for name, value in counts_as_of(mention, as_of):
            totals[name] = totals.get(name, 0) + value
    return {source: tuple((n, totals[n]) for n in COUNTS if n in totals)
            for source, totals in sums.items()}


def shown_of(mention: Mention, as_of: datetime) -> ShownMention:
    """How a post shows `mention`: its link, stored embed, author, text, time and counts."""
    account = mention.account
    return ShownMention(mention.native_id, mention.embed_html, mention.permalink,
                        mention.source, name=account.name if account else None,
                        handle=account.handle if account else None, text=mention.text,
                        created_at=mention.created_at, counts=counts_as_of(mention, as_of))


def best_mentions(mentions: Iterable[Mention], as_of: datetime, per_source: int,
                  order: Sequence[str] = ()) -> list[ShownMention]:
    """At most `per_source` mentions of each source, sources in `order` (the others after,
    by name), each source's most engaged first (counts summed; ties: earliest, then id)."""
    by_source: dict[str, list[ShownMention]] = {}
    for mention in _live(mentions, as_of):
        by_source.setdefault(mention.source, []).append(shown_of(mention, as_of))
    picked = []
    for source in sorted(by_source, key=lambda name: (
            order.index(name) if name in order else len(order), name)):
        ranked = sorted(by_source[source], key=lambda s: (
            -sum(v for _, v in s.counts),
            _utc(s.created_at) if s.created_at else datetime.max.replace(tzinfo=UTC),
            s.native_id))
        picked += ranked[:per_source]
    return picked


def card_facts(mention: ShownMention) -> ShownMention:
    """The mention with its author, text and date read from its X embed HTML when they are
    not known otherwise (a published post keeps only the embed)."""
    if mention.text is not None or mention.source != "x" or not mention.embed_html:
        return mention
    read = parse_tweet_embed(mention.embed_html)
    account = read.account
    return replace(mention, name=mention.name or (account.name if account else None),
                   handle=mention.handle or (account.handle if account else None),
                   text=read.text, created_at=mention.created_at or read.created_at,
                   permalink=mention.permalink or read.permalink)


def _byline(mention: ShownMention) -> str:
    """`**Name** @handle on Source, date`, each part on this one line and escaped."""
    name = text_line(mention.name or "")
    handle = "".join((mention.handle or "").split()).lstrip("@")
    who = [f"**{name}**"] if name else []
    if handle:
        who.append(text_line(f"@{handle}" if mention.source != "hn" else handle))
    where = text_line(SOURCE_LABELS.get(mention.source, mention.source))
    line = " ".join(who) + f" on {where}" if who else where
    if mention.created_at is not None:
        line += f", {_utc(mention.created_at):%Y-%m-%d}"
    return line


def _text_lines(text: str) -> list[str]:
    """Escaped lines, "" between paragraphs; a line followed by another of its paragraph
    ends in two spaces: a hard line break in CommonMark, Goldmark and kramdown alike."""
    out: list[str] = []
    for raw in text.splitlines():
        line = text_line(raw)
        if line:
            if out and out[-1]:
                out[-1] += "  "
            out.append(line)
        elif out and out[-1]:
            out.append("")
    while out and not out[-1]:
        out.pop()
    return out


def mention_card(mention: ShownMention) -> str:
    """The mention as a markdown blockquote: byline, its text (line breaks kept), counts
    and a link to it; nothing in it is HTML or markup but the quote and the link."""
    mention = card_facts(mention)
    lines = [_byline(mention)]
    text = _text_lines(mention.text or "")
    if text:
        lines += ["", *text]
    tail = [count_text(mention.counts, mention.source)] if mention.counts else []
    target = link(f"on {SOURCE_LABELS.get(mention.source, mention.source)}", mention.permalink)
    if target:
        tail.append(target)
    if tail:
        lines += ["", " · ".join(tail)]
    return "\n".join(f"> {line}" if line else ">" for line in lines)


def summary_line(summary: SourceSummary) -> str:
    """`Hacker News: 20 people, 1 post (250 points, 80 replies)`."""
    people = f"{summary.people} {'person' if summary.people == 1 else 'people'}"
    posts = f"{summary.posts} {'post' if summary.posts == 1 else 'posts'}"
    counts = count_text(summary.counts, summary.source)
    label = SOURCE_LABELS.get(summary.source, summary.source)
    return f"{escape_text(label)}: {people}, {posts}" + (f" ({counts})" if counts else "")


def score_line(method: str, score: float, summaries: Iterable[SourceSummary]) -> str:
    """`hot score 3.215: 57 people on 4 sources`."""
    summaries = list(summaries)
    people = sum(s.people for s in summaries)
    sources = f"{len(summaries)} {'source' if len(summaries) == 1 else 'sources'}"
    return (f"{method} score {score:.4g}: {people} {'person' if people == 1 else 'people'} "
            f"on {sources}")
