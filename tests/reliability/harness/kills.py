"""Fault class (a): a command killed with SIGKILL after a random delay, the store checked,
the command run again to its end, and the result compared with an uninterrupted run."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from hotpapers.store.db import connect

from .data import jetstream_events, legacy_posts, snapshot_file
from .digest import compare, differences, integrity_check, store_rows, tree_digest
from .procs import hp_env, kill_after, run_hp
from .servers import FaultServer, Jetstream
from .sources import SECRETS, healthy, source_settings

__all__ = ["SCENARIOS", "Trial", "kill_trials"]

SCENARIOS = ("import-legacy", "import-arxiv-snapshot", "fetch-mentions", "stream-bluesky",
             "site-build")
# Files of the site folder left out of its comparison: none. The build state
# .hotpapers-site.json (documented in the README) is compared like any other file.
SITE_EXCLUDED: frozenset[str] = frozenset()


@dataclass
class Trial:
    killed: bool
    integrity: str
    code: int  # of the rerun
    lost: int
    duplicated: int
    outlived: float  # seconds a process of the killed command outlived it
    detail: str

    @property
    def failed(self) -> bool:
        return (self.integrity != "ok" or self.code != 0 or self.lost or self.duplicated
                or self.outlived > 0.2)


class Scenario:
    """One command, its inputs made once under `work`, and how to digest its result."""

    def __init__(self, name: str, work: Path, size: int, seed: int) -> None:
        self.name, self.work, self.size, self.seed = name, work, size, seed
        self.base = work / "base.sqlite3"  # the store each run starts from
        self.settings: dict[str, str] = {}
        self.args: list[str] = []
        self.events: list[str] = []

    def prepare(self) -> None:
        work = self.work
        env = hp_env(work / "home", f"sqlite:///{self.base}")
        if self.name == "import-legacy":
            self.args = ["import", "legacy", str(legacy_posts(work / "posts", self.size))]
        elif self.name == "import-arxiv-snapshot":
            self.args = ["import", "arxiv-snapshot",
                         str(snapshot_file(work / "snapshot.jsonl", self.size, self.seed))]
        elif self.name == "fetch-mentions":
            self.args = ["fetch", "mentions", "--source", "all", "--since", "2025-01-19",
                         "--until", "2026-06-14"]
            self.settings = {**SECRETS, "HTTP_RETRIES": "0",
                             "MENTION_SOURCES": '["hn","mastodon","reddit","bluesky"]'}
        elif self.name == "stream-bluesky":
            self.events = jetstream_events(self.size, self.seed)
            self.args = ["stream", "bluesky", "--max-events", str(self.size)]
            # a rerun replays the whole stream (duplicates are dropped), so --max-events
            # is reached again
            self.settings = {"BSKY_REWIND_SECONDS": "3600"}
        elif self.name == "site-build":
            posts = legacy_posts(work / "posts", self.size)
            run = run_hp(["import", "legacy", str(posts)], env)
            if run.code != 0:
                raise RuntimeError(f"preparing the store failed: {run.err}")
            self.args = ["site", "build", "--embeds", "static"]
        else:
            raise ValueError(self.name)
        if not self.base.exists():
            connect(f"sqlite:///{self.base}").dispose()  # a migrated, empty store

    @contextmanager
    def servers(self) -> Iterator[dict[str, str]]:
        """The loopback servers a run needs, and the settings naming them."""
        with ExitStack() as stack:
            settings = dict(self.settings)
            if self.name == "fetch-mentions":
                server = stack.enter_context(FaultServer(healthy))
                settings.update(source_settings(server.url))
            if self.name == "stream-bluesky":
                stream = stack.enter_context(Jetstream(self.events))
                settings["BSKY_JETSTREAM_URL"] = stream.url
            yield settings

    def fresh(self, run: Path) -> tuple[Path, Path]:
        """A copy of the base store and an output folder for one run."""
        run.mkdir(parents=True)
        db = run / "store.sqlite3"
        shutil.copy(self.base, db)
        return db, run / "site"

    def command(self, out: Path) -> list[str]:
        return [*self.args, "--out", str(out)] if self.name == "site-build" else self.args

    def started(self, db: Path, out: Path) -> Callable[[], bool]:
        """A test of whether the command got past its start-up: its run is recorded (the
        site folder exists, for `site build`, which records no run)."""
        if self.name == "site-build":
            return out.exists
        return lambda: _has_run(db)

    def digest(self, db: Path, out: Path) -> dict[str, Counter]:
        if self.name == "site-build":
            files = tree_digest(out) if out.exists() else {}
            return {"site": Counter(item for item in files.items()
                                    if item[0] not in SITE_EXCLUDED)}
        return store_rows(f"sqlite:///{db}")


def _has_run(db: Path) -> bool:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0] > 0
    except sqlite3.OperationalError:  # locked beyond the timeout: ask again later
        return False
    finally:
        conn.close()


def _reference(scenario: Scenario) -> tuple[dict[str, Counter], float]:
    db, out = scenario.fresh(scenario.work / "reference")
    with scenario.servers() as settings:
        env = hp_env(scenario.work / "home", f"sqlite:///{db}", **settings)
        run = run_hp(scenario.command(out), env)
    if run.code != 0:
        raise RuntimeError(f"{scenario.name}: the uninterrupted run failed: {run.err[-2000:]}")
    return scenario.digest(db, out), run.seconds


def _trial(scenario: Scenario, number: int, delay: float,
           reference: dict[str, Counter]) -> Trial:
    db, out = scenario.fresh(scenario.work / f"trial-{number}")
    with scenario.servers() as settings:
        env = hp_env(scenario.work / "home", f"sqlite:///{db}", **settings)
        killed = kill_after(scenario.command(out), env, delay, scenario.started(db, out))
        integrity = integrity_check(db)
    with scenario.servers() as settings:  # a fresh server: nothing of the killed run's
        env = hp_env(scenario.work / "home", f"sqlite:///{db}", **settings)
        rerun = run_hp(scenario.command(out), env)
    got = scenario.digest(db, out)
    lost, duplicated = compare(reference, got)
    detail = f"delay {delay:.2f} s; rerun exit {rerun.code}: {rerun.err.strip()[-500:]}\n" \
        + differences(reference, got)
    return Trial(killed.killed, integrity, rerun.code, lost, duplicated, killed.outlived,
                 detail)


def kill_trials(name: str, work: Path, size: int, trials: int,
                seed: int) -> tuple[dict[str, Counter], list[Trial]]:
    """The result of an uninterrupted run of scenario `name`, and `trials` kill-and-rerun
    trials with delays drawn from a RNG seeded with `seed`, each compared with it."""
    scenario = Scenario(name, work, size, seed)
    scenario.prepare()
    reference, seconds = _reference(scenario)
    startup = run_hp(["--help"], hp_env(work / "home", "sqlite://")).seconds
    seconds = max(0.2, seconds - startup)  # the delays fall in the work, after start-up
    rng = random.Random(seed)
    return reference, [_trial(scenario, n, rng.uniform(0.0, seconds), reference)
                       for n in range(trials)]
