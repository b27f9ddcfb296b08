"""Hugging Face daily papers: each paper on the list of a UTC day is one mention (its upvote
page), with its upvotes and comment count; papers looked up again through `papers/<id>`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from hotpapers.arxiv_ids import normalize
from hotpapers.config import Secrets, Settings
from hotpapers.errors import SourceError
from hotpapers.http import Clock
from hotpapers.models import Account, Mention, Observation
from hotpapers.sources.base import Refreshed, Span
from hotpapers.sources.common import HttpSource, count, json_body, plural, utc_time

__all__ = [
    "HuggingFaceSource", "NotArxiv", "parse_daily_papers", "parse_entry", "parse_paper",
    "window_days",
]

# The official client (huggingface_hub.list_daily_papers) sends `limit`; the Hub API page
# documents only `date`, so no paging: a full day is reported in a note instead.
LIMIT = 100


class NotArxiv(ValueError):
    """A daily-papers entry whose id is not an arXiv id."""


def window_days(window: Span, today: date | None = None) -> list[date]:
    """The UTC dates d whose day [d, d+1) overlaps the window, none after `today`."""
    first = window.since.astimezone(UTC).date()
    last = (window.until.astimezone(UTC) - timedelta(microseconds=1)).date()
    if today is not None:
        last = min(last, today)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_daily_papers(body: Any, day: date) -> list[Any]:
    """The entries of a day's list; SourceError when the answer is not a list."""
    if not isinstance(body, list):
        raise SourceError(f"hf: daily papers of {day}: the answer is a JSON "
                          f"{type(body).__name__}, not a list")
    return body


def _account(submitter: Any) -> Account | None:
    """The submitter's account: `user` in paper.submittedOnDailyBy, `name` in the entry's
    submittedBy (both the user name), `fullname` the display name."""
    if not isinstance(submitter, dict):
        return None
    user = submitter.get("user") or submitter.get("name")
    if not isinstance(user, str) or not user:
        return None
    fullname = submitter.get("fullname")
    return Account("hf", user, user, fullname if isinstance(fullname, str) else None)


def _mention(paper: Mapping[str, Any], outer: Mapping[str, Any],
             observed_at: datetime) -> Mention:
    """A mention from a paper object and what surrounds it (the daily entry, or the paper
    itself for `papers/<id>`). NotArxiv or ValueError when it cannot be one."""
    raw_id = paper.get("id")
    if not isinstance(raw_id, str):
        raise ValueError("a paper without an id")
    try:
        arxiv_id = normalize(raw_id)
    except ValueError:
        raise NotArxiv(f"not an arXiv id: {raw_id!r}") from None
    created = (utc_time(paper.get("submittedOnDailyAt")) or utc_time(outer.get("publishedAt"))
               or utc_time(paper.get("publishedAt")))
    if created is None:
        raise ValueError(f"{raw_id}: no submission or publication time")
    title = outer.get("title") or paper.get("title")
    replies = outer.get("numComments", paper.get("numComments"))
    return Mention(
        source="hf",
        native_id=raw_id,
        paper_ids=[arxiv_id],
        permalink=f"https://huggingface.co/papers/{raw_id}",
        account=_account(outer.get("submittedBy")) or _account(paper.get("submittedOnDailyBy")),
        text=title if isinstance(title, str) else None,
        created_at=created,
        kind="upvote-page",
        observations=[Observation(observed_at=observed_at, points=count(paper.get("upvotes")),
                                  replies=count(replies))],
    )


def parse_entry(entry: Any, observed_at: datetime) -> Mention:
    """The mention of one daily-papers entry ({"paper": {...}, "numComments", ...})."""
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        raise ValueError("an entry without a paper object")
    return _mention(entry["paper"], entry, observed_at)


def parse_paper(body: Any, observed_at: datetime) -> Mention:
    """The mention of a `papers/<id>` answer (the paper object itself)."""
    if not isinstance(body, dict):
        raise ValueError(f"the answer is a JSON {type(body).__name__}, not an object")
    return _mention(body, body, observed_at)


class HuggingFaceSource(HttpSource):
    """The Hugging Face daily papers lists, one request per UTC day (no credentials)."""

    name = "hf"
    refresh_batch = 10  # one request per paper: small batches keep what was read if one fails

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(settings, clock, transport, headers={"Accept": "application/json"})
        self.base = settings.hf_api_url.rstrip("/")
        self._seen: set[str] = set()

    def mentions(self, window: Span) -> Iterator[Mention]:
        """The papers listed on each UTC day overlapping the window (a day partly in the
        window counts whole: its entries carry the day, not a time), each once per run."""
        bad = not_arxiv = 0
        try:
            for day in window_days(window, self.clock.now().astimezone(UTC).date()):
                what = f"hf: daily papers of {day}"
                response = self._request("GET", f"{self.base}/daily_papers", what,
                                         params={"date": day.isoformat(), "limit": LIMIT})
                entries = parse_daily_papers(json_body(response, what), day)
                if len(entries) >= LIMIT:
                    self.report.notes.append(
                        f"hf: {day} lists {len(entries)} papers, as many as one request "
                        f"returns; some may be missing")
                for entry in entries:
                    try:
                        mention = parse_entry(entry, self.clock.now())
                    except NotArxiv:
                        not_arxiv += 1
                        continue
                    except ValueError:
                        bad += 1
                        continue
                    if mention.native_id not in self._seen:
                        self._seen.add(mention.native_id)
                        yield mention
        finally:
            if not_arxiv:
                self.report.notes.append(f"hf: skipped {plural(not_arxiv, 'entry', 'entries')} "
                                         "whose id is not an arXiv id")
            if bad:
                self.report.notes.append(
                    f"hf: skipped {plural(bad, 'entry', 'entries')} (malformed)")

    def refresh(self, native_ids: Sequence[str]) -> Refreshed:
        """Upvotes of stored papers, one `papers/<id>` call each; a 404 is reported gone."""
        return self._look_up_each(native_ids, f"{self.base}/papers", "paper", parse_paper)
