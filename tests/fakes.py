"""Test doubles for time: a clock whose sleep advances it instantly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hotpapers.http import Clock


class FakeClock(Clock):
    """Monotonic and wall time that only move when something sleeps."""

    def __init__(self, start: datetime = datetime(2026, 1, 5, 12, tzinfo=UTC)) -> None:
        self.t = 1000.0
        self.start = start
        self.sleeps: list[float] = []
        super().__init__(monotonic=lambda: self.t, sleep=self._sleep,
                         now=lambda: self.start + timedelta(seconds=self.t - 1000.0))

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
