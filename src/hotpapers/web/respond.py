"""Responses made once per store change: a body kept under (the store's change stamp, the
request's path and query), with an ETag of its bytes, `Cache-Control`, and a 304 when the
client already has it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import orjson
from fastapi import Request, Response

from hotpapers.jobs.browse import Cache

__all__ = ["CACHE_CONTROL", "JSON", "cached", "json_bytes", "not_modified"]

CACHE_CONTROL = "public, max-age=60"  # then revalidated with If-None-Match
JSON = "application/json"
HTML = "text/html; charset=utf-8"


def json_bytes(value: object) -> bytes:
    return orjson.dumps(value)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def not_modified(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` (or is `*`); weak tags match too."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def cached(request: Request, make: Callable[[], tuple[bytes, str]], status: int = 200
           ) -> Response:
    """The response `make()` gives (body, media type), made once per store stamp and
    request URL; a 304 when the client's ETag is the body's."""
    state = request.app.state
    key = (state.reader.stamp(), request.url.path, request.url.query)
    found = state.responses.get(key)
    if found is None:
        body, media = make()
        found = state.responses.put(key, (body, media, etag_of(body)))
    body, media, etag = found  # type: ignore[misc]
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media, headers=headers)


def responses_cache(size: int, seconds: float) -> Cache:
    return Cache(size, seconds)
