"""Links: outside links as pages and feeds may carry them (http(s) only, spaces and quotes
encoded), and the one place that says where a paper's page is, for the site and every digest."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

__all__ = ["base_path", "http_url", "paper_path", "paper_slug", "paper_url"]

# An http(s) URL of characters that need no quoting (no brackets: urlsplit checks those).
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")
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


def base_path(site_url: str) -> str:
    """The path part of the site's URL without a trailing slash ("" at a domain's root)."""
    try:
        path = urlsplit(site_url.strip()).path if site_url else ""
    except ValueError:
        path = ""
    return quote(path.rstrip("/"), safe="/%-._~")


def paper_slug(paper_id: str) -> str:
    """A path segment for a paper id: `hep-th/9901001` → `hep-th_9901001`."""
    slug = _SLUG_UNSAFE.sub("_", paper_id)
    return "_" + slug if not slug or slug.startswith(".") else slug


def paper_path(base: str, paper_id: str) -> str:
    """A paper's page under the site's base path: a file, not a folder (a folder per paper
    costs a build dearly)."""
    return f"{base}/papers/{paper_slug(paper_id)}.html"


def paper_url(site_url: str, paper_id: str) -> str:
    """The full address of a paper's page on the site at `site_url` (what e-mails, webhooks
    and bots link to): the site's origin, as its sitemap has it, and `paper_path`."""
    base = base_path(site_url)
    root = site_url.strip().rstrip("/")
    return (root.removesuffix(base) if base else root) + paper_path(base, paper_id)
