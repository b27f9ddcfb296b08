"""Helpers the attention sources share: request counting and lookups by id, one-line errors
for bodies that are not the JSON expected, readers of counts, times and HTML, and a filter."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal

import httpx

from hotpapers.errors import SourceError
from hotpapers.http import Clock, source_http
from hotpapers.models import Mention
from hotpapers.secrets import scrub
from hotpapers.sources.base import Refreshed, SourceReport, Span

__all__ = [
    "HttpSource", "NewMentions", "count", "first_line", "html_text_and_links", "json_body",
    "one_line", "parse_time", "plural", "utc_time",
]

Naive = Literal["utc", "none"]
_JSON_NAMES = {dict: "object", list: "list"}
_BLOCKS = frozenset({"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})


class HttpSource:
    """A source over one polite HTTP client: its clock, its client and its report, whose
    `requests` follows the client's count through `_request`, failed requests included."""

    name: str

    def __init__(self, settings: Any, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.clock = clock or Clock()
        self.http = source_http(settings, self.clock, transport, headers=headers)
        self.report = SourceReport()

    def _request(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        """`self.http.request(method, url, what=what, **kwargs)`, counted in the report."""
        try:
            return self.http.request(method, url, what=what, **kwargs)
        finally:
            self.report.requests = self.http.requests

    def _look_up_each(self, native_ids: Iterable[str], prefix: str, noun: str,
                      parse: Callable[[Any, datetime], Mention | None]) -> Refreshed:
        """One GET of `prefix/ID` per id, named "NAME: NOUN ID". A 404, or a JSON body that
        `parse` makes None of, is gone; what `parse` cannot read fails the lookup."""
        result = Refreshed()
        for native_id in native_ids:
            what = f"{self.name}: {noun} {native_id}"
            response = self._request("GET", f"{prefix}/{native_id}", what, accept=(404,))
            if response.status_code == 404:
                result.gone.append(native_id)
                continue
            try:
                mention = parse(json_body(response, what), self.clock.now())
            except (ValueError, OverflowError, OSError) as exc:
                raise SourceError(f"{what}: {exc}") from None
            if mention is None:
                result.gone.append(native_id)
            else:
                result.mentions.append(mention)
        return result


class NewMentions:
    """The mentions of one run worth yielding: each names a paper, was created in the window
    and was not kept before. A None among those read is counted in `malformed`."""

    def __init__(self, window: Span) -> None:
        self.window = window
        self.seen: set[str] = set()
        self.malformed = 0

    def __call__(self, read: Iterable[Mention | None]) -> Iterator[Mention]:
        for mention in read:
            if mention is None:
                self.malformed += 1
            elif (mention.paper_ids and mention.created_at in self.window
                  and mention.native_id not in self.seen):
                self.seen.add(mention.native_id)
                yield mention


def json_body(response: httpx.Response, what: str, expected_type: type | None = None, *,
              lead: str = "the answer is",
              detail: Callable[[httpx.Response], str] | None = None) -> Any:
    """The JSON body of a response, an instance of `expected_type` (dict or list) when one is
    given. SourceError in one line otherwise: "WHAT: LEAD not JSON (DETAIL)", with
    `detail(response)` when given, or "WHAT: LEAD not a JSON object"."""
    try:
        body = response.json()
    except ValueError:
        more = f" ({detail(response)})" if detail is not None else ""
        raise SourceError(f"{what}: {lead} not JSON{more}") from None
    if expected_type is not None and not isinstance(body, expected_type):
        name = _JSON_NAMES.get(expected_type, expected_type.__name__)
        raise SourceError(f"{what}: {lead} not a JSON {name}")
    return body


def count(value: Any) -> int | None:
    """`value` when it is an int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_time(text: str, *, naive: Naive = "utc") -> datetime:
    """An ISO 8601 timestamp as a UTC datetime. A time without a zone is taken as UTC
    (naive="utc") or refused (naive="none"); ValueError when it is not ISO 8601 or refused,
    TypeError when `text` is not a string."""
    when = datetime.fromisoformat(text)
    if when.tzinfo is not None:
        return when.astimezone(UTC)
    if naive == "none":
        raise ValueError(f"{text!r} has no zone")
    return when.replace(tzinfo=UTC)


def utc_time(value: Any, *, naive: Naive = "utc") -> datetime | None:
    """Like `parse_time`, but None when `value` is not a string or not a time it accepts."""
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value, naive=naive)
    except ValueError:
        return None


def one_line(text: str, limit: int = 160) -> str:
    """`text` with every run of white space (line breaks too) as one space, cut to `limit`;
    secrets are scrubbed before the cut, so that no piece of one is left."""
    return " ".join(scrub(text).split())[:limit]


def first_line(text: str, limit: int = 200) -> str:
    """The first line of `text` that is not blank, cut to `limit` (scrubbed of secrets
    first); "" when there is none."""
    stripped = scrub(text).strip()
    return stripped.splitlines()[0][:limit] if stripped else ""


def plural(number: int, noun: str, nouns: str | None = None) -> str:
    """"1 post", "2 posts"; `nouns` for a plural not made with -s ("entries")."""
    return f"{number} {noun if number == 1 else (nouns or noun + 's')}"


class _TextAndLinks(HTMLParser):
    """Collects the text of an HTML fragment (paragraphs apart, <br> as a new line) and the
    href of every link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text_and_links(fragment: str | None) -> tuple[str, list[str]]:
    """The plain text of an HTML fragment and the href values of its links. Text hidden by
    CSS (Mastodon's `invisible` spans holding a link's scheme and tail) is kept, so that a
    link's text is the whole URL."""
    parser = _TextAndLinks()
    parser.feed(fragment or "")
    parser.close()
    lines = "".join(parser.parts).split("\n")
    text = "\n".join(" ".join(line.split()) for line in lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip(), parser.links
