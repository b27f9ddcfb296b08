"""Plain text made safe for markdown: escaped so it shows as itself in CommonMark, Goldmark
(Hugo) and kramdown (Jekyll), with no raw HTML, no Hugo shortcode or Liquid delimiters and
no markdown markup; and http(s) links."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

__all__ = ["escape_text", "link", "link_target", "paragraphs", "text_line"]

_REFERENCES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;",
               "~": "&#126;", "\\": "&#92;"}
_BACKSLASHED = "`*_[]#|$"
_INLINE = str.maketrans({**_REFERENCES, **{c: "\\" + c for c in _BACKSLASHED}})
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_START = re.compile(r"[-+=:]|\^|\d+[.)]")


def escape_text(text: str) -> str:
    """Text for inline markdown: shows as itself in CommonMark, Goldmark (Hugo) and kramdown
    (Jekyll), with no HTML, no shortcode or Liquid delimiters, no markdown markup."""
    return _CONTROLS.sub("\ufffd", text).translate(_INLINE)


def text_line(text: str) -> str:
    """One line of text (whitespace runs, line breaks included, become one space), escaped,
    with a block marker at its start (list, heading underline, definition...) defused."""
    text = escape_text(" ".join(text.split()))
    start = _LINE_START.match(text)
    if start is None:
        return text
    if start.group() == "^":
        return "&#94;" + text[1:]
    end = start.end() - 1
    return text[:end] + "\\" + text[end:]


def paragraphs(text: str) -> str:
    """Multi-line text as paragraphs: lines trimmed, blank-line runs kept as one."""
    lines = [text_line(line) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n")


def link_target(url: str | None) -> str | None:
    """An http(s) URL for a link destination (parentheses, spaces, brackets... encoded)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower() if url else ""
    except ValueError:  # e.g. a broken IPv6 host
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url.strip(), safe=":/?#@!&'*+,;=%-._")


def link(text: str, url: str | None) -> str | None:
    target = link_target(url)
    return f"[{escape_text(' '.join(text.split()))}]({target})" if target else None
