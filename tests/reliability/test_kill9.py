"""Fault class (a): each command killed with SIGKILL at random moments (seeded) leaves a
sound store, and its rerun converges to the uninterrupted result (rows per table; the site
folder byte for byte)."""

from __future__ import annotations

import pytest
from harness.kills import SCENARIOS, Scenario, kill_trials
from harness.procs import hp_env, kill_after, run_hp
from sqlalchemy import create_engine, text

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
    assert kill_after(scenario.args, env, delay=1.5).killed
    assert run_hp(scenario.args, env).code == 0
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        statuses = list(conn.execute(text("SELECT command, status FROM runs ORDER BY id")))
    engine.dispose()
    assert len(statuses) == 2 and statuses[1][1] == "ok"
    assert statuses[0][1] != "running", statuses
