"""The collector pause: nested and overlapping pauses, and a program that keeps the
collector off."""

from __future__ import annotations

import gc
import threading

import pytest

from hotpapers.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_a_pause_ends_with_the_last_one_even_after_an_error():
    with gc_paused():
        assert not gc.isenabled()
        with pytest.raises(ValueError), gc_paused():
            raise ValueError("inside")
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_a_program_that_turned_the_collector_off_keeps_it_off():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_threads_end_with_the_last():
    inside, release = threading.Barrier(2), threading.Event()
    seen = []

    def worker():
        with gc_paused():
            inside.wait()
            release.wait()

    thread = threading.Thread(target=worker)
    thread.start()
    with gc_paused():
        inside.wait()
    seen.append(gc.isenabled())  # the worker still pauses
    release.set()
    thread.join()
    assert seen == [False] and gc.isenabled()
