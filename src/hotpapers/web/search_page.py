"""The search page `/search?q=`: the papers whose title, abstract, authors or id hold every
word asked for, best match first, from the database's full-text index."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Query as Param

from hotpapers.jobs.browse import Reader
from hotpapers.web.board import category_url, paper_url
from hotpapers.web.params import TEXT, Page, page_link, page_params
from hotpapers.web.respond import HTML, cached

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/search")
async def search_page(request: Request, page: Annotated[Page, Depends(page_params)],
                      q: Annotated[str, Param(max_length=TEXT)] = "") -> Response:
    reader: Reader = request.app.state.reader

    def make() -> tuple[bytes, str]:
        hits = reader.search(q, page.limit + 1, page.start) if q.strip() else []
        rows = [{"rank": page.start + i + 1, "title": paper.title or paper.id,
                 "url": paper_url(paper.id), "authors": ", ".join(paper.authors),
                 "categories": [(c, category_url(c)) for c in paper.categories],
                 "announced_on": paper.announced_on}
                for i, (paper, _relevance) in enumerate(hits[:page.limit])]
        state = request.app.state
        html = state.env.get_template("search.html").render(
            site={**state.site, "query": q}, page=request.url.path, searched=False,
            query=q, rows=rows, start=page.start,
            more=page_link(request, page.start + page.limit) if len(hits) > page.limit
            else None)
        return html.encode(), HTML

    return await cached(request, make)
