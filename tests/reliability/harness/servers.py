"""Loopback servers that misbehave on purpose: an HTTP server with a fault matrix, an echo
server, and a Jetstream websocket that drops, repeats, corrupts and oversizes frames."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

__all__ = ["FAULTS", "ISSUED", "EchoServer", "FaultServer", "Jetstream", "Reply"]

FAULTS = ("429-seconds", "429-date", "5xx", "stall", "drip", "truncated", "html", "huge")
HUGE = 50 * 1024 * 1024
HOLD = 60.0  # the longest any answer is held (stall, drip): bounded, beyond every budget


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


Router = Callable[[str, str, dict[str, list[str]], bytes], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner.handle(self, body)

    do_GET = do_POST = do_PUT = do_DELETE = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FaultServer


class FaultServer:
    """An HTTP server on 127.0.0.1 answering through `router(method, path, query, body)`;
    while `fault` is set, every request from the `fault_from`-th on (0-based, counted per
    first path segment, i.e. per source) gets that fault instead (one of FAULTS)."""

    def __init__(self, router: Router, fault: str | None = None, fault_from: int = 0) -> None:
        self.router, self.fault, self.fault_from = router, fault, fault_from
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.per_segment: dict[str, int] = {}
        self.stopping = threading.Event()
        self.http = _Server(("127.0.0.1", 0), _Handler)
        self.http.owner = self
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self) -> FaultServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.http.shutdown()
        self.http.server_close()
        self.thread.join(timeout=10)

    def handle(self, request: _Handler, body: bytes) -> None:
        with self.lock:
            segment = request.path.lstrip("/").split("/")[0].split("?")[0].split("-")[0]
            number = self.per_segment[segment] = self.per_segment.get(segment, -1) + 1
            self.requests.append((request.command, request.path, dict(request.headers), body))
        if self.fault and number >= self.fault_from:
            return self._fault(request, self.fault)
        parts = urlsplit(request.path)
        reply = self.router(request.command, parts.path, parse_qs(parts.query), body)
        self._send(request, reply.status, reply.headers, reply.body)

    def _send(self, request: _Handler, status: int, headers: dict[str, str], body: bytes,
              length: int | None = None) -> None:
        try:
            request.send_response(status)
            for name, value in headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(body) if length is None else length))
            request.end_headers()
            request.wfile.write(body)
            request.wfile.flush()
        except OSError:
            pass

    def _fault(self, request: _Handler, fault: str) -> None:
        json_type = {"Content-Type": "application/json"}
        if fault == "429-seconds":
            return self._send(request, 429, {**json_type, "Retry-After": "1"}, b"{}")
        if fault == "429-date":
            when = formatdate(time.time() + 1, usegmt=True)
            return self._send(request, 429, {**json_type, "Retry-After": when}, b"{}")
        if fault == "5xx":
            return self._send(request, 503, {"Content-Type": "text/plain"}, b"down")
        if fault == "html":
            return self._send(request, 200, {"Content-Type": "text/html"},
                              b"<!doctype html><html><body>Rate limited</body></html>")
        if fault == "truncated":
            request.close_connection = True
            return self._send(request, 200, json_type, b'{"hits": [{"objectID": "1", "ti',
                              length=4096)
        if fault == "stall":
            self.stopping.wait(HOLD)
            request.close_connection = True
            return None
        if fault == "drip":
            return self._drip(request)
        if fault == "huge":
            return self._huge(request)
        raise ValueError(f"unknown fault {fault}")

    def _drip(self, request: _Handler) -> None:
        """A valid-looking JSON body, one byte every 100 ms (for at most HOLD seconds)."""
        body = b'{"hits": [], "data": [], "posts": [], "statuses": []' + b" " * 4096 + b"}"
        request.close_connection = True
        try:
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(body)))
            request.end_headers()
            start = time.monotonic()
            for byte in body:
                if self.stopping.wait(0.1) or time.monotonic() - start > HOLD:
                    return
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
        except OSError:
            pass

    def _huge(self, request: _Handler) -> None:
        """A 50 MB JSON body: an object holding one long string."""
        request.close_connection = True
        chunk = b"x" * (1024 * 1024)
        try:
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(HUGE + 15))
            request.end_headers()
            request.wfile.write(b'{"padding": "')
            for _ in range(HUGE // len(chunk)):
                if self.stopping.is_set():
                    return
                request.wfile.write(chunk)
            request.wfile.write(b'"}')
        except OSError:
            pass


ISSUED = {"accessJwt": "issued-bsky-access-jwt-Fake+Jwt/0001",
          "refreshJwt": "issued-bsky-refresh-jwt-Fake+Jwt/0002",
          "access_token": "issued-reddit-access-token-Fake/0003"}


SIGN_IN = ("createSession", "access_token", "/reddit-auth/")


class EchoServer(FaultServer):
    """Answers every request with `status` and a body echoing its headers and body: an error
    page quoting them, or (2xx) JSON quoting them in every field and issuing the tokens of
    ISSUED as a sign-in answer would. With `sign_in_ok`, sign-ins succeed whatever
    `status` is, so the tokens they issue are used, and echoed, afterwards."""

    def __init__(self, status: int = 200, sign_in_ok: bool = False) -> None:
        super().__init__(self._echo)
        self.status, self.sign_in_ok = status, sign_in_ok

    def handle(self, request: _Handler, body: bytes) -> None:
        with self.lock:
            self.requests.append((request.command, request.path, dict(request.headers), body))
        headers = dict(request.headers)
        sign_in = any(part in request.path for part in SIGN_IN)
        if self.status >= 400 and not (sign_in and self.sign_in_ok):
            # an error page quoting the request: credentials, then the body, then the rest
            first = json.dumps({k: v for k, v in headers.items()
                                if k.lower() == "authorization"})
            rest = "".join(f"{k}: {v}\n" for k, v in headers.items()
                           if k.lower() != "authorization")
            return self._send(request, self.status, {"Content-Type": "text/plain"},
                              first.encode() + body + b"\n" + rest.encode())
        echo = {"method": request.command, "path": request.path, "headers": headers,
                "body": body.decode("utf-8", "replace")}
        text = json.dumps(echo)
        payload = {"error": "echo", "message": text, "echo": echo, **ISSUED,
                   "token_type": "bearer", "expires_in": 3600, "did": "did:plc:echo",
                   "handle": "echo.test", "detail": text, "title": text}
        status = 200 if sign_in and self.sign_in_ok else self.status
        self._send(request, status, {"Content-Type": "application/json"},
                   json.dumps(payload).encode())

    @staticmethod
    def _echo(*_args) -> Reply:
        return Reply()


class Jetstream:
    """A loopback Jetstream: each connection replays `events` from its `cursor` query
    parameter. Faults, per connection (each list is consumed one item a connection):
    `drops[n]`: cut the connection after n frames; and, over the whole stream, every
    `duplicate_every`-th frame is sent twice, garbage frames are sent before every
    `garbage_every`-th one, and an oversized (> 4 MiB) frame before every
    `oversize_every`-th one (0: never)."""

    def __init__(self, events: list[str], drops: list[int] | None = None,
                 duplicate_every: int = 0, garbage_every: int = 0,
                 oversize_every: int = 0) -> None:
        self.events = events
        self.times = [json.loads(line)["time_us"] for line in events]
        self.drops = list(drops or [])
        self.duplicate_every, self.garbage_every = duplicate_every, garbage_every
        self.oversize_every = oversize_every
        self.connections = 0
        self.server = serve(self._handle, "127.0.0.1", 0, max_size=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Jetstream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)

    def _frames(self, index: int, line: str) -> list[str]:
        frames = []
        if self.garbage_every and index % self.garbage_every == 1:
            frames.append('{"did": "did:plc:garbage", "time_us": ' + line[:40])
        if self.oversize_every and index % self.oversize_every == 2:
            big = json.loads(line)
            big["commit"]["record"]["text"] = "x" * (4 * 1024 * 1024 + 10)
            frames.append(json.dumps(big))
        frames.append(line)
        if self.duplicate_every and index % self.duplicate_every == 3:
            frames.append(line)
        return frames

    def _handle(self, ws) -> None:
        query = parse_qs(urlsplit(ws.request.path).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        self.connections += 1
        drop = self.drops.pop(0) if self.drops else None
        sent = 0
        try:
            for index, line in enumerate(self.events):
                if cursor is not None and self.times[index] < cursor:
                    continue
                for frame in self._frames(index, line):
                    if sent == drop:
                        ws.socket.shutdown(socket.SHUT_RDWR)
                        return
                    ws.send(frame)
                    sent += 1
            deadline = time.monotonic() + HOLD
            while time.monotonic() < deadline:  # hold the connection until the client leaves
                try:
                    ws.recv(timeout=1.0)
                except TimeoutError:
                    continue
        except (ConnectionClosed, TimeoutError, OSError):
            return
