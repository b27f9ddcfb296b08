"""Fault class (a): each command killed with SIGKILL at random moments (seeded) leaves a
sound store, and its rerun converges to the uninterrupted result (rows per table; the site
folder byte for byte)."""

from __future__ import annotations

import sqlite3

import pytest
from harness.kills import SCENARIOS, Scenario, kill_trials
from harness.procs import hp_env, kill_when, run_hp

from conftest import sqlite_only

pytestmark = sqlite_only("its stores are SQLite files of real processes; it runs once")

TRIALS = 5
SIZES = {"import-legacy": 8, "import-arxiv-snapshot": 3000, "fetch-mentions": 0,
         "stream-bluesky": 400, "site-build": 4}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_killed_command_leaves_a_sound_store_and_its_rerun_converges(scenario, tmp_path):
    reference, trials = kill_trials(scenario, tmp_path, SIZES[scenario], TRIALS, seed=13)
    assert sum(sum(rows.values()) for rows in reference.values()) > 0  # it did something
    assert any(trial.killed for trial in trials)
    failed = [t for t in trials if t.failed]
    assert not failed, "\n\n".join(
        f"integrity {t.integrity}; rerun exit {t.code}; {t.lost} rows lost, {t.duplicated} "
        f"duplicated; outlived by {t.outlived:.2f} s\n{t.detail}" for t in failed)


def test_a_killed_import_is_not_left_running_after_the_next_command(tmp_path):
    scenario = Scenario("import-legacy", tmp_path, SIZES["import-legacy"], seed=13)
    scenario.prepare()
    db, _ = scenario.fresh(tmp_path / "run")
    env = hp_env(tmp_path / "home", f"sqlite:///{db}")
    assert kill_when(scenario.args, env, lambda: _statuses(db) != [])
    assert _statuses(db) == ["running"]  # killed while its run was recorded
    assert run_hp(scenario.args, env).code == 0
    statuses = _statuses(db)
    assert len(statuses) == 2 and statuses[1] == "ok"
    assert statuses[0] != "running", statuses


def _statuses(db) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return [row[0] for row in conn.execute("SELECT status FROM runs ORDER BY id")]
    finally:
        conn.close()
