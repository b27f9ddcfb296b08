"""`site build`: the site's data read from the store in a few queries, then built."""

from __future__ import annotations

import time
from pathlib import Path

from hotpapers.site.build import BuildSummary, build_from
from hotpapers.store.raw import RawStore
from hotpapers.store.site_data import load_site_data

__all__ = ["build_site"]


def build_site(store: RawStore, out: Path, **options) -> BuildSummary:
    """Build the site into `out` from the store; returns what was written."""
    started = time.perf_counter()
    summary = build_from(load_site_data(store, options.pop("fmt", "lumen")), out, **options)
    summary.seconds = time.perf_counter() - started
    return summary
