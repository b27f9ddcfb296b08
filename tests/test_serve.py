"""`hotpapers serve` itself: it refuses a store it would have to create or migrate (exit 2,
naming the command that migrates it), reads the store read-only, and serves over a real
uvicorn on loopback; `hotpapers demo` says how to serve its store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from conftest import POSTGRES
from hotpapers.config import Settings
from hotpapers.errors import InputError
from hotpapers.jobs.browse import open_reader
from hotpapers.store.db import connect, migrate
from hotpapers.web.app import create_app
from web_support import SEED_ORDER, fresh_url, load_demo


def test_a_store_at_an_older_revision_is_refused_naming_init(tmp_path, cli):
    with fresh_url(tmp_path, "old") as url:
        migrate(connect(url, migrate_schema=False), "0005")
        with pytest.raises(InputError, match=r"revision 0005.*never migrates.*init"):
            create_app(url, Settings())
        found = cli("--db", url, "serve", "--port", "1")
        assert found.code == 2
        assert "hotpapers --db" in found.err and "init` first" in found.err
        assert connect(url, migrate_schema=False).connect().execute(
            text("SELECT version_num FROM alembic_version")).scalar() == "0005"


def test_a_missing_or_empty_store_is_refused(tmp_path, cli):
    found = cli("--db", f"sqlite:///{tmp_path / 'none.sqlite3'}", "serve")
    assert found.code == 2 and "no database at" in found.err
    assert not (tmp_path / "none.sqlite3").exists()
    with fresh_url(tmp_path, "empty") as url:
        connect(url, migrate_schema=False).dispose()
        if not POSTGRES:
            (tmp_path / "empty.sqlite3").touch()
        with pytest.raises(InputError, match="not a hotpapers store"):
            open_reader(url)


def test_the_server_reads_the_store_read_only(tmp_path):
    with fresh_url(tmp_path, "ro") as url:
        load_demo(url)
        engine = open_reader(url)
        with engine.connect() as conn, pytest.raises(SQLAlchemyError):
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM papers")).scalar() == 53
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.stderr.read()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url} in {seconds} s")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_real_uvicorn_on_loopback_serves_the_seed_day(tmp_path, workers):
    with fresh_url(tmp_path, f"live{workers}") as url:
        load_demo(url)
        port = _free_port()
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
        env.pop("HOTPAPERS_CONFIG", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "hotpapers", "--db", url, "serve", "--port", str(port),
             "--workers", str(workers)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_for(f"{base}/healthz", process)
            found = httpx.get(f"{base}/api/v1/rankings?date=2021-01-18&method=classic"
                              "&window=day", timeout=10)
            assert [p["id"] for p in found.json()["papers"]] == SEED_ORDER
            assert "server" not in found.headers
            board = httpx.get(f"{base}/2021-01-18?method=classic", timeout=10)
            assert board.status_code == 200 and "Counterfactual Generative Networks" in board.text
        finally:
            process.terminate()
            _, err = process.communicate(timeout=20)
        assert '"GET /api/v1/rankings?date=2021-01-18&method=classic&window=day HTTP/1.1" 200' \
            in err


def test_the_demo_says_how_to_serve_its_store(cli, tmp_path):
    found = cli("demo", "--out", tmp_path / "demo")
    database = Path(tmp_path / "demo" / "hotpapers.sqlite3")
    assert f"hotpapers --db sqlite:///{database} serve" in found.out


def test_read_only_sessions_keep_the_urls_own_options():
    from sqlalchemy.engine import make_url

    from hotpapers.store.db import _server_options

    url = make_url("postgresql+psycopg://u@h/db?options=-c%20statement_timeout%3D5s")
    found = _server_options(url, read_only=True)["connect_args"]["options"]
    assert found == "-c statement_timeout=5s -c default_transaction_read_only=on"
    assert "options" not in _server_options(url)["connect_args"]


def test_an_address_it_cannot_listen_on_is_one_line_before_uvicorn(tmp_path, cli):
    """uvicorn logs several lines and exits 3 ("nothing to do") when it cannot bind: the
    command says why in one line first, exit 2 for an address not this machine's, 1 for a
    port in use."""
    with fresh_url(tmp_path, "bind") as url:
        load_demo(url)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            busy = cli("--db", url, "serve", "--port", str(port))
        assert busy.code == 1
        assert f"--port {port}: cannot listen there" in busy.err
        for host in ("bad host", "999.1.1.1"):
            bad = cli("--db", url, "serve", "--host", host, "--port", "1")
            assert bad.code == 2 and f"--host {host!r}: not an address" in bad.err, bad.err
            assert len(bad.err.strip().splitlines()) == 1
