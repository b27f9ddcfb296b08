"""Helpers the arXiv parsers share: safe XML parsing (from safe_xml), dates and numbers
that fail as SourceError naming their element, text clean-up, canonical links."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from hotpapers.errors import SourceError
from hotpapers.sources.safe_xml import parse_xml

__all__ = ["abs_url", "clean", "element_date", "element_int", "email_time", "iso_date",
           "iso_time", "parse_xml", "pdf_url", "text_of"]

T = TypeVar("T")


def clean(text: str | None) -> str:
    """Whitespace runs (line breaks included) as single spaces, ends stripped."""
    return " ".join((text or "").split())


def text_of(element: ET.Element, path: str, ns: dict[str, str]) -> str | None:
    """Cleaned text of the first match of `path`, or None when absent or empty."""
    found = element.find(path, ns)
    value = clean(found.text) if found is not None else ""
    return value or None


def element_value(text: str | None, convert: Callable[[str], T], element: str, kind: str,
                  what: str) -> T | None:
    """`convert(text)` (None for no text); SourceError naming `<element>` when it fails."""
    if not text:
        return None
    try:
        return convert(text)
    except (ValueError, TypeError, OverflowError, IndexError):
        raise SourceError(f"{what}: <{element}> is not {kind}: {text[:80]!r}") from None


def iso_time(text: str) -> datetime:
    """An ISO 8601 time (`Z` allowed); a time without a zone is UTC."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def iso_date(text: str) -> date:
    return date.fromisoformat(text.strip()[:10])


def email_time(text: str) -> datetime:
    """An RFC 2822 time (`Thu, 24 Sep 2026 00:00:00 -0400`); one without a zone is UTC."""
    when = parsedate_to_datetime(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def element_date(text: str | None, element: str, what: str,
                 convert: Callable[[str], T] = iso_time) -> T | None:
    return element_value(text, convert, element, "a date", what)


def count(text: str) -> int:
    """A count: decimal digits only (no sign, exponent or underscores)."""
    if not text.strip().isdecimal():
        raise ValueError(text)
    return int(text)


def element_int(text: str | None, element: str, what: str) -> int | None:
    return element_value(text, count, element, "a number", what)


def abs_url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def pdf_url(paper_id: str) -> str:
    return f"https://arxiv.org/pdf/{paper_id}"
