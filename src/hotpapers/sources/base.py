"""What every attention source provides: mentions of papers for a time window, and fresh
counts (or news of deletion) for mentions already stored. Sources do HTTP, never SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from hotpapers.models import Mention

__all__ = ["MentionSource", "Refreshed", "SourceReport", "Span"]


@dataclass(frozen=True)
class Span:
    """A half-open UTC time interval [since, until)."""

    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("a window needs times with a zone (UTC)")
        if self.since >= self.until:
            raise ValueError(f"empty window: {self.since:%Y-%m-%dT%H:%MZ} is not before "
                             f"{self.until:%Y-%m-%dT%H:%MZ}")

    def __contains__(self, when: datetime) -> bool:
        return self.since <= when < self.until


@dataclass
class SourceReport:
    """What a source says about its own run, beside its mentions: requests made, posts read
    (X bills per read), notes for the summary (a budget reached, a window too old), and
    whether it searched at all (an empty result is then no cause for a warning)."""

    requests: int = 0
    reads: int = 0
    notes: list[str] = field(default_factory=list)
    searched: bool = True


@dataclass
class Refreshed:
    """The result of looking mentions up again: new observations, and ids no longer found."""

    mentions: list[Mention] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


@runtime_checkable
class MentionSource(Protocol):
    """One attention source. `mentions` yields each mention once, its paper ids resolved
    and one observation of its counts taken at the time read; it raises SourceError when
    the source fails (what was yielded before stays good). `refresh` looks stored mentions
    up again by native id; a source that cannot returns an empty Refreshed."""

    name: str
    report: SourceReport

    def mentions(self, window: Span) -> Iterator[Mention]: ...

    def refresh(self, native_ids: Sequence[str]) -> Refreshed: ...
