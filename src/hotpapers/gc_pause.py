"""A pause of Python's cyclic garbage collector around work that allocates many short-lived,
acyclic objects (a month's ranking makes about 100,000 tuples): a collection during it
walks the whole heap and finds nothing to free. Reference counting still frees everything;
the collector runs again when the last pause ends (pauses may nest and overlap in threads)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_state = {"pauses": 0, "was_enabled": False}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off cyclic collections while the block runs; leaves the collector as it found
    it (a program that turned it off keeps it off)."""
    with _lock:
        if _state["pauses"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["pauses"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["pauses"] -= 1
            if _state["pauses"] == 0 and _state["was_enabled"]:
                gc.enable()
