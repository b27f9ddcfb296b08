"""The JSON API under /api/v1: rankings (the board's parameters, cursor pages), a paper, its
mentions and attention over time, the stored days, and the explanation of a score."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi import Query as Param

from hotpapers.arxiv_ids import normalize
from hotpapers.jobs.browse import PaperRecord, Reader
from hotpapers.jobs.ranking import Method, Window
from hotpapers.web.params import (
    TEXT,
    Day,
    Page,
    RankingParams,
    cursor_of,
    page_params,
    ranking_params,
)
from hotpapers.web.respond import JSON, cached, json_bytes
from hotpapers.web.shapes import attention_json, mention_json, paper_json, ranking_json

__all__ = ["paper_id_of", "router"]

router = APIRouter(prefix="/api/v1", tags=["api"])
PaperId = Annotated[str, Path(description="arXiv id, e.g. 2101.06046 or hep-th/9901001 "
                                          "(a version suffix is dropped).")]
JSON_ANSWER = {200: {"content": {"application/json": {}}},
               404: {"description": "No such paper, or no papers stored for that day"},
               422: {"description": "A bad parameter, named in `parameter`"}}


def _reader(request: Request) -> Reader:
    return request.app.state.reader


def paper_id_of(text: str) -> str:
    """The versionless id, or a 404 (a malformed id names no stored paper)."""
    try:
        return normalize(text)
    except ValueError:
        raise HTTPException(404, f"{text[:80]!r} is not an arXiv id") from None


def _record(request: Request, text: str) -> PaperRecord:
    paper_id = paper_id_of(text)
    record = _reader(request).paper(paper_id)
    if record is None:
        raise HTTPException(404, f"no paper {paper_id} stored")
    return record


@router.get("/rankings", responses=JSON_ANSWER)
async def rankings(request: Request,
                   params: Annotated[RankingParams, Depends(ranking_params)],
                   page: Annotated[Page, Depends(page_params)]) -> Response:
    """A ranking of a day's or window's papers, one page at a time (`next_cursor`)."""
    reader = _reader(request)

    def make() -> tuple[bytes, str]:
        ranked = reader.ranking(params.query(reader.settings.daily_method))
        ids = [row.paper_id for row in ranked.rows]
        start, _, after = page.bounds(ids)
        more = cursor_of(*after) if after else None
        return json_bytes(ranking_json(ranked, start, page.limit, more)), JSON

    return await cached(request, make)


@router.get("/search", responses=JSON_ANSWER)
async def search(request: Request,
                 q: Annotated[str, Param(min_length=1, max_length=TEXT,
                                         description="Words of the title, abstract, authors "
                                         "or id; all must match (the last one may be a "
                                         "prefix).")],
                 page: Annotated[Page, Depends(page_params)]) -> Response:
    """Full-text search over the stored papers, best match first, a page at a time."""
    reader = _reader(request)

    def make() -> tuple[bytes, str]:
        hits = reader.search(q, page.limit + 1, page.start)
        more = cursor_of(page.start + page.limit) if len(hits) > page.limit else None
        return json_bytes({"query": q, "next_cursor": more, "papers": [
            {**paper_json(paper), "relevance": round(relevance, 6)}
            for paper, relevance in hits[:page.limit]]}), JSON

    return await cached(request, make)


@router.get("/days", responses=JSON_ANSWER)
async def days(request: Request) -> Response:
    """The stored days, newest first, with their number of papers."""
    reader = _reader(request)
    return await cached(request, lambda: (json_bytes({"days": [
        {"day": d.isoformat(), "papers": n} for d, n in reader.days()]}), JSON))


@router.get("/papers/{paper_id:path}/mentions", responses=JSON_ANSWER)
async def mentions(request: Request, paper_id: PaperId) -> Response:
    """The paper's live mentions, each with its counts as last observed."""
    def make() -> tuple[bytes, str]:
        record = _record(request, paper_id)
        return json_bytes({"id": record.paper.id,
                           "mentions": [mention_json(m) for m in record.mentions]}), JSON

    return await cached(request, make)


@router.get("/papers/{paper_id:path}/attention", responses=JSON_ANSWER)
async def attention(request: Request, paper_id: PaperId) -> Response:
    """The paper's attention per source, and its counts over time."""
    return await cached(request, lambda: (
        json_bytes(attention_json(_record(request, paper_id))), JSON))


@router.get("/papers/{paper_id:path}", responses=JSON_ANSWER)
async def paper(request: Request, paper_id: PaperId) -> Response:
    """A stored paper's record and the days it was announced or listed on."""
    def make() -> tuple[bytes, str]:
        record = _record(request, paper_id)
        return json_bytes(paper_json(record.paper, record.days)), JSON

    return await cached(request, make)


@router.get("/explain/{paper_id:path}", responses=JSON_ANSWER)
async def explain(
    request: Request, paper_id: PaperId,
    day: Annotated[Day, Param(alias="date", description="The day ranked (default: "
                                      "the paper's announcement date).")] = None,
    method: Annotated[Method | None, Param(description="default: daily_method")] = None,
    window: Annotated[Window, Param()] = Window.day,
) -> Response:
    """Why the paper ranks where it does: rank, score, and the parts of the score."""
    reader = _reader(request)

    def make() -> tuple[bytes, str]:
        record = _record(request, paper_id)
        if day is None and record.paper.announced_on is None and not record.days:
            raise HTTPException(404, f"{record.paper.id}: its day is unknown; give date")
        found = reader.explanation(record.paper.id, day or _newest(record),
                                   method or Method(reader.settings.daily_method), window)
        return json_bytes(found.to_json()), JSON

    return await cached(request, make)


def _newest(record: PaperRecord) -> date | None:
    return record.paper.announced_on or (record.days[0] if record.days else None)
