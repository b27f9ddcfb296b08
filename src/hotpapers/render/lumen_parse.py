"""Read the original Hot Papers posts (lumen markdown) into structured data, so that the
lumen renderer can write them again byte for byte. Pure: text in, `LegacyPost` out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hotpapers import arxiv_ids
from hotpapers.errors import InputError
from hotpapers.models import Mention, Paper, Post, PostEntry, ShownMention
from hotpapers.render.embed_reader import parse_tweet_embed
from hotpapers.render.lumen import FRONT_MATTER, SOCIAL_IMAGE, STAMP

__all__ = ["LegacyPost", "PostFormatError", "parse_post"]

_LABEL = r"(?P<label>\d{4}-\d\d-\d\d(?: - \d{4}-\d\d-\d\d)?)"
_DATE = r"(?P<date>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(?P<zone>[A-Za-z+\-0-9]*)Z"
_HEADER = re.compile(r"# (?P<n>\d+)\. (?P<title>.*)")
_COUNTS = re.compile(
    r"- retweets: (?P<rt>\d+), favorites: (?P<fav>\d+) "
    r"\((?P<stamp>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d)\)"
)
_LINKS = re.compile(r"- links: \[abs\]\((?P<abs>[^()\s]+)\)(?: \| \[pdf\]\((?P<pdf>[^()\s]+)\))?")
_CATEGORY = re.compile(r"\[(?P<c>[^\]]+)\]\(https://arxiv\.org/list/(?P=c)/recent\)")


class PostFormatError(InputError):
    """A file that is not a Hot Papers post; the message is `file:line: reason`."""


@dataclass
class LegacyPost:
    """A parsed post: the post itself and every tweet it shows, as mentions."""

    post: Post
    mentions: list[Mention]


def _front_matter_pattern() -> re.Pattern[str]:
    """The lumen front matter as a regex: the first {label} captures, the others repeat it."""
    label, backref = re.escape("{label}"), "(?P=label)"
    regex = (re.escape(FRONT_MATTER).replace(re.escape("{date}"), _DATE)
             .replace(re.escape("{image}"), r'(?P<image>[^"\n]*)').replace(label, backref))
    return re.compile(regex.replace(backref, _LABEL, 1))


_FRONT = _front_matter_pattern()


class _Lines:
    """A cursor over the lines of a post that raises `file:line: reason`."""

    def __init__(self, name: str, lines: list[str], first_line: int) -> None:
        self.name, self.lines, self.i, self.offset = name, lines, 0, first_line

    def fail(self, reason: str) -> PostFormatError:
        """An error about the line the cursor is at."""
        return PostFormatError(f"{self.name}:{self.i + self.offset}: {reason}")

    def fail_taken(self, reason: str) -> PostFormatError:
        """An error about the line just taken."""
        return PostFormatError(f"{self.name}:{self.i - 1 + self.offset}: {reason}")

    def peek(self) -> str | None:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def take(self, what: str) -> str:
        line = self.peek()
        if line is None:
            raise self.fail(f"file ends where {what} was expected (truncated?)")
        self.i += 1
        return line

    def blank(self, what: str = "a blank line") -> None:
        line = self.take(what)
        if line != "":
            raise self.fail_taken(f"expected {what}, found {line[:60]!r}")

    def match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        line = self.take(what)
        found = pattern.fullmatch(line)
        if not found:
            raise self.fail_taken(f"expected {what}, found {line[:60]!r}")
        return found


def _utc(text: str, fmt: str, fail: Callable[[str], PostFormatError]) -> datetime:
    try:
        return datetime.strptime(text, fmt).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"not a valid time: {text!r}") from None


def _paper(cur: _Lines, title: str) -> Paper:
    cur.blank()
    authors_line = cur.take("the authors line")
    cur.blank()
    return Paper(id="", title=title, authors=authors_line.split(", ") if authors_line else [])


def _entry(cur: _Lines, number: int, mentions: list[Mention]) -> PostEntry:
    header = cur.match(_HEADER, f"the heading '# {number}. <title>'")
    if int(header["n"]) != number:
        raise cur.fail_taken(f"paper number {header['n']} where {number} was expected")
    paper = _paper(cur, header["title"])
    counts = cur.match(_COUNTS, "'- retweets: N, favorites: N (MM/DD/YYYY HH:MM:SS)'")
    written_at = _utc(counts["stamp"], STAMP, cur.fail_taken)
    cur.blank()
    links = cur.match(_LINKS, "'- links: [abs](URL) | [pdf](URL)'")
    parsed = arxiv_ids.parse(links["abs"])
    if parsed is None:
        raise cur.fail_taken(f"no arXiv id in the abs link {links['abs']!r}")
    paper.id, paper.latest_version = parsed.id, parsed.version
    paper.abs_url, paper.pdf_url = links["abs"], links["pdf"]
    categories_line = cur.take("the categories line")
    paper.categories = _CATEGORY.findall(categories_line)
    rebuilt = " | ".join(f"[{c}](https://arxiv.org/list/{c}/recent)" for c in paper.categories)
    if categories_line != f"- {rebuilt}":
        raise cur.fail_taken(f"expected the categories line, found {categories_line[:60]!r}")
    cur.blank()
    paper.abstract = cur.take("the abstract")
    cur.blank()
    shown = []
    while cur.peek():
        lines = []
        while cur.peek():
            lines.append(cur.take("an embedded tweet"))
        cur.blank()
        mention = parse_tweet_embed("\n".join(lines) + "\n")
        mention.paper_ids = [paper.id]
        mentions.append(mention)
        shown.append(ShownMention(native_id=mention.native_id, embed_html=mention.embed_html))
    cur.blank("the blank lines closing the paper")
    cur.blank("the blank lines closing the paper")
    return PostEntry(
        paper=paper,
        reposts=int(counts["rt"]),
        likes=int(counts["fav"]),
        written_at=written_at,
        shown=shown,
    )


def _check_text(name: str, data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if b"\x00" in data:
        raise PostFormatError(f"{name}:1: binary data, not a post")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostFormatError(f"{name}:{line}: not UTF-8 text") from None


def parse_post(data: bytes | str, name: str = "<post>") -> LegacyPost:
    """Parse one post; raises PostFormatError naming the file and line of the first problem."""
    text = _check_text(name, data)
    front = _FRONT.match(text)
    if not front:
        if text.startswith("---\r\n"):
            raise PostFormatError(f"{name}:1: Windows line endings (CRLF); posts use LF")
        if not text.startswith("---\n"):
            raise PostFormatError(f"{name}:1: no front matter ('---' expected on the first line)")
        raise PostFormatError(f"{name}:1: front matter is not that of a Hot Papers post")
    first_line = text.count("\n", 0, front.end()) + 1
    if not text.endswith("\n"):
        line = text.count("\n") + 1
        raise PostFormatError(f"{name}:{line}: the last line has no newline (truncated?)")
    lines = text[front.end():].split("\n")[:-1]  # the text ends with a newline
    cur = _Lines(name, lines, first_line)
    blanks = next((i for i, line in enumerate(lines) if line), len(lines))
    has_papers = blanks < len(lines)
    cur.i = max(blanks - 1, 0) if has_papers else blanks  # a paper starts with its blank line
    mentions: list[Mention] = []
    entries = []
    while cur.i < len(lines):
        cur.blank("a blank line before the next paper")
        entries.append(_entry(cur, len(entries) + 1, mentions))
    label = front["label"]
    try:
        day = date.fromisoformat(label[:10])
        date.fromisoformat(label[-10:])
    except ValueError:
        raise PostFormatError(f"{name}:2: not a valid date in the title: {label!r}") from None
    layout: dict = {}
    if label != day.isoformat():
        layout["label"] = label
    if blanks > int(has_papers):
        layout["extra_lead_blank_lines"] = blanks - int(has_papers)
    if front["zone"]:
        layout["date_zone"] = front["zone"]
    if front["image"] != SOCIAL_IMAGE:
        layout["social_image"] = front["image"]
    generated = _utc(front["date"], "%Y-%m-%dT%H:%M:%S",
                     lambda reason: PostFormatError(f"{name}:3: {reason}"))
    post = Post(day=day, generated_at=generated, entries=entries, layout=layout)
    return LegacyPost(post=post, mentions=mentions)
