"""arXiv's OAI-PMH interface: ListRecords harvests by set and datestamp, page by page with
resumption tokens, in the `arXiv` or `arXivRaw` metadata formats. Parsing is pure."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from hotpapers.errors import SourceError
from hotpapers.http import PoliteClient
from hotpapers.models import Paper, Version
from hotpapers.sources.arxiv.common import (
    abs_url,
    clean,
    count,
    element_date,
    element_value,
    email_time,
    iso_date,
    parse_xml,
    pdf_url,
)

__all__ = ["OaiHarvest", "OaiPage", "OaiRecord", "parse_page"]

OAI = "http://www.openarchives.org/OAI/2.0/"
FORMATS = {"arXiv": "http://arxiv.org/OAI/arXiv/", "arXivRaw": "http://arxiv.org/OAI/arXivRaw/"}
_AND = re.compile(r",\s*(?:and\s+)?|\s+and\s+")


@dataclass
class OaiRecord:
    """One harvested record; `paper` is None for deleted records and unknown formats."""

    identifier: str
    datestamp: date
    sets: list[str]
    deleted: bool = False
    paper: Paper | None = None


@dataclass
class OaiPage:
    records: list[OaiRecord] = field(default_factory=list)
    token: str | None = None
    complete_size: int | None = None


def _t(element: ET.Element, name: str, ns: str) -> str | None:
    found = element.find(f"{{{ns}}}{name}")
    value = clean(found.text) if found is not None else ""
    return value or None


def _arxiv_authors(meta: ET.Element, ns: str) -> list[str]:
    names = []
    for author in meta.iterfind(f"{{{ns}}}authors/{{{ns}}}author"):
        parts = [_t(author, "forenames", ns), _t(author, "keyname", ns), _t(author, "suffix", ns)]
        names.append(" ".join(p for p in parts if p))
    return names


def _raw_versions(meta: ET.Element, ns: str, what: str) -> list[Version]:
    versions = []
    for element in meta.iterfind(f"{{{ns}}}version"):
        label = (element.get("version") or "").removeprefix("v")
        number = element_value(label, count, "version", "a version number", what) or 0
        submitted = element_date(_t(element, "date", ns), "date", what, email_time)
        versions.append(Version(number, submitted and submitted.astimezone(UTC),
                                _t(element, "size", ns)))
    return sorted(versions, key=lambda v: v.number)


def parse_metadata(meta: ET.Element, what: str = "OAI-PMH") -> Paper | None:
    """The paper of an `arXiv` or `arXivRaw` metadata element (None for other formats)."""
    ns = meta.tag[1:].split("}")[0] if meta.tag.startswith("{") else ""
    if ns not in FORMATS.values():
        return None
    paper_id = _t(meta, "id", ns) or ""
    raw = ns == FORMATS["arXivRaw"]
    versions = _raw_versions(meta, ns, what) if raw else []
    authors = ([a for a in _AND.split(_t(meta, "authors", ns) or "") if a] if raw
               else _arxiv_authors(meta, ns))
    comments = _t(meta, "comments", ns)
    created = None if raw else element_date(_t(meta, "created", ns), "created", what, iso_date)
    submitted = versions[0].submitted_at if versions else (
        datetime.combine(created, datetime.min.time(), UTC) if created else None)
    return Paper(
        id=paper_id, title=_t(meta, "title", ns) or "", authors=authors,
        categories=(_t(meta, "categories", ns) or "").split(),
        abstract=_t(meta, "abstract", ns) or "", abs_url=abs_url(paper_id),
        pdf_url=pdf_url(paper_id), comments=comments,
        journal_ref=_t(meta, "journal-ref", ns), doi=_t(meta, "doi", ns),
        latest_version=versions[-1].number if versions else None, submitted_at=submitted,
        updated_at=versions[-1].submitted_at if versions else None,
        withdrawn=bool(comments and "withdrawn" in comments.lower()), versions=versions,
    )


def _record(element: ET.Element, what: str) -> OaiRecord:
    header = element.find(f"{{{OAI}}}header")
    if header is None:
        raise SourceError(f"{what}: <record> without a <header>")
    stamp = element_date(_t(header, "datestamp", OAI), "datestamp", what, iso_date)
    if stamp is None:
        raise SourceError(f"{what}: <header> without a <datestamp>")
    meta = element.find(f"{{{OAI}}}metadata")
    body = next(iter(meta), None) if meta is not None else None
    return OaiRecord(
        identifier=(header.findtext(f"{{{OAI}}}identifier") or "").strip(), datestamp=stamp,
        sets=[clean(s.text) for s in header.findall(f"{{{OAI}}}setSpec")],
        deleted=header.get("status") == "deleted",
        paper=parse_metadata(body, what) if body is not None else None,
    )


def parse_page(body: bytes, what: str = "OAI-PMH") -> OaiPage:
    """Records and resumption token of a ListRecords answer. `noRecordsMatch` is an empty
    page; any other OAI error is a SourceError naming the request and the code."""
    root = parse_xml(body, what)
    error = root.find(f"{{{OAI}}}error")
    if error is not None:
        code = error.get("code", "unknown")
        if code == "noRecordsMatch":
            return OaiPage()
        raise SourceError(f"{what}: OAI-PMH error {code}: {clean(error.text)}")
    listing = root.find(f"{{{OAI}}}ListRecords")
    if listing is None:
        raise SourceError(f"{what}: no ListRecords in the answer")
    page = OaiPage()
    for number, element in enumerate(listing.findall(f"{{{OAI}}}record"), start=1):
        page.records.append(_record(element, f"{what}: record {number}"))
    token = listing.find(f"{{{OAI}}}resumptionToken")
    if token is not None:
        page.token = clean(token.text) or None
        size = token.get("completeListSize")
        page.complete_size = int(size) if size and size.isdecimal() else None
    return page


class OaiHarvest:
    """A ListRecords harvest at `base_url`, resumable from a stored token."""

    def __init__(self, http: PoliteClient, base_url: str) -> None:
        self.http, self.base_url = http, base_url

    def pages(self, set_spec: str, start: date, until: date | None = None,
              prefix: str = "arXivRaw", token: str | None = None) -> Iterator[OaiPage]:
        """Pages in order; give `token` to continue an interrupted harvest."""
        while True:
            if token:
                params = {"verb": "ListRecords", "resumptionToken": token}
                what = f"OAI-PMH ListRecords resumptionToken={token}"
            else:
                params = {"verb": "ListRecords", "metadataPrefix": prefix, "set": set_spec,
                          "from": start.isoformat()}
                if until:
                    params["until"] = until.isoformat()
                what = (f"OAI-PMH ListRecords set={set_spec} from={start}"
                        f"{f' until={until}' if until else ''}")
            page = parse_page(self.http.get(self.base_url, params=params, what=what).content,
                              what)
            yield page
            token = page.token
            if not token:
                return
