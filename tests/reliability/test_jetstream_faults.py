"""Fault class (b): a loopback Jetstream that drops connections, repeats frames, sends
garbage and frames over 4 MiB: the store ends as after one loss-free pass."""

from __future__ import annotations

import pytest
from harness.data import jetstream_events
from harness.digest import compare, differences
from harness.streams import stream_pass

from conftest import sqlite_only

pytestmark = sqlite_only("its stores are SQLite files of real processes; it runs once")

EVENTS = 300


@pytest.fixture(scope="module")
def events():
    return jetstream_events(EVENTS, seed=7)


@pytest.fixture(scope="module")
def loss_free(events, tmp_path_factory):
    result = stream_pass(tmp_path_factory.mktemp("clean") / "s.sqlite3", events)
    assert result.error == ""
    assert sum(result.rows["engagements"].values()) > 0
    return result.rows


FAULTS = {
    "dropped-connections": {"drops": [7, 40, 0, 111, 3, 250]},
    "duplicated-frames": {"duplicate_every": 5},
    "garbage-frames": {"garbage_every": 9},
    "oversized-frames": {"oversize_every": 60},
    "everything-at-once": {"drops": [50, 5, 160], "duplicate_every": 7, "garbage_every": 11,
                           "oversize_every": 90},
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_jetstream_stores_what_a_loss_free_pass_stores(fault, events, loss_free,
                                                               tmp_path):
    result = stream_pass(tmp_path / "s.sqlite3", events, **FAULTS[fault])
    assert result.error == ""
    lost, duplicated = compare(loss_free, result.rows)
    assert (lost, duplicated) == (0, 0), differences(loss_free, result.rows)
