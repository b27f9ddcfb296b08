"""Fault class (c): every source against a loopback server that throttles (429 with
Retry-After in seconds and as an HTTP date), fails (5xx), stalls, drips, truncates, answers
HTML or 50 MB: each run ends within its budget, keeps what it read, says what failed in one
line per source without a traceback, and a rerun against a healthy server converges."""

from __future__ import annotations

import pytest
from harness.digest import compare, differences
from harness.faults import MATRIX_SOURCES, fetch_run, time_bound
from harness.servers import FAULTS

from conftest import sqlite_only

pytestmark = sqlite_only("its stores are SQLite files of real processes; it runs once")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    work = tmp_path_factory.mktemp("healthy")
    result = fetch_run(work / "s.sqlite3", work, fault=None)
    assert result.run.code == 0, result.run.err
    assert sum(result.rows["mentions"].values()) > 0
    return result.rows


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_server_costs_at_most_the_budget_and_a_rerun_converges(fault, reference,
                                                                       tmp_path):
    db = tmp_path / "s.sqlite3"
    faulty = fetch_run(db, tmp_path, fault)
    err = faulty.run.err
    assert faulty.run.seconds <= time_bound(), f"took {faulty.run.seconds:.0f} s: {err[-500:]}"
    assert "Traceback" not in err, err[-3000:]
    for source in MATRIX_SOURCES:  # each failed source is named on one line
        lines = [line for line in err.splitlines()
                 if line.startswith(f"hotpapers: error: {source}: ")]
        assert len(lines) == 1, f"{source}: {err[-2000:]}"
    _lost, duplicated = compare(reference, faulty.rows)
    assert duplicated == 0, differences(reference, faulty.rows)  # nothing wrong was kept
    assert sum(faulty.rows["mentions"].values()) > 0  # what was read before the fault
    healthy = fetch_run(db, tmp_path, fault=None)
    assert healthy.run.code == 0, healthy.run.err[-2000:]
    assert compare(reference, healthy.rows) == (0, 0), differences(reference, healthy.rows)
