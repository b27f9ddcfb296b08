"""What the web tests share: a store holding the bundled demo days (SQLite, or a fresh
PostgreSQL database with HOTPAPERS_TEST_POSTGRES), and requests to an app in-process
through httpx's ASGI transport (as datasette's tests do)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from conftest import POSTGRES
from hotpapers.jobs.demo import demo_snapshot, synthetic_snapshot
from hotpapers.jobs.snapshot import import_records, read_snapshot
from hotpapers.store.db import connect

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
SEED_ORDER = ["2101.06046", "2101.05913", "2101.06006", "2101.06005", "2101.06060",
              "2101.06234", "2101.06184", "2101.06013"]  # the seed post's papers, in order


@contextmanager
def fresh_url(folder: Path, name: str) -> Iterator[str]:
    """An empty database: a SQLite file in `folder`, or a new PostgreSQL database."""
    if not POSTGRES:
        yield f"sqlite:///{folder / (name + '.sqlite3')}"
        return
    database = f"hp_web_{os.getpid()}_{name}"
    server = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(POSTGRES).set(database=database).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        server.dispose()


def load_demo(url: str) -> None:
    """The bundled day 2021-01-18 (its published classic ranking) and the synthetic day
    2026-01-05 (many sources), as `hotpapers demo` loads them."""
    engine = connect(url)
    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
        import_records(conn, read_snapshot(synthetic_snapshot()), NOW,
                       origin=str(synthetic_snapshot()))
    engine.dispose()


def get(app, url: str, **headers: str) -> httpx.Response:
    return request(app, "GET", url, headers)


def request(app, method: str, url: str, headers: dict | None = None) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.request(method, url, headers=headers or {})

    return asyncio.run(send())


def paper_links(html: str) -> list[str]:
    """The ids of the papers a board lists, in its order."""
    return re.findall(r'<h2 class="window-title"><a href="/papers/([^"]+)">', html)
