"""The JSON the API answers with, made from what jobs/browse.py reads (pure)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from hotpapers.jobs.browse import PaperRecord
from hotpapers.jobs.ranking import Ranked
from hotpapers.models import Mention, Paper
from hotpapers.site.charts import attention_of, total_series
from hotpapers.site.context import COUNTS, http_url

__all__ = ["attention_json", "mention_json", "paper_json", "ranking_json"]


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def ranking_json(ranked: Ranked, start: int, limit: int, next_cursor: str | None) -> dict:
    """One page of a ranking: the rows from `start`, at most `limit`."""
    rows = ranked.rows[start:start + limit]
    return {
        "day": ranked.day.isoformat(), "method": ranked.method.value,
        "window": ranked.window.value, "from": ranked.start.isoformat(),
        "as_of": _time(ranked.as_of), "filters": ranked.filters.describe(),
        "total": len(ranked.rows), "next_cursor": next_cursor,
        "papers": [{"rank": i, "id": r.paper_id, "title": ranked.papers[r.paper_id].title,
                    "authors": list(ranked.papers[r.paper_id].authors),
                    "categories": list(ranked.papers[r.paper_id].categories),
                    "score": _number(r.score), "parts": r.parts.to_json()}
                   for i, r in enumerate(rows, start=start + 1)],
    }


def paper_json(paper: Paper, days: list[date] = ()) -> dict:  # type: ignore[assignment]
    return {
        "id": paper.id, "title": paper.title, "authors": list(paper.authors),
        "categories": list(paper.categories), "abstract": paper.abstract,
        "abs_url": http_url(paper.abs_url), "pdf_url": http_url(paper.pdf_url),
        "comments": paper.comments, "journal_ref": paper.journal_ref, "doi": paper.doi,
        "submitted_at": _time(paper.submitted_at), "updated_at": _time(paper.updated_at),
        "announced_on": _day(paper.announced_on), "withdrawn": paper.withdrawn,
        "days": [d.isoformat() for d in days],
    }


def mention_json(mention: Mention) -> dict:
    last = max(mention.observations, key=lambda o: _time(o.observed_at) or "", default=None)
    account = mention.account
    return {
        "source": mention.source, "id": mention.native_id, "kind": mention.kind,
        "url": http_url(mention.permalink), "text": mention.text or "",
        "created_at": _time(mention.created_at), "papers": list(mention.paper_ids),
        "author": None if account is None else {
            "handle": account.handle, "name": account.name, "id": account.native_id},
        "counts": {c: getattr(last, c) for c in COUNTS
                   if last is not None and getattr(last, c) is not None},
        "observed_at": _time(last.observed_at) if last is not None else None,
        "observations": len(mention.observations),
    }


def attention_json(record: PaperRecord) -> dict:
    """Per source: posts and counts as last observed, and the counts summed over its posts
    at each time they were observed (paper-level totals where no post was observed)."""
    table = attention_of(record.mentions, record.totals)
    series = _series(record)
    return {"id": record.paper.id, "sources": [
        {"source": row.source, "label": row.label, "posts": row.posts,
         "counts": dict(row.counts), "total": row.total, "published": row.published,
         "series": [[_time(t), v] for t, v in series.get(row.source, [])]}
        for row in table.sources]}


def _series(record: PaperRecord) -> dict[str, list[tuple[datetime, int]]]:
    runs: dict[str, list] = defaultdict(list)
    for mention in record.mentions:
        seen = [(o.observed_at, sum(getattr(o, c) or 0 for c in COUNTS))
                for o in mention.observations]
        if seen:
            runs[mention.source].append(sorted(seen, key=lambda p: _time(p[0]) or ""))
    for row in record.totals:
        if row["source"] not in runs:
            runs[f"totals:{row['source']}"].append(
                (row["observed_at"], sum(row.get(c) or 0 for c in COUNTS)))
    found = {source: total_series(parts) for source, parts in runs.items()
             if not source.startswith("totals:")}
    for key, points in runs.items():
        if key.startswith("totals:"):
            found[key.removeprefix("totals:")] = total_series([points])
    return found
