"""Outside links as pages and feeds may carry them: http(s) only, spaces and quotes encoded."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

__all__ = ["http_url"]

# An http(s) URL of characters that need no quoting (no brackets: urlsplit checks those).
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9:/?#@!$&'()*+,;=%._~-]*", re.IGNORECASE)


def http_url(url: str | None) -> str | None:
    """`url` when it is an http(s) URL (spaces and quotes percent-encoded), else None."""
    url = " ".join((url or "").split())
    if _PLAIN_URL.fullmatch(url):  # the usual case, and what the slow way gives for it
        return url
    try:
        scheme = urlsplit(url).scheme.lower() if url else ""
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")
