"""Helpers the arXiv parsers share: safe XML parsing with a clear error, text clean-up,
canonical links."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hotpapers.errors import SourceError

__all__ = ["abs_url", "clean", "parse_xml", "pdf_url", "text_of"]


def parse_xml(body: bytes, what: str) -> ET.Element:
    """The root element; SourceError naming the request and the position when malformed."""
    if b"<!DOCTYPE" in body[:2000] or b"<!ENTITY" in body[:2000]:
        raise SourceError(f"{what}: refusing XML with a DOCTYPE or entity declarations")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        line, column = exc.position
        raise SourceError(f"{what}: malformed XML at line {line}, column {column}") from None


def clean(text: str | None) -> str:
    """Whitespace runs (line breaks included) as single spaces, ends stripped."""
    return " ".join((text or "").split())


def text_of(element: ET.Element, path: str, ns: dict[str, str]) -> str | None:
    """Cleaned text of the first match of `path`, or None when absent or empty."""
    found = element.find(path, ns)
    value = clean(found.text) if found is not None else ""
    return value or None


def abs_url(paper_id: str) -> str:
    return f"https://arxiv.org/abs/{paper_id}"


def pdf_url(paper_id: str) -> str:
    return f"https://arxiv.org/pdf/{paper_id}"
