"""Fault class (c): `fetch mentions` of every source against a loopback server with one HTTP
fault, then again against a healthy one; what each run stored, said and took."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .digest import store_rows
from .procs import Finished, hp_env, run_hp
from .servers import FaultServer
from .sources import SECRETS, healthy, source_settings

__all__ = ["BUDGET", "MATRIX_SOURCES", "WINDOW", "FaultRun", "fetch_run", "time_bound"]

MATRIX_SOURCES = ["hn", "hf", "bluesky", "mastodon", "reddit"]
WINDOW = ["--since", "2026-06-12", "--until", "2026-06-14"]
BUDGET = {"HTTP_TIMEOUT": "1", "HTTP_RETRIES": "1", "HTTP_DEADLINE": "1.5",
          "SOURCE_BUDGET": "3"}


def time_bound() -> float:
    """Seconds a whole faulty run may take: each source's budget, plus start-up."""
    return len(MATRIX_SOURCES) * float(BUDGET["SOURCE_BUDGET"]) + 20.0


@dataclass
class FaultRun:
    run: Finished
    rows: dict[str, Counter]
    requests: int


def fetch_run(db: Path, home: Path, fault: str | None, sources: list[str] | None = None,
              extra: dict[str, str] | None = None, server: FaultServer | None = None
              ) -> FaultRun:
    """`fetch mentions --source all` of `sources` into `db`; from each source's second
    request on, the server answers with `fault` (None: healthy)."""
    own = server is None
    server = server or FaultServer(healthy, fault, fault_from=1)
    try:
        if own:
            server.__enter__()
        env = hp_env(home, f"sqlite:///{db}", **SECRETS, **BUDGET, **source_settings(server.url),
                     MENTION_SOURCES=json.dumps(sources or MATRIX_SOURCES), **(extra or {}))
        run = run_hp(["-v", "fetch", "mentions", "--source", "all", *WINDOW], env)
    finally:
        if own:
            server.__exit__(None, None, None)
    return FaultRun(run, store_rows(f"sqlite:///{db}"), len(server.requests))
