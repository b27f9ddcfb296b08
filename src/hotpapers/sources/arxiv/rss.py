"""arXiv's announcement feeds (`rss.arxiv.org/rss/CATS` and `/atom/CATS`): the current
listing, each paper with its announce type (new, cross, replace, replace-cross). Pure parse."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from hotpapers import arxiv_ids
from hotpapers.errors import SourceError
from hotpapers.models import Paper
from hotpapers.sources.arxiv.common import (
    abs_url,
    clean,
    element_date,
    email_time,
    iso_time,
    parse_xml,
    pdf_url,
    text_of,
)

__all__ = ["Announcement", "Listing", "parse_listing"]

NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
      "dc": "http://purl.org/dc/elements/1.1/"}
_HEAD = re.compile(r"^arXiv:(?P<id>\S+)\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:)?",
                   re.S)


@dataclass
class Announcement:
    """A paper as the day's listing shows it."""

    paper: Paper
    announce_type: str
    version: int | None


@dataclass
class Listing:
    """The papers of one listing date, in feed order."""

    day: date | None
    items: list[Announcement]


def _announcement(raw_id: str, title: str, summary: str, categories: list[str], kind: str,
                  creators: str | None, doi: str | None, journal: str | None,
                  what: str) -> Announcement:
    head = _HEAD.match(summary)
    found = arxiv_ids.parse(head["id"] if head else raw_id) or arxiv_ids.parse(raw_id)
    if found is None:
        raise SourceError(f"{what}: item with an unknown id {raw_id!r}")
    abstract = clean(summary[head.end():] if head else summary)
    paper = Paper(id=found.id, title=clean(title), abstract=abstract,
                  authors=[a for a in (clean(x) for x in (creators or "").split(",")) if a],
                  categories=categories, abs_url=abs_url(found.id), pdf_url=pdf_url(found.id),
                  latest_version=found.version, doi=doi, journal_ref=journal)
    kind = clean(kind) or (head["type"] if head else "new")
    return Announcement(paper=paper, announce_type=kind, version=found.version)


def _rss(root: ET.Element, what: str) -> Listing:
    channel = root.find("channel")
    if channel is None:
        raise SourceError(f"{what}: RSS without a channel")
    published = element_date(channel.findtext("pubDate"), "pubDate", what, email_time)
    day = published.date() if published else None
    items = [_announcement(
        item.findtext("guid") or item.findtext("link") or "", item.findtext("title") or "",
        item.findtext("description") or "", [clean(c.text) for c in item.findall("category")],
        item.findtext("arxiv:announce_type", "", NS), item.findtext("dc:creator", None, NS),
        text_of(item, "arxiv:DOI", NS), text_of(item, "arxiv:journal_reference", NS), what)
        for item in channel.findall("item")]
    return Listing(day=day, items=items)


def _atom(root: ET.Element, what: str) -> Listing:
    entries = root.findall("a:entry", NS)
    published = element_date(root.findtext("a:entry/a:published", None, NS), "published", what,
                             iso_time)
    day = published.date() if published else None
    items = [_announcement(
        entry.findtext("a:id", "", NS), entry.findtext("a:title", "", NS),
        entry.findtext("a:summary", "", NS),
        [c.get("term", "") for c in entry.findall("a:category", NS)],
        entry.findtext("arxiv:announce_type", "", NS), entry.findtext("dc:creator", None, NS),
        text_of(entry, "arxiv:DOI", NS), text_of(entry, "arxiv:journal_reference", NS), what)
        for entry in entries]
    return Listing(day=day, items=items)


def parse_listing(body: bytes, what: str = "arXiv feed") -> Listing:
    """The listing an RSS 2.0 or Atom announcement feed carries; its day is the listing
    date the feed gives (in US Eastern time)."""
    root = parse_xml(body, what)
    if root.tag == "rss":
        return _rss(root, what)
    if root.tag == f"{{{NS['a']}}}feed":
        return _atom(root, what)
    raise SourceError(f"{what}: neither an RSS nor an Atom feed (root <{root.tag}>)")
