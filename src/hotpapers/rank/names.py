"""The names of the ranking methods and windows (no imports: the command line's choices)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Method", "Window"]


class Method(StrEnum):
    classic = "classic"
    hot = "hot"
    trending = "trending"


class Window(StrEnum):
    day = "day"
    week = "week"
    month = "month"
