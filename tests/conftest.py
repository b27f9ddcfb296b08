"""Shared fixtures: paths to ../shared (tests skip without it), fresh SQLite files, a CLI runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from hotpapers import secrets
from hotpapers.cli import main
from hotpapers.store.db import connect

settings.register_profile("ci", deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
SHARED = Path(os.environ.get("HOTPAPERS_SHARED", ROOT.parent / "shared"))


@pytest.fixture(autouse=True, scope="session")
def _cache_home(tmp_path_factory):
    """The user cache folder (compiled site templates) is the session's, not the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache-home")))
        yield


@pytest.fixture(autouse=True)
def _forget_secrets():
    """The secret registry is per process: a test's fake tokens must not mask the next
    test's expected text."""
    yield
    secrets.clear()


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture
def corpus_dir() -> Path:
    return shared_path("corpus", "legacy-posts")


@pytest.fixture
def seed_post() -> Path:
    return shared_path("seed", "000_10bfd103cf2760b6.txt")


POSTGRES = os.environ.get("HOTPAPERS_TEST_POSTGRES")  # a server URL, e.g. postgresql://u@host/db


@pytest.fixture
def db_url(tmp_path: Path, request) -> str:
    """A fresh database per test: a SQLite file, or with HOTPAPERS_TEST_POSTGRES set, a new
    PostgreSQL database on that server (dropped afterwards)."""
    if not POSTGRES:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"hp_test_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**9}"
    server = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()




def sqlite_only(why: str):
    """Mark a test of a behaviour only SQLite has; `why` names it in the skip reason."""
    return pytest.mark.skipif(bool(POSTGRES), reason=f"SQLite only: {why}")


def postgres_only(why: str):
    """Mark a test that needs PostgreSQL; it skips, saying so, without HOTPAPERS_TEST_POSTGRES."""
    return pytest.mark.skipif(not POSTGRES, reason=f"PostgreSQL only (set HOTPAPERS_TEST_POSTGRES "
                                                   f"to run it): {why}")


@pytest.fixture
def engine(db_url: str):
    engine = connect(db_url)
    yield engine
    engine.dispose()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path, db_url):
    """Run `hotpapers ARGS...` in-process against the test database; returns code and output."""
    monkeypatch.setenv("HOTPAPERS_DB", db_url)
    monkeypatch.delenv("HOTPAPERS_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
