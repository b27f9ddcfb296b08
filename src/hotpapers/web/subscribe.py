"""Feeds of any view: /feed.atom, /feed.rss and /feed.json take the board's parameters
(`?category=cs.CL&method=hot&window=week`), so a reader subscribes to their field; one
entry per paper of the view, linked to its page at the address the request came to."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from hotpapers.jobs.browse import Reader, feed_of
from hotpapers.web.board import paper_url, source_lines
from hotpapers.web.params import Page, RankingParams, page_params, ranking_params
from hotpapers.web.respond import cached

__all__ = ["FEEDS", "router"]

router = APIRouter(tags=["feeds"])
FEEDS = {"atom": "application/atom+xml", "rss": "application/rss+xml",
         "json": "application/feed+json"}


def _describe(params: RankingParams, method: str) -> str:
    span = {"day": "the day", "week": "the last 7 announcement days",
            "month": "the last 30 announcement days"}[params.window.value]
    fields = f" in {', '.join(params.categories)}" if params.categories else ""
    return f"The most talked-about arXiv papers{fields} of {span}, ranked by {method}"


async def _feed(request: Request, kind: str, params: RankingParams, page: Page) -> Response:
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        ranked = reader.ranking(params.query(reader.settings.daily_method))
        origin = str(request.base_url).rstrip("/")  # a part of the cache key (respond.py)
        query = request.url.query
        board = f"{origin}/{ranked.day.isoformat()}" if params.day else f"{origin}/"
        urls = {k: f"{origin}/feed.{k}" + (f"?{query}" if query else "") for k in FEEDS}
        title = f"Hot Papers: {ranked.method.value}, {ranked.window.value}" + (
            f", {', '.join(params.categories)}" if params.categories else "")
        made = feed_of(ranked, lambda paper_id: origin + paper_url(paper_id), page.limit,
                       source_lines, title=title,
                       description=_describe(params, ranked.method.value),
                       home=board + (f"?{urlencode(request.query_params.multi_items())}"
                                     if query else ""), **urls)
        return made[kind], FEEDS[kind]

    return await cached(request, make)


def _answers(kind: str) -> dict:
    return {200: {"content": {FEEDS[kind]: {}}, "description": "The feed"},
            404: {"description": "No papers stored for that day or window"},
            422: {"description": "A bad parameter, named in `parameter`"}}


Ranking = Annotated[RankingParams, Depends(ranking_params)]
Paging = Annotated[Page, Depends(page_params)]


@router.get("/feed.atom", response_class=Response, responses=_answers("atom"))
async def atom(request: Request, params: Ranking, page: Paging) -> Response:
    """The view's Atom feed (the board's parameters; `limit` papers)."""
    return await _feed(request, "atom", params, page)


@router.get("/feed.rss", response_class=Response, responses=_answers("rss"))
async def rss(request: Request, params: Ranking, page: Paging) -> Response:
    """The view's RSS 2.0 feed."""
    return await _feed(request, "rss", params, page)


@router.get("/feed.json", response_class=Response, responses=_answers("json"))
async def json_feed(request: Request, params: Ranking, page: Paging) -> Response:
    """The view's JSON Feed 1.1."""
    return await _feed(request, "json", params, page)
