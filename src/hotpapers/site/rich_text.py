"""A mention's text as a site card shows it: paragraphs of lines, each line a run of pieces
that are plain text or links, so that the post reads as it was written (line breaks kept,
its URLs and @handles links).

Linking is careful: a piece's target is an http(s) URL that `render.links.http_url`
accepted (spaces, quotes and brackets percent-encoded), never anything else (`javascript:`,
`data:` and the like stay text); a URL the source shortened for display (ending in `...`
or `…`) stays text, as its target is not known; the shown text is the text as stored,
escaped by the templates. Pure, no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote

from hotpapers.render.links import http_url

__all__ = ["Piece", "handle_link", "paragraphs", "pieces"]

# Bidirectional controls are never part of a link: they could make its text read backwards.
_NOT_URL = "\\s<>\"\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TOKEN = re.compile(
    rf"(?P<url>https?://[^{_NOT_URL}]+)"
    # a bare address (pic.twitter.com/..., Bluesky's shortened link text): host and a path
    rf"|(?<![\w@./:-])(?P<bare>(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{{2,24}}"
    rf"/[^{_NOT_URL}]*)"
    # @name, @name.domain (Bluesky), @name@host (Mastodon)
    r"|(?<![\w@])@(?P<handle>[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?"
    r"(?:@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.[a-z]{2,24})?)",
    re.IGNORECASE)
_WORD = re.compile(r"\S+")
_TRAILING = ".,;:!?'\"”’»"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_X_HANDLE = re.compile(r"\w{1,15}", re.ASCII)
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_HANDLES_IN_TEXT = ("x", "bluesky", "mastodon")  # where "@name" in a post names an account


@dataclass(frozen=True)
class Piece:
    """Text as stored; `href`, when set, is a checked http(s) URL it links to."""

    text: str
    href: str | None = None


def _trimmed(url: str) -> str:
    """`url` without the punctuation that ends the sentence around it: trailing dots,
    commas, quotes, and closing brackets it does not open."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS
                                 and url.count(last) > url.count(_CLOSERS[last])):
            url = url[:-1]
        else:
            break
    return url


def handle_link(handle: str, source: str) -> str | None:
    """The profile page of `handle` (without its @) on `source`, when the handle has the
    shape that source gives handles; else None."""
    if source == "x" and _X_HANDLE.fullmatch(handle):
        return f"https://x.com/{handle}"
    if source == "bluesky" and _DOMAIN.fullmatch(handle):
        return f"https://bsky.app/profile/{handle.lower()}"
    if source == "mastodon" and handle.count("@") == 1:
        name, host = handle.split("@")
        if _NAME.fullmatch(name) and _DOMAIN.fullmatch(host):
            return f"https://{host.lower()}/@{quote(name)}"
    if source == "hn" and _NAME.fullmatch(handle):
        return f"https://news.ycombinator.com/user?id={quote(handle)}"
    if source == "reddit" and _NAME.fullmatch(handle):
        return f"https://www.reddit.com/user/{quote(handle)}"
    return None


def _link(match: re.Match[str], source: str) -> tuple[str, str | None]:
    """The text a token covers and its target (None: it stays text)."""
    if match["handle"]:
        handle = match["handle"]
        if source == "x":  # letters, digits and _ only: what follows is not the handle's
            handle = _X_HANDLE.match(handle)[0]  # the pattern starts with one of those
        linked = source in _HANDLES_IN_TEXT
        return "@" + handle, handle_link(handle, source) if linked else None
    raw = match["url"] or match["bare"]
    if raw.endswith(("...", "…")):  # shortened for display: the whole address is unknown
        return raw, None
    url = _trimmed(raw)
    return url, http_url(url if match["url"] else "https://" + url)


def _matches(line: str):
    """The tokens of a line, found in its words that hold a `/` or an `@` only (no token
    spans a space; scanning the other words is most of the cost): (start, match) pairs."""
    for word in _WORD.finditer(line):
        if "/" in word[0] or "@" in word[0]:
            for match in _TOKEN.finditer(word[0]):
                yield word.start(), match


def pieces(line: str, source: str = "") -> tuple[Piece, ...]:
    """One line of text as pieces: its URLs (http and https, and bare `host.tld/path`)
    and, on X, Bluesky and Mastodon, its @handles linked; everything else plain text."""
    found: list[Piece] = []
    start = 0
    for offset, match in _matches(line):
        text, href = _link(match, source)
        if href is None:
            continue
        at = offset + match.start()
        if at > start:
            found.append(Piece(line[start:at]))
        found.append(Piece(text, href))
        start = at + len(text)
    if start < len(line):
        found.append(Piece(line[start:]))
    merged: list[Piece] = []  # plain pieces side by side made one
    for piece in found:
        if merged and piece.href is None and merged[-1].href is None:
            merged[-1] = Piece(merged[-1].text + piece.text)
        else:
            merged.append(piece)
    return tuple(merged)


@functools.lru_cache(maxsize=8192)  # a mention shows on its day's and its paper's pages
def paragraphs(text: str, source: str = "") -> tuple[tuple[tuple[Piece, ...], ...], ...]:
    """The text's paragraphs (split at blank lines), each a tuple of its lines as pieces."""
    out: list[list[tuple[Piece, ...]]] = []
    blank = True
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip():
            blank = True
            continue
        if blank:
            out.append([])
            blank = False
        out[-1].append(pieces(line, source))
    return tuple(tuple(p) for p in out)
