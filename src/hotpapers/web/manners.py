"""The server's manners, as one ASGI middleware around the app: security headers on every
answer, HEAD answered as GET without the body, never a cookie, never a traceback (an
unexpected error is a plain 500, its traceback goes to the log), and one access-log line
per request in the Combined Log Format."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "Manners", "access_line", "access_logger"]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
log = logging.getLogger("hotpapers.web")


def _quoted(raw: bytes) -> str:
    """Bytes for a quoted log field: printable ASCII as is, `"` and `\\` escaped, the rest
    as \\xHH (a request line can hold anything)."""
    out = []
    for byte in raw:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def access_line(scope: Scope, status: int, size: int, when: datetime) -> str:
    """`host - - [07/Dec/2026:12:00:00 +0000] "GET /?a=b HTTP/1.1" 200 512 "ref" "agent"`."""
    client = scope.get("client") or ("-", 0)
    target = scope.get("raw_path") or scope.get("path", "").encode()
    if scope.get("query_string"):
        target += b"?" + scope["query_string"]
    headers = dict(scope.get("headers") or [])
    request = f'{scope.get("method", "-")} {_quoted(target)} HTTP/{scope.get("http_version")}'
    referer = _quoted(headers.get(b"referer", b"-"))
    agent = _quoted(headers.get(b"user-agent", b"-"))
    return (f'{client[0]} - - [{when.astimezone(UTC):%d/%b/%Y:%H:%M:%S +0000}] '
            f'"{request}" {status} {size or "-"} "{referer}" "{agent}"')


class Manners:
    """Wraps an ASGI app; `access` receives each access-log line (None: no access log)."""

    def __init__(self, app: ASGIApp, access: Callable[[str], None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.app, self.access, self.clock = app, access, clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, size, started = 500, 0, False
        head = scope["method"] == "HEAD"  # answered as GET would be, without the body

        async def sending(message: Message) -> None:
            nonlocal status, size, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                headers = MutableHeaders(scope=message)
                del headers["set-cookie"]
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            elif message["type"] == "http.response.body":
                if head:
                    message = {**message, "body": b""}
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app({**scope, "method": "GET"} if head else scope, receive, sending)
        except Exception:
            log.exception("%s %s failed", scope.get("method"), scope.get("path"))
            if not started:
                body = b'{"error":"internal error: the server failed to answer this request"}'
                await sending({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]})
                await sending({"type": "http.response.body", "body": body})
        finally:
            if self.access is not None:
                self.access(access_line(scope, status, size, self.clock()))


def access_logger() -> Callable[[str], None]:
    """Access-log lines to standard error, one a line, as they are (no prefix)."""
    logger = logging.getLogger("hotpapers.access")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger.info
