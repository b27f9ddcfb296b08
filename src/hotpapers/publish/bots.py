"""The digest as a short thread of bot posts, shared by the Bluesky and Mastodon publishers:
a head post naming the day, then one post per paper (the top `publish_top_n`), each with its
rank, title and link. Pure text building: each target says what fits through a `fits(text)`
test, and a title too long is shortened with "…" (at a grapheme boundary) so the post fits.
A link is never cut."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex

from hotpapers.errors import NothingToDo, PublishError
from hotpapers.publish.base import Digest, DigestPaper, Payload

__all__ = [
    "ELLIPSIS",
    "BotPost",
    "Link",
    "build_thread",
    "clip",
    "grapheme_count",
    "made_so_far",
    "one_line",
    "payload_items",
    "shorten",
]

ELLIPSIS = "…"
THREAD = "🧵"
SUMMARY_GRAPHEMES = 100  # a paper's summary line is cut to this many graphemes
MIN_TITLE_GRAPHEMES = 40  # a summary line is left out rather than cutting the title below this
MAX_FIELD_CHARS = 4000  # any free-text field is cut to this many code points before fitting
_GRAPHEME = regex.compile(r"\X")

Fits = Callable[[str], bool]


def graphemes(text: str) -> list[str]:
    """The user-perceived characters (extended grapheme clusters) of `text`."""
    return _GRAPHEME.findall(text)


def grapheme_count(text: str) -> int:
    """How many user-perceived characters `text` has: a flag, an emoji with its skin tone or
    a letter with combining accents count one each."""
    return len(graphemes(text))


def one_line(text: str) -> str:
    """`text` with every run of white space (line breaks too) as one space, stripped."""
    return " ".join(text.split())


def clip(text: str, limit: int = MAX_FIELD_CHARS) -> str:
    """`text` on one line (see `one_line`), its first `limit` code points only, ending
    with "…" when cut: a field of any size costs the same to fit into a post."""
    if len(text) <= limit:
        return one_line(text)
    head = graphemes(text[:limit])[:-1]  # the last cluster may have been cut in two
    return one_line("".join(head)) + ELLIPSIS


def shorten(text: str, keep: int) -> str:
    """`text` itself when it has at most `keep` graphemes, else its first `keep` graphemes
    (trailing spaces dropped) followed by "…"."""
    parts = graphemes(text)
    if keep >= len(parts):
        return text
    return "".join(parts[:max(keep, 0)]).rstrip() + ELLIPSIS


@dataclass(frozen=True)
class Link:
    """A URL standing in a post's text at code-point offsets [start, end)."""

    url: str
    start: int
    end: int


@dataclass(frozen=True)
class BotPost:
    """One post of the thread: its text, the links in it, and its paper (None: the head)."""

    text: str
    links: tuple[Link, ...] = ()
    paper: DigestPaper | None = None


def _fitted(before: str, flexible: str, after: str, fits: Fits) -> str | None:
    """`flexible`, shortened by as few graphemes as needed for `before + it + after` to fit;
    None when not even "…" fits."""
    if fits(before + flexible + after):
        return flexible
    count = grapheme_count(flexible)
    if count == 0 or not fits(before + shorten(flexible, 0) + after):
        return None
    low, high = 0, count - 1  # `low` graphemes kept always fits
    while low < high:
        middle = (low + high + 1) // 2
        if fits(before + shorten(flexible, middle) + after):
            low = middle
        else:
            high = middle - 1
    return shorten(flexible, low)


def _post(before: str, flexible: str, after: str, url: str | None, fits: Fits,
          paper: DigestPaper | None = None) -> BotPost | None:
    """The post `before + flexible + after` (flexible shortened to fit) whose `after` ends
    with `url`, or None when it cannot fit."""
    fitted = _fitted(before, flexible, after, fits)
    if fitted is None:
        return None
    text = before + fitted + after
    links = (Link(url, len(text) - len(url), len(text)),) if url else ()
    return BotPost(text, links, paper)


def head_post(digest: Digest, count: int, fits: Fits, target: str) -> BotPost:
    """The head post: '<title>: the top N papers by the <method> ranking, one per reply 🧵',
    then the day's page on its own line when there is one."""
    noun = "the top paper" if count == 1 else f"the top {count} papers"
    replies = "in the reply" if count == 1 else "one per reply"
    after = f": {noun} by the {digest.method} ranking, {replies} {THREAD}"
    if digest.url:
        after += f"\n{digest.url}"
    post = _post("", clip(digest.title) or digest.day.isoformat(), after, digest.url, fits)
    if post is None:
        raise PublishError(f"{target}: the head post of {digest.day} cannot fit in one post "
                           f"(is the day's URL {len(digest.url or '')} characters long?)")
    return post


def paper_post(paper: DigestPaper, fits: Fits, target: str) -> BotPost:
    """A paper's post: '<rank>. <title>', its summary line when that fits with most of the
    title, and its link on the last line."""
    title = clip(paper.title) or clip(paper.id)
    before, link = f"{paper.rank}. ", f"\n{paper.url}"
    summary = shorten(clip(paper.summary), SUMMARY_GRAPHEMES)
    if summary:
        after = f"\n{summary}{link}"
        fitted = _fitted(before, title, after, fits)
        if fitted is not None and (fitted == title
                                   or grapheme_count(fitted) > MIN_TITLE_GRAPHEMES):
            return _post(before, fitted, after, paper.url, fits, paper)
    post = _post(before, title, link, paper.url, fits, paper)
    if post is None:
        raise PublishError(f"{target}: paper {paper.id}: its link ({len(paper.url)} "
                           "characters) leaves no room for the title in one post")
    return post


def build_thread(digest: Digest, top_n: int, fits: Fits, target: str) -> list[BotPost]:
    """The head post then one post per paper of the digest's top `top_n`, each made to
    pass `fits`. NothingToDo when the digest has no paper; PublishError when a link is so
    long that a post cannot hold it."""
    papers = sorted(digest.papers, key=lambda p: p.rank)[:top_n]
    if not papers:
        raise NothingToDo(f"{target}: the digest of {digest.day} has no paper to post")
    return ([head_post(digest, len(papers), fits, target)]
            + [paper_post(paper, fits, target) for paper in papers])


def payload_items(payloads: list[Payload], fits: Callable[[Any], bool], target: str,
                  what: str, noun: str) -> list[dict[str, Any]]:
    """The items of a thread's payloads, each a JSON list of items that pass `fits`; a
    PublishError naming `target` for a payload that is not, or when there is no item."""
    items: list[dict[str, Any]] = []
    for payload in payloads:
        try:
            body = json.loads(payload.body)
        except ValueError:
            body = None
        if not isinstance(body, list) or not all(isinstance(i, dict) and fits(i) for i in body):
            raise PublishError(f"{target}: the payload is not a JSON list of {what}")
        items.extend(body)
    if not items:
        raise PublishError(f"{target}: there is no {noun} to send")
    return items


def made_so_far(made: list[str], noun: str, nouns: str, verb: str) -> str:
    """What a thread that failed part-way left behind: "2 posts were made: URI, URI" or
    "no post was made", so nothing is silently half-done."""
    if not made:
        return f"no {noun} was {verb}"
    were = f"{noun} was" if len(made) == 1 else f"{nouns} were"
    return f"{len(made)} {were} {verb}: {', '.join(made)}"
