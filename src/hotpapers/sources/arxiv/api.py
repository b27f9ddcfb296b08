"""The arXiv export API (`/api/query`, Atom): details of papers by id, in batches, and
search. Fetching goes through the polite client; parsing is pure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from hotpapers import arxiv_ids
from hotpapers.errors import SourceError
from hotpapers.http import PoliteClient
from hotpapers.models import Paper, Version
from hotpapers.sources.arxiv.common import (
    abs_url,
    clean,
    element_date,
    element_int,
    parse_xml,
    pdf_url,
    text_of,
)

__all__ = ["ApiPage", "ArxivApi", "parse_feed", "some_ids", "unanswered"]

NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
      "os": "http://a9.com/-/spec/opensearch/1.1/"}
ID_BATCH = 100
NAMED_IDS = 10  # a report names at most this many ids


@dataclass
class ApiPage:
    """One page of API results."""

    total: int
    start: int
    papers: list[Paper]


def parse_entry(entry: ET.Element, what: str) -> Paper:
    raw_id = text_of(entry, "a:id", NS) or ""
    found = arxiv_ids.parse(raw_id)
    if found is None:
        raise SourceError(f"{what}: entry with an unknown id {raw_id!r}")
    primary = entry.find("arxiv:primary_category", NS)
    categories = [c.get("term", "") for c in entry.findall("a:category", NS)]
    if primary is not None and primary.get("term"):
        first = primary.get("term")
        categories = [first] + [c for c in categories if c != first]
    has_pdf = any(link.get("title") == "pdf" for link in entry.findall("a:link", NS))
    comments = text_of(entry, "arxiv:comment", NS)
    published = element_date(text_of(entry, "a:published", NS), "published", what)
    updated = element_date(text_of(entry, "a:updated", NS), "updated", what)
    versions = [Version(1, published)] if published else []
    if found.version and found.version > 1:
        versions.append(Version(found.version, updated))
    return Paper(
        id=found.id,
        title=text_of(entry, "a:title", NS) or "",
        authors=[clean(a.text) for a in entry.findall("a:author/a:name", NS)],
        categories=[c for c in categories if c],
        abstract=text_of(entry, "a:summary", NS) or "",
        abs_url=abs_url(found.id),
        pdf_url=pdf_url(found.id) if has_pdf else None,
        latest_version=found.version,
        comments=comments,
        journal_ref=text_of(entry, "arxiv:journal_ref", NS),
        doi=text_of(entry, "arxiv:doi", NS),
        submitted_at=published,
        updated_at=updated,
        withdrawn=bool(comments and "withdrawn" in comments.lower()),
        versions=versions,
    )


def parse_feed(body: bytes, what: str = "arXiv API") -> ApiPage:
    """Papers of one Atom answer; an error feed becomes a SourceError with its message."""
    root = parse_xml(body, what)
    entries = root.findall("a:entry", NS)
    for entry in entries:
        if "/api/errors" in (text_of(entry, "a:id", NS) or ""):
            raise SourceError(f"{what}: arXiv API error: {text_of(entry, 'a:summary', NS)}")
    total = element_int(text_of(root, "os:totalResults", NS), "totalResults", what)
    start = element_int(text_of(root, "os:startIndex", NS), "startIndex", what)
    return ApiPage(total=len(entries) if total is None else total, start=start or 0,
                   papers=[parse_entry(e, what) for e in entries])


def unanswered(asked: Iterable[str], answered: Iterable[str]) -> list[str]:
    """The asked ids (versionless, in the order asked, once each) that no answer carried:
    the export API silently leaves out ids it does not know."""
    got = set(answered)
    return [i for i in dict.fromkeys(asked) if i not in got]


def some_ids(ids: Sequence[str], cap: int = NAMED_IDS) -> str:
    """`a, b, c`, or the first `cap` ids and how many more."""
    named = ", ".join(ids[:cap])
    return f"{named} and {len(ids) - cap} more" if len(ids) > cap else named


class ArxivApi:
    """Queries of the export API at `base_url` (default https://export.arxiv.org/api/query)."""

    def __init__(self, http: PoliteClient, base_url: str) -> None:
        self.http, self.base_url = http, base_url

    def _query(self, params: dict, what: str) -> ApiPage:
        response = self.http.get(self.base_url, params=params, what=what, accept=(400,))
        return parse_feed(response.content, what)

    def papers(self, ids: Iterable[str]) -> Iterator[Paper]:
        """Details of the papers with these ids, asked in batches. Ids the API does not know
        are left out of its answer: compare with `unanswered` to report them."""
        ids = list(dict.fromkeys(ids))
        for i in range(0, len(ids), ID_BATCH):
            batch = ids[i:i + ID_BATCH]
            what = f"arXiv API id_list of {len(batch)} ids from {batch[0]}"
            params = {"id_list": ",".join(batch), "start": 0, "max_results": len(batch)}
            yield from self._query(params, what).papers

    def search(self, query: str, start: int = 0, max_results: int = 100) -> ApiPage:
        params = {"search_query": query, "start": start, "max_results": max_results,
                  "sortBy": "submittedDate", "sortOrder": "descending"}
        return self._query(params, f"arXiv API search {query!r} from {start}")
