"""The HTML pages: the board (`/`, `/{date}`, `/week/`, `/month/`) with its query in the
URL, a paper's page with the explain panel, the archive and the categories; rendered by
the static site's templates, working without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi import Query as Param

from hotpapers.jobs.browse import PaperRecord, Query, Reader
from hotpapers.jobs.ranking import Method, Ranked, Window
from hotpapers.models import Mention
from hotpapers.site.charts import (
    SOURCE_LABELS,
    Sparkline,
    attention_of,
    counts_series,
    sparkline,
)
from hotpapers.site.context import COUNTS, mention_card, paper_view
from hotpapers.web.api_v1 import paper_id_of
from hotpapers.web.params import (
    Day,
    Page,
    RankingParams,
    page_link,
    page_params,
    ranking_params,
)
from hotpapers.web.respond import HTML, cached
from hotpapers.web.words import explained, span_words

__all__ = ["BoardRow", "router"]

router = APIRouter(include_in_schema=False)
Ranking = Annotated[RankingParams, Depends(ranking_params)]
Paging = Annotated[Page, Depends(page_params)]
MENTIONS_SHOWN = 100  # on a paper's page, the most engaged; the API has them all
SPARK_SIZE = (96, 20)  # px: a board row's sparkline


@dataclass(frozen=True)
class BoardRow:
    """A paper's line on the board."""

    rank: int
    title: str
    url: str
    authors: str
    categories: tuple[tuple[str, str], ...]  # (name, the board of that category)
    score: str
    sources: tuple[str, ...]  # "Bluesky: 12 people, 15 posts", largest share first
    spark: Sparkline | None = None  # its counts over time, all sources summed


def paper_url(paper_id: str) -> str:
    return f"/papers/{quote(paper_id)}"


def category_url(category: str) -> str:
    return "/?" + urlencode({"category": category})


def source_lines(parts) -> tuple[str, ...]:
    """Per source, who and how many posts (classic: retweets and favorites on X)."""
    if not hasattr(parts, "sources"):
        return (f"X: {parts.reposts:,} retweets, {parts.likes:,} favorites",)
    found = sorted(parts.sources.items(), key=lambda item: -item[1].contribution)
    return tuple(f"{SOURCE_LABELS.get(name, name)}: {part.people:,} "
                 f"{'person' if part.people == 1 else 'people'}, {part.posts:,} "
                 f"post{'' if part.posts == 1 else 's'}" for name, part in found)


def board_rows(ranked: Ranked, start: int, limit: int,
               counts: dict[str, list[tuple[int, datetime, int]]] | None = None
               ) -> list[BoardRow]:
    """The rows of one page; with `counts` (Reader.counts_of, up to the ranking's as-of),
    each with a sparkline of the paper's counts over time."""
    rows = []
    for rank, row in enumerate(ranked.rows[start:start + limit], start=start + 1):
        paper = ranked.papers[row.paper_id]
        series = counts_series((counts or {}).get(paper.id, []))
        rows.append(BoardRow(
            rank, paper.title, paper_url(paper.id), ", ".join(paper.authors),
            tuple((c, category_url(c)) for c in paper.categories), f"{row.score:,.4g}",
            source_lines(row.parts), sparkline(series, *SPARK_SIZE, from_zero=True)))
    return rows


def feed_links(request: Request, day: date | None, window: Window = Window.day
               ) -> dict[str, str]:
    """The feeds of the board's view: its query, with the day and the window of its path
    (/week/, /month/), without the page."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    if window is not Window.day:
        items = [("window", window.value)] + [(k, v) for k, v in items if k != "window"]
    if day is not None:
        items = [("date", day.isoformat())] + [(k, v) for k, v in items if k != "date"]
    query = f"?{urlencode(items)}" if items else ""
    return {kind: f"/feed.{kind}{query}" for kind in ("atom", "rss", "json")}


def _render(request: Request, template: str, **context) -> bytes:
    state = request.app.state
    return state.env.get_template(template).render(
        site=state.site, page=request.url.path, searched=False, **context).encode()


async def _board(request: Request, params: RankingParams, page: Page,
                 day: date | None = None) -> Response:
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        query = params.query(reader.settings.daily_method, day)
        ranked = reader.ranking(query)
        ids = [row.paper_id for row in ranked.rows]
        start, end, after = page.bounds(ids)
        return _render(
            request, "board.html", ranked=ranked, query=query,
            span=span_words(ranked.window, ranked.start.isoformat(), ranked.day.isoformat()),
            rows=board_rows(ranked, start, page.limit,
                            reader.counts_of(ids[start:end], ranked.as_of)),
            methods=list(Method),
            windows=list(Window), start=start, feeds=feed_links(request, day, params.window),
            first=request.url.path if start else None,
            more=page_link(request, *after) if after else None), HTML

    return await cached(request, make)


@router.get("/")
async def home(request: Request, params: Ranking, page: Paging) -> Response:
    return await _board(request, params, page)


@router.get("/week/")
async def week(request: Request, params: Ranking, page: Paging) -> Response:
    return await _board(request, replace(params, window=Window.week), page)


@router.get("/month/")
async def month(request: Request, params: Ranking, page: Paging) -> Response:
    return await _board(request, replace(params, window=Window.month), page)


@router.get("/archive/")
async def archive(request: Request) -> Response:
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        months: dict[str, list] = {}
        for day, count in reader.days():
            months.setdefault(day.isoformat()[:7], []).append(
                {"url": f"/{day.isoformat()}", "label": day.isoformat(), "count": count})
        return _render(request, "archive.html", months=list(months.items())), HTML

    return await cached(request, make)


@router.get("/categories/")
async def categories(request: Request) -> Response:
    """The categories of the newest day's papers, each linking to its board."""
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        ranked = reader.ranking(Query.of(None, Method(reader.settings.daily_method),
                                         Window.day))
        found = sorted({c for p in ranked.papers.values() for c in p.categories})
        return _render(request, "categories.html",
                       categories=[(c, category_url(c)) for c in found]), HTML

    return await cached(request, make)


@router.get("/papers/{paper_id:path}")
async def paper_page(
    request: Request, paper_id: str,
    day: Annotated[Day, Param(alias="date")] = None,
    method: Annotated[Method | None, Param()] = None,
    window: Annotated[Window, Param()] = Window.day,
) -> Response:
    """A paper: metadata, abstract, attention table and charts, mentions, and why it ranks
    where it does (the explain panel, for the method, window and day asked)."""
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        record = reader.paper(paper_id_of(paper_id))
        if record is None:
            raise HTTPException(404, f"no paper {paper_id_of(paper_id)} stored")
        chosen = method or Method(reader.settings.daily_method)
        the_day = day or record.paper.announced_on or (record.days[0] if record.days else None)
        found = reader.explanation(record.paper.id, the_day, chosen, window) \
            if the_day is not None else None
        return _render(request, "paper_live.html", paper=_paper_view(reader, record, chosen),
                       mentions=len(record.mentions),
                       explained=explained(found) if found else [],
                       methods=list(Method), windows=list(Window), method=chosen,
                       window=window, day=the_day), HTML

    return await cached(request, make)


def most_engaged(mentions: list[Mention]) -> list[Mention]:
    """Mentions by their counts as last observed, summed, highest first (ties: oldest)."""
    def engagement(mention: Mention) -> int:
        last = max(mention.observations, key=lambda o: o.observed_at, default=None)
        return sum(getattr(last, c) or 0 for c in COUNTS) if last is not None else 0

    return sorted(mentions, key=lambda m: -engagement(m))


def _paper_view(reader: Reader, record: PaperRecord, method: Method):
    view = paper_view(record.paper, "", set())
    view.url = paper_url(record.paper.id)
    view.categories = [(c, category_url(c)) for c in record.paper.categories]
    view.mentions = [mention_card(m) for m in most_engaged(record.mentions)[:MENTIONS_SHOWN]]
    view.attention = attention_of(record.mentions, record.totals)
    for day in record.days:
        ranked = reader.ranking(Query.of(day, method, Window.day))
        place = next((i for i, r in enumerate(ranked.rows, 1)
                      if r.paper_id == record.paper.id), None)
        if place is not None:
            view.days.append((day.isoformat(), f"/{day.isoformat()}?method={method}", place))
    return view


@router.get("/{listed}")
async def day_board(request: Request, listed: str, params: Ranking, page: Paging) -> Response:
    """The board of the day in the path (YYYY-MM-DD); any other path is a 404."""
    try:
        the_day = date.fromisoformat(listed) if len(listed) == 10 else None
    except ValueError:
        the_day = None
    if the_day is None:
        raise HTTPException(404, f"nothing at /{listed[:80]}")
    return await _board(request, params, page, the_day)
