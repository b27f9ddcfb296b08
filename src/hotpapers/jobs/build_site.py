"""`site build`: the site's data read from the store (what changed since the last build
only, see site/build.py's build_incremental), then built."""

from __future__ import annotations

import gc
import time
from pathlib import Path

from hotpapers.site.build import BuildSummary, build_incremental
from hotpapers.store.raw import RawStore
from hotpapers.store.site_parts import site_reader

__all__ = ["build_site"]


def build_site(store: RawStore, out: Path, **options) -> BuildSummary:
    """Build the site into `out` from the store; returns what was written."""
    started = time.perf_counter()
    collecting = gc.isenabled()
    gc.disable()  # a build makes many objects that all live till its end: no garbage to find
    try:
        with site_reader(store, options.pop("fmt", "lumen")) as reader:
            summary = build_incremental(reader, out, **options)
    finally:
        if collecting:
            gc.enable()
    summary.seconds = time.perf_counter() - started
    return summary
