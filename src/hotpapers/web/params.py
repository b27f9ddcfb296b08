"""The query parameters the board, the feeds and the API share (a ranking's day, method,
window, filters and page), checked by FastAPI: a bad one is a 422 naming it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query as Param
from fastapi import Request

from hotpapers.jobs.browse import Query
from hotpapers.jobs.ranking import Method, Window

__all__ = ["BadParameter", "Page", "RankingParams", "cursor_of", "page_link", "page_params",
           "ranking_params"]

TEXT = 200  # longest text a parameter takes
MAX_VALUES = 20  # values of one repeatable parameter
MAX_LIMIT = 200
DEFAULT_LIMIT = 30


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
    day: Annotated[date | None, Param(
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
    start: int  # rows skipped
    limit: int


async def page_params(
    cursor: Annotated[str | None, Param(
        max_length=TEXT, description="The next_cursor of the previous page.")] = None,
    limit: Annotated[int, Param(ge=1, le=MAX_LIMIT, description="Rows a page.")]
    = DEFAULT_LIMIT,
) -> Page:
    return Page(_start_of(cursor) if cursor else 0, limit)


def cursor_of(start: int) -> str:
    """An opaque cursor for the rows from `start`."""
    return base64.urlsafe_b64encode(f"r{start}".encode()).decode().rstrip("=")


def _start_of(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not (text.startswith("r") and text[1:].isdigit() and len(text) < 12):
        raise BadParameter("cursor", "not a cursor this server gave (use next_cursor)")
    return int(text[1:])


def page_link(request: Request, start: int) -> str:
    """The request's path and query with the cursor for the rows from `start`."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return f"{request.url.path}?{urlencode([*items, ('cursor', cursor_of(start))])}"
