"""What every publisher gets and gives: a Digest (plain data about one day) in, the exact
payloads it would send out (shown by --dry-run), then a receipt once sent. Publishers do
I/O only in `send`; `prepare` is pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Digest", "DigestPaper", "Payload", "Publisher", "Receipt"]


@dataclass(frozen=True)
class DigestPaper:
    """One ranked paper as a digest shows it."""

    rank: int
    id: str
    title: str
    authors: tuple[str, ...]
    url: str  # the abstract page (or the site's page of the paper)
    pdf_url: str | None = None
    score: float = 0.0
    summary: str = ""  # e.g. "retweets: 576, favorites: 138" or "12 people on 3 sources"


@dataclass(frozen=True)
class Digest:
    """A day's digest: its title, the papers in rank order, and the rendered post file
    (name and text) for publishers that publish the post itself (git)."""

    day: date
    title: str  # "Hot Papers 2021-01-18"
    method: str
    generated_at: datetime
    papers: tuple[DigestPaper, ...]
    post_name: str = ""
    post_text: str = ""
    url: str | None = None  # the day's page on the site, when there is one


@dataclass(frozen=True)
class Payload:
    """One thing a publisher will send, exactly: `body` is printed by --dry-run as is."""

    target: str
    summary: str  # one line: "commit content/posts/... to origin/main", "3 posts", ...
    body: str


@dataclass(frozen=True)
class Receipt:
    """What was published: the target's id for it (commit hash, post URI, message id)."""

    target: str
    remote_id: str
    details: dict = field(default_factory=dict)


@runtime_checkable
class Publisher(Protocol):
    """A target. `prepare` builds the payloads from the digest without any I/O; `send`
    delivers them and returns the receipt, raising PublishError (a SourceError) when the
    target refuses. Credentials come from Secrets (the environment) only."""

    name: str

    def prepare(self, digest: Digest) -> list[Payload]: ...

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt: ...
