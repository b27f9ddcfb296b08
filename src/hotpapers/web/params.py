"""The query parameters the board, the feeds and the API share (a ranking's day, method,
window, filters and page), checked by FastAPI: a bad one is a 422 naming it."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query as Param
from fastapi import Request
from pydantic import BeforeValidator

from hotpapers.jobs.browse import Query
from hotpapers.jobs.ranking import Method, Window

__all__ = ["BadParameter", "Day", "Page", "RankingParams", "cursor_of", "page_link",
           "page_params", "ranking_params"]

TEXT = 200  # longest text a parameter takes
MAX_VALUES = 20  # values of one repeatable parameter
MAX_LIMIT = 200
DEFAULT_LIMIT = 30
# a cursor's text: the rows skipped, then maybe "~" and the paper id the page before ended with
_CURSOR = re.compile(r"r([0-9]{1,10})(?:~([A-Za-z0-9._/-]{1,40}))?")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    """A day as YYYY-MM-DD only (not a Unix time, not a time of day); empty (a form's
    cleared field) is no day: the default."""
    if value == "":
        return None
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("give a day as YYYY-MM-DD")
    return value


Day = Annotated[date | None, BeforeValidator(_iso_day)]  # the `date` parameter's type


class BadParameter(Exception):
    """A parameter FastAPI's types let through but the app cannot use; shown as a 422."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


@dataclass(frozen=True)
class RankingParams:
    """What a ranking view asks for; `method` None: the `daily_method` setting."""

    day: date | None
    method: Method | None
    window: Window
    categories: tuple[str, ...]
    keywords: tuple[str, ...]
    authors: tuple[str, ...]
    primary_only: bool

    def query(self, default_method: str, day: date | None = None) -> Query:
        return Query.of(day or self.day, self.method or Method(default_method), self.window,
                        self.categories, self.keywords, self.authors, self.primary_only)


Texts = list[str]


async def ranking_params(
    day: Annotated[Day, Param(
        alias="date", description="arXiv listing date (YYYY-MM-DD); default: the newest "
        "stored day.")] = None,
    method: Annotated[Method | None, Param(
        description="Ranking method; default: the daily_method setting.")] = None,
    window: Annotated[Window, Param(
        description="The day, or the 7 or 30 announcement days ending with it.")]
    = Window.day,
    category: Annotated[Texts, Param(
        description="Only papers in this category (repeatable: any; "
        "'cs' is every cs.*).")] = (),  # type: ignore[assignment]
    keyword: Annotated[Texts, Param(
        description="Only papers whose title or abstract contains this "
        "(repeatable: any).")] = (),  # type: ignore[assignment]
    author: Annotated[Texts, Param(
        description="Only papers with an author whose name contains this "
        "(repeatable: any).")] = (),  # type: ignore[assignment]
    primary_only: Annotated[bool, Param(
        description="category matches primary categories only.")] = False,
) -> RankingParams:
    for name, values in (("category", category), ("keyword", keyword), ("author", author)):
        if len(values) > MAX_VALUES or any(len(v) > TEXT for v in values):
            raise BadParameter(name, f"at most {MAX_VALUES} values of at most {TEXT} "
                                     "characters")
    return RankingParams(day, method, window, tuple(category), tuple(keyword), tuple(author),
                         primary_only)


@dataclass(frozen=True)
class Page:
    start: int  # rows skipped, when the anchor is not listed (or there is none)
    limit: int
    after: str | None = None  # the paper that ended the page before: the cursor's anchor

    def start_in(self, ids: Sequence[str]) -> int:
        """Where the page starts in a ranking listing `ids`: just after its anchor when it
        is listed at most a page away from where it was, so that a ranking that changed a
        little between two pages (new attention came in) repeats no paper the page before
        ended with; else `start` (an anchor that moved far would skip or repeat pages)."""
        if self.after is not None:
            for index, paper_id in enumerate(ids):
                if paper_id == self.after:
                    return index + 1 if abs(index + 1 - self.start) <= self.limit else self.start
        return self.start

    def bounds(self, ids: Sequence[str]) -> tuple[int, int, tuple[int, str] | None]:
        """Where the page starts and ends in a ranking listing `ids` (see start_in), and
        where the next one starts and its anchor, or None when this one is the last."""
        start = self.start_in(ids)
        end = start + self.limit
        return start, end, (end, ids[end - 1]) if end < len(ids) else None


async def page_params(
    cursor: Annotated[str | None, Param(
        max_length=TEXT, description="The next_cursor of the previous page.")] = None,
    limit: Annotated[int, Param(ge=1, le=MAX_LIMIT, description="Rows a page.")]
    = DEFAULT_LIMIT,
) -> Page:
    if not cursor:
        return Page(0, limit)
    start, after = _read_cursor(cursor)
    return Page(start, limit, after)


def cursor_of(start: int, after: str | None = None) -> str:
    """An opaque cursor for the rows from `start`, or after the paper `after` when the
    ranking still lists it."""
    text = f"r{start}" if after is None else f"r{start}~{after}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[int, str | None]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    found = _CURSOR.fullmatch(text)
    if found is None:
        raise BadParameter("cursor", "not a cursor this server gave (use next_cursor)")
    return int(found.group(1)), found.group(2)


def page_link(request: Request, start: int, after: str | None = None) -> str:
    """The request's path and query with the cursor for the rows from `start` (after the
    paper `after`)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return f"{request.url.path}?{urlencode([*items, ('cursor', cursor_of(start, after))])}"
