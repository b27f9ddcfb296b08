"""A polite HTTP client for the sources: requests spaced by a minimum interval, retries
with backoff on 5xx, 429 and timeouts, honouring Retry-After; each try bounded by a deadline
and a largest body, a client's whole life by a time budget. Time is injected."""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from hotpapers import __version__
from hotpapers.errors import SourceError
from hotpapers.secrets import scrub

__all__ = ["MAX_BODY", "MB", "Clock", "PoliteClient", "source_http", "user_agent"]

log = logging.getLogger(__name__)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 32 * 1024 * 1024
MB = 1024 * 1024


class _TooSlow(Exception):
    """A try went past its deadline."""


@dataclass
class Clock:
    """Monotonic time, wall time and sleep; tests pass a fake one."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


def user_agent(contact: str = "") -> str:
    """`hotpapers/VERSION`, with the operator's contact address when one is set."""
    suffix = f" (mailto:{contact})" if contact else ""
    return f"hotpapers/{__version__}{suffix}"


def source_http(settings: Any, clock: Clock | None = None,
                transport: httpx.BaseTransport | None = None,
                headers: Mapping[str, str] | None = None) -> PoliteClient:
    """A polite client for one attention source, spaced by `settings.source_interval`,
    each try bounded by `http_deadline` and `http_max_body_mb`, all of them by
    `source_budget` (counted from the first request)."""
    client = httpx.Client(timeout=settings.http_timeout, transport=transport,
                          headers={"User-Agent": user_agent(settings.contact_email),
                                   **(headers or {})},
                          follow_redirects=True)
    return PoliteClient(client, min_interval=settings.source_interval,
                        retries=settings.http_retries, clock=clock,
                        deadline=settings.http_deadline, budget=settings.source_budget,
                        max_body=int(settings.http_max_body_mb * MB))


class PoliteClient:
    """Requests to one service, never closer together than `min_interval` seconds. Each try
    ends within `deadline` seconds (the body read included) and reads at most `max_body`
    bytes; after `budget` seconds from the first request no try starts or goes on."""

    def __init__(self, client: httpx.Client, *, min_interval: float = 0.0, retries: int = 4,
                 backoff: float = 5.0, max_wait: float = 600.0, clock: Clock | None = None,
                 jitter: Callable[[], float] = random.random, deadline: float | None = None,
                 budget: float | None = None, max_body: int = MAX_BODY) -> None:
        self.client, self.min_interval, self.retries = client, min_interval, retries
        self.backoff, self.max_wait = backoff, max_wait
        self.clock = clock or Clock()
        self.jitter = jitter
        self.deadline, self.budget, self.max_body = deadline, budget, max_body
        self.requests = 0
        self._last_start: float | None = None
        self._budget_end: float | None = None

    def _wait_turn(self, at_least: float = 0.0) -> None:
        wait = at_least
        if self._last_start is not None:
            wait = max(wait, self._last_start + self.min_interval - self.clock.monotonic())
        if wait > 0:
            self.clock.sleep(wait)
        self._last_start = self.clock.monotonic()

    def get(self, url: str, params: Mapping[str, Any] | None = None, what: str | None = None,
            accept: Collection[int] = (), headers: Mapping[str, str] | None = None
            ) -> httpx.Response:
        """The response of a successful GET (2xx, or a status in `accept`); SourceError
        naming `what` (default: the URL) after the retries, or at once for other 4xx."""
        return self.request("GET", url, params=params, what=what, accept=accept, headers=headers)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                what: str | None = None, accept: Collection[int] = (),
                headers: Mapping[str, str] | None = None, **body: Any) -> httpx.Response:
        """Like `get`, for any method; `body` takes httpx's json=, data= or content=."""
        what = what or url
        if self.budget is not None and self._budget_end is None:
            self._budget_end = self.clock.monotonic() + self.budget
        wait = 0.0
        for attempt in range(self.retries + 1):
            self._check_budget(what, wait)
            self._wait_turn(wait)
            self.requests += 1
            try:
                response = self._try(method, url, params, headers, body, what)
            except _TooSlow:
                problem, retry_after = self._too_slow(), None
            except httpx.TimeoutException:
                problem, retry_after = "timed out", None
            except httpx.UnsupportedProtocol as exc:  # a redirect to file://: no use retrying
                raise SourceError(f"{what}: {exc}") from None
            except httpx.TransportError as exc:
                problem, retry_after = f"connection failed ({exc})", None
            except httpx.HTTPError as exc:  # redirects, decoding: not worth retrying
                raise SourceError(f"{what}: {exc}") from None
            else:
                if response.is_success or response.status_code in accept:
                    return response
                if response.status_code not in RETRY_STATUSES:
                    raise SourceError(f"{what}: HTTP {response.status_code}"
                                      f"{_reason(response)}")
                problem = f"HTTP {response.status_code}"
                retry_after = self._retry_after(response)
            if attempt == self.retries:
                raise SourceError(f"{what}: {problem} after {attempt + 1} tries")
            if retry_after is not None and retry_after > self.max_wait:
                raise SourceError(f"{what}: {problem}; the server asks to wait "
                                  f"{retry_after:.0f} s, more than {self.max_wait:.0f} s")
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            log.info("%s: %s; retrying in %.1f s", what, problem, wait)
        raise AssertionError("unreachable")

    def _try(self, method: str, url: str, params: Mapping[str, Any] | None,
             headers: Mapping[str, str] | None, body: Mapping[str, Any], what: str
             ) -> httpx.Response:
        """One try: the response with its body read, within the deadline and size limit."""
        limit = self._time_left()
        body = dict(body)
        auth = body.pop("auth", httpx.USE_CLIENT_DEFAULT)
        request = self.client.build_request(method, url, params=params, headers=headers,
                                            timeout=self._timeout(limit), **body)
        ends = None if limit is None else self.clock.monotonic() + limit
        # only a GET or HEAD follows a redirect: a 307 or 308 would send a POST's body (a
        # sign-in's password) on to whatever host the server names
        response = self.client.send(request, stream=True, auth=auth, follow_redirects=(
            self.client.follow_redirects and method.upper() in ("GET", "HEAD")))
        try:
            if "," in response.headers.get("content-encoding", ""):  # each layer inflates
                raise SourceError(f"{what}: more than one content encoding; not read")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body:
                raise SourceError(self._too_big(what))
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_body:
                    raise SourceError(self._too_big(what))
                chunks.append(chunk)
                if ends is not None and self.clock.monotonic() > ends:
                    raise _TooSlow
            response._content = b"".join(chunks)  # what httpx's own read() does
        finally:
            response.close()
        return response

    def _time_left(self) -> float | None:
        """Seconds this try may take: the deadline, or less when the budget ends sooner."""
        limits = [self.deadline] if self.deadline is not None else []
        if self._budget_end is not None:
            limits.append(self._budget_end - self.clock.monotonic())
        return max(min(limits), 0.001) if limits else None

    def _timeout(self, limit: float | None) -> httpx.Timeout:
        """The client's timeouts, none of them longer than `limit`."""
        t = self.client.timeout
        if limit is None:
            return t
        cap = [limit if v is None else min(v, limit) for v in (t.connect, t.read, t.write,
                                                                t.pool)]
        return httpx.Timeout(connect=cap[0], read=cap[1], write=cap[2], pool=cap[3])

    def _check_budget(self, what: str, wait: float) -> None:
        """SourceError when the budget ends before the next try could start."""
        if self._budget_end is None or self.budget is None:
            return
        start = max(self.clock.monotonic() + wait,
                    (self._last_start or 0.0) + self.min_interval)
        if start >= self._budget_end:
            raise SourceError(f"{what}: stopped: the time budget of {self.budget:g} s "
                              "(setting source_budget) is used up")

    def _too_slow(self) -> str:
        if self._budget_end is not None and self.clock.monotonic() >= self._budget_end:
            return f"the time budget of {self.budget:g} s (setting source_budget) ran out"
        return f"took longer than {self.deadline:g} s (setting http_deadline)"

    def _too_big(self, what: str) -> str:
        return (f"{what}: the answer is larger than {self.max_body / MB:g} MB "
                "(setting http_max_body_mb)")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, self.backoff * 2**attempt * (1 + 0.25 * self.jitter()))

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying, from Retry-After or, on a 429, the rate-limit
        reset headers: X and Bluesky send the reset time in epoch seconds, Reddit the
        seconds left."""
        value = response.headers.get("retry-after", "").strip()
        if not value and response.status_code == 429:
            return self._rate_limit_reset(response.headers)
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000": UTC, says RFC 5322
            when = when.replace(tzinfo=UTC)
        return max((when - self.clock.now()).total_seconds(), 0.0)

    def _rate_limit_reset(self, headers: httpx.Headers) -> float | None:
        """Seconds until the rate-limit window resets, plus one for clock skew. X and
        Bluesky send the reset as epoch seconds; `x-ratelimit-reset` is seconds left on
        Reddit, an ISO 8601 time on Mastodon and epoch seconds on some Mastodon-compatible
        servers, so its value is read by its form."""
        now = self.clock.now()
        for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
            value = headers.get(name, "").strip()
            if not value:
                continue
            try:
                number = float(value)
                if not math.isfinite(number):
                    continue
            except ValueError:
                try:
                    when = datetime.fromisoformat(value)
                except ValueError:
                    continue
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
                return max((when - now).total_seconds(), 0.0) + 1.0
            if number > 1e9:  # an epoch time, not a number of seconds
                return max(number - now.timestamp(), 0.0) + 1.0
            return max(number, 0.0) + 1.0
        return None


def _reason(response: httpx.Response) -> str:
    """The first line of the body, scrubbed of secrets before it is cut (a piece of a
    secret cut short would escape the scrubbing)."""
    body = scrub(response.text).strip()
    text = body.splitlines()[0][:120] if body else ""
    return f": {text}" if text else ""
