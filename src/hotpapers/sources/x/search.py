"""X API v2 as a mention source: one paged recent search over the window (the last 7 days
at most), retweets folded into their originals, a per-run read budget, and lookups by id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import MissingCredentials, SourceError
from hotpapers.http import Clock
from hotpapers.models import Mention
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import HttpSource, first_line, json_body, plural
from hotpapers.sources.x.tweets import (
    SEARCH,
    Page,
    mention_of,
    page_mentions,
    parse_page,
    problem,
    unreadable,
)

__all__ = ["XSource"]

RECENT_DAYS = timedelta(days=7)
START_MARGIN = timedelta(minutes=1)  # start a little after now-7d so that X accepts it
END_LAG = timedelta(seconds=10)  # X wants end_time at least 10 s before now
PAGE_MAX, PAGE_MIN = 100, 10  # max_results of a recent search must be within 10..100
LOOKUP_MAX = 100
RATE_LIMIT_WINDOW = 960.0  # 15 minutes and some: the longest wait X's reset header asks for
SEARCH_TWEET_FIELDS = "public_metrics,created_at,entities,referenced_tweets,author_id"
SEARCH_EXPANSIONS = "author_id,referenced_tweets.id"
SEARCH_USER_FIELDS = "username,name,created_at"
LOOKUP_TWEET_FIELDS = "public_metrics,created_at,entities,author_id,referenced_tweets"
ERROR_STATUSES = (400, 401, 403)
LOOKUP = "X tweet lookup"


def _rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class XSource(HttpSource):
    """Posts on X that link papers, from the v2 recent search (bearer token needed)."""

    name = "x"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        secret = secrets.x_bearer_token
        token = secret.get_secret_value().strip() if secret is not None else ""
        if not token:
            raise MissingCredentials("x needs HOTPAPERS_X_BEARER_TOKEN (an X API v2 app "
                                     "bearer token)")
        super().__init__(settings, clock, transport, headers={"Authorization": f"Bearer {token}"})
        self.settings = settings
        self.http.max_wait = RATE_LIMIT_WINDOW
        self._token = token  # kept only to scrub it from messages
        self._seen: set[str] = set()

    # -- HTTP ---------------------------------------------------------------------------

    def _scrub(self, message: str) -> str:
        return message.replace(self._token, "[token]")

    def _get(self, path: str, params: Mapping[str, Any], what: str) -> Any:
        """The JSON body of a successful GET; SourceError (without the token) otherwise."""
        url = self.settings.x_api_url.rstrip("/") + path
        try:
            response = self._request("GET", url, what, params=params, accept=ERROR_STATUSES)
        except SourceError as exc:
            raise SourceError(self._scrub(str(exc))) from None
        if response.is_success:
            return json_body(response, what, lead="unexpected answer:", detail=_content_type)
        try:
            body = response.json()
        except ValueError:
            body = None
        reason = problem(body)
        if not reason and (line := first_line(response.text)):
            reason = f": {line}"
        raise SourceError(self._scrub(f"{what}: HTTP {response.status_code}{reason}"))

    # -- budget -------------------------------------------------------------------------

    def _remaining(self) -> int:
        return max(self.settings.x_read_budget - self.report.reads, 0)

    def _budget_note(self, stopped_at: datetime) -> None:
        budget = self.settings.x_read_budget
        if budget == 0:
            self.report.notes.append("X read budget is 0: no request made, nothing read")
            return
        self.report.notes.append(
            f"X read budget of {plural(budget, 'post')} reached ({self.report.reads} read): "
            f"the read stopped at {_rfc3339(stopped_at)}, posts before it were not read")

    # -- mentions -----------------------------------------------------------------------

    def _search_range(self, window: Span) -> tuple[datetime, datetime] | None:
        """The [start, end) that recent search may be asked, whole seconds, or None when
        none of the window can be read; notes what the 7-day limit leaves out."""
        now = self.clock.now().astimezone(UTC).replace(microsecond=0)
        earliest = now - RECENT_DAYS + START_MARGIN
        latest = now - END_LAG
        since, until = window.since.astimezone(UTC), window.until.astimezone(UTC)
        if since < earliest:
            self.report.notes.append("X recent search covers only the last 7 days: before "
                                     f"{_rfc3339(earliest)} not read")
            since = earliest
        until = min(until, latest)
        if since >= until:
            return None
        start = since.replace(microsecond=0)
        end = until if not until.microsecond else \
            until.replace(microsecond=0) + timedelta(seconds=1)
        return start, end

    def mentions(self, window: Span) -> Iterator[Mention]:
        """Posts created in the window that name a paper, newest first, each once a run."""
        bounds = self._search_range(window)
        if bounds is None:
            self.report.searched = False
            return
        start, end = bounds
        if self.settings.x_read_budget < PAGE_MIN:
            self.report.searched = False
            self._budget_note(end)
            return
        bad = 0
        try:
            for page in self._search_pages(start, end):
                found, undated = page_mentions(page, window, self.clock.now(), self._seen)
                bad += page.skipped + undated
                yield from found
        finally:
            if bad:
                self.report.notes.append(f"X: skipped {plural(bad, 'malformed post')}")

    def _search_pages(self, start: datetime, end: datetime) -> Iterator[Page]:
        """The pages of the recent search over [start, end), newest first, while the read
        budget lasts (a note says where it stopped)."""
        # Referenced posts come back as reads too; they are only needed to reach the
        # originals of retweets, which a query with -is:retweet never returns.
        originals = "-is:retweet" not in self.settings.x_query
        params: dict[str, Any] = {
            "query": self.settings.x_query, "start_time": _rfc3339(start),
            "end_time": _rfc3339(end), "tweet.fields": SEARCH_TWEET_FIELDS,
            "expansions": SEARCH_EXPANSIONS if originals else "author_id",
            "user.fields": SEARCH_USER_FIELDS,
        }
        oldest = end
        tokens: set[str] = set()
        while True:
            # a page may return as many referenced posts as posts: keep room for them
            remaining = self._remaining() // (2 if originals else 1)
            if remaining < PAGE_MIN:
                self._budget_note(oldest)
                return
            params["max_results"] = min(PAGE_MAX, remaining)
            page = parse_page(self._get("/tweets/search/recent", params, SEARCH), SEARCH)
            self.report.reads += page.returned
            oldest = min([oldest, *(t.created_at for t in page.tweets
                                    if t.created_at is not None)])
            yield page
            if page.next_token is None:
                return
            if page.next_token in tokens:
                raise SourceError(f"{SEARCH}: the API gave the same next_token twice")
            tokens.add(page.next_token)
            params["next_token"] = page.next_token

    # -- refresh ------------------------------------------------------------------------

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """New counts for stored posts, up to 100 a request; `gone` lists those X reports
        as not found or leaves out. Posts X hides (protected, suspended) are in neither."""
        ids = list(dict.fromkeys(str(i) for i in native_ids))
        result = Refreshed()
        hidden = 0
        done = 0
        while done < len(ids):
            remaining = self._remaining()
            if remaining == 0:
                self.report.notes.append(
                    f"X read budget of {plural(self.settings.x_read_budget, 'post')} reached: "
                    f"{plural(len(ids) - done, 'post')} not refreshed")
                break
            chunk = ids[done:done + min(LOOKUP_MAX, remaining)]
            done += len(chunk)
            hidden += self._lookup(chunk, result)
        if hidden:
            self.report.notes.append(
                f"X: {plural(hidden, 'post')} could not be read (not authorized)")
        return result

    def _lookup(self, chunk: list[str], result: Refreshed) -> int:
        """Look up the posts of `chunk` (at most 100) into `result`; returns how many of
        them X withholds."""
        params = {"ids": ",".join(chunk), "tweet.fields": LOOKUP_TWEET_FIELDS,
                  "expansions": "author_id", "user.fields": "username,name"}
        page = parse_page(self._get("/tweets", params, LOOKUP), LOOKUP, need_meta=False)
        self.report.reads += page.returned
        observed_at = self.clock.now()
        wanted = set(chunk)
        found = {t.id for t in page.tweets if t.id in wanted}
        result.mentions.extend(mention_of(t, page.users, observed_at)
                               for t in page.tweets if t.id in wanted)
        withheld = unreadable(page.errors, wanted) - found
        result.gone.extend(i for i in chunk if i not in found and i not in withheld)
        if page.skipped:
            self.report.notes.append(f"X: skipped {plural(page.skipped, 'malformed post')}")
        return len(withheld)


def _content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "no content type")
