"""Responses made once per store change: a body kept under (the store's change stamp, the
request's path and query), with an ETag of its bytes, `Cache-Control`, and a 304 when the
client already has it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import orjson
from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CACHE_CONTROL", "JSON", "CachedResponses", "cached", "json_bytes", "not_modified"]

CACHE_CONTROL = "public, max-age=60"  # then revalidated with If-None-Match
JSON = "application/json"
HTML = "text/html; charset=utf-8"
STAMP = "hotpapers.stamp"  # the scope key of the stamp read for this request


def json_bytes(value: object) -> bytes:
    return orjson.dumps(value)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def not_modified(request: Request, etag: str) -> bool:
    return _matches(", ".join(request.headers.getlist("if-none-match")), etag)


def _matches(header: str, etag: str) -> bool:
    """Whether If-None-Match (its lines joined, as RFC 9110 combines them) names `etag` (or
    is `*`); weak tags match too."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


async def cached(request: Request, make: Callable[[], tuple[bytes, str]], status: int = 200
                 ) -> Response:
    """The response `make()` gives (body, media type), made once per store stamp and
    request URL; a 304 when the client's ETag is the body's. The stamp is read on the event
    loop (one indexed query, as quick as a hop to a thread); `make()` runs in a thread."""
    state = request.app.state
    stamp = request.scope.get(STAMP)
    key = key_of(request.scope, state.reader.stamp() if stamp is None else stamp)
    found = state.responses.get(key)
    if found is None:
        body, media = await run_in_threadpool(make)
        found = state.responses.put(key, (body, media, etag_of(body)))
    body, media, etag = found  # type: ignore[misc]
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media, headers=headers)


def key_of(scope: Scope, stamp: int) -> tuple:
    """A response's cache key: the stamp, the path and query, and the scheme and Host the
    request came with (feeds link back to them: a forged Host must not reach others)."""
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    return (stamp, scope["path"], scope["query_string"], scope.get("scheme"), host)


class CachedResponses:
    """ASGI middleware: a GET whose response is cached for the store's current stamp is
    answered from the cache before routing (parsing and checking parameters costs more
    than the rest of a warm request); the stamp read is left in the scope for `cached`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        scope[STAMP] = stamp = state.reader.stamp()
        found = state.responses.get(key_of(scope, stamp))
        if found is None:
            await self.app(scope, receive, send)
            return
        body, media, etag = found
        headers = [(b"etag", etag.encode()), (b"cache-control", CACHE_CONTROL.encode())]
        asked = b", ".join(v for k, v in scope["headers"] if k == b"if-none-match")
        if _matches(asked.decode("latin-1"), etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [(b"content-type", media.encode()),
                    (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
