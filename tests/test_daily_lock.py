"""The daily lock on PostgreSQL is the database's, not a host's: a holder in another process
(as on another host) keeps every other run out, waiting works, and a holder killed with
SIGKILL frees it, since the server ends its session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from conftest import postgres_only
from hotpapers.errors import NothingToDo, StoreError
from hotpapers.jobs.daily import daily_lock

ON_POSTGRES = postgres_only("the advisory lock is PostgreSQL's")


def hold(db_url: str) -> subprocess.Popen:
    """Another process holding the daily lock until it reads a line (or is killed). Its
    user data folder differs from ours, so a file lock could not keep us out."""
    env = {**os.environ, "XDG_DATA_HOME": "/nonexistent/elsewhere"}
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from hotpapers.jobs.daily import daily_lock
        with daily_lock({db_url!r}):
            print("locked", flush=True)
            sys.stdin.readline()
        print("released", flush=True)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "locked"
    return holder


@ON_POSTGRES
def test_a_holder_elsewhere_keeps_every_run_out(db_url, tmp_path):
    holder = hold(db_url)
    try:
        with pytest.raises(NothingToDo, match="PostgreSQL advisory lock 727002"), \
                daily_lock(db_url):
            pytest.fail("took a lock another process holds")
    finally:
        holder.communicate("\n", timeout=10)
    with daily_lock(db_url) as what:  # free again once the holder let go
        assert what == "PostgreSQL advisory lock 727002"


@ON_POSTGRES
def test_waiting_takes_the_lock_once_the_holder_lets_go(db_url):
    holder = hold(db_url)
    waits = []

    def sleep(seconds: float) -> None:  # the holder finishes while we "sleep"
        waits.append(seconds)
        if len(waits) == 1:
            assert holder.communicate("\n", timeout=10)[0].strip() == "released"

    with daily_lock(db_url, wait=30, sleep=sleep):
        pass
    assert waits == [0.5]
    assert holder.returncode == 0


@ON_POSTGRES
def test_a_killed_holder_frees_the_lock(db_url):
    holder = hold(db_url)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    assert holder.returncode == -signal.SIGKILL
    # the server sees the connection close; waiting (for real, briefly) covers the moment
    # between the kill and the server noticing it
    with daily_lock(db_url, wait=10) as what:
        assert "advisory lock" in what


def test_an_unreachable_server_is_one_line_without_the_password():
    url = "postgresql+psycopg://someone:s3cret-pass@127.0.0.1:1/none"
    with pytest.raises(StoreError) as caught, daily_lock(url):
        pytest.fail("locked a server that is not there")
    message = str(caught.value)
    assert "s3cret-pass" not in message and "\n" not in message
    assert message.startswith("--db postgresql+psycopg://someone:***@127.0.0.1:1/none")


@ON_POSTGRES
@pytest.mark.parametrize("fails", [False, True])
def test_a_lock_connection_ended_meanwhile_neither_fails_the_run_nor_hides_its_error(
        db_url, fails):
    """The server ends the holder's session mid-run (a restart, pg_terminate_backend): the
    lock went with it, so the run's own outcome stands."""
    from sqlalchemy import create_engine, text

    from hotpapers.store.locks import DAILY_LOCK

    other = create_engine(db_url, isolation_level="AUTOCOMMIT")
    try:
        def end_the_holder() -> None:
            with other.connect() as conn:
                ended = conn.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                    "'advisory' AND objid = :key AND granted"), {"key": DAILY_LOCK}).all()
            assert ended == [(True,)]

        if fails:
            with pytest.raises(ValueError, match="the run's own error"), daily_lock(db_url):
                end_the_holder()
                raise ValueError("the run's own error")
        else:
            with daily_lock(db_url):
                end_the_holder()
        with daily_lock(db_url) as what:  # and the lock is free
            assert "advisory lock" in what
    finally:
        other.dispose()
