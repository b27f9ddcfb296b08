"""Commands started together on a new store: the schema is migrated once, by one of them."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import POSTGRES
from hotpapers.store.db import connect, current_revision
from hotpapers.store.revision import HEAD_REVISION

# each process loads everything first, then waits on its stdin so that all start together
RACER = textwrap.dedent("""
    import sys
    import alembic.command, hotpapers.store.db
    from hotpapers.cli import main
    sys.stdin.readline()
    main(sys.argv[1:])
    """)


def start_together(url: str, tmp_path, n: int) -> list[tuple[int, str]]:
    """`hotpapers --db url init` in n processes released at once; (exit code, stderr) each."""
    racers = [subprocess.Popen(
        [sys.executable, "-c", RACER, "--db", url, "--config", str(tmp_path / f"c{i}.toml"),
         "init"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for i in range(n)]
    for racer in racers:
        racer.stdin.write("go\n")
    for racer in racers:
        racer.stdin.flush()
    errors = [r.communicate(timeout=120)[1] for r in racers]
    return [(r.returncode, e) for r, e in zip(racers, errors, strict=True)]


def test_p10_four_commands_on_a_new_store_all_succeed(db_url, tmp_path):
    urls = [db_url] if POSTGRES else [f"sqlite:///{tmp_path / f'new{i}' / 'hp.sqlite3'}"
                                      for i in range(2)]
    for url in urls:
        results = start_together(url, tmp_path, 4)
        assert [code for code, _ in results] == [0] * 4, [e for _, e in results]
        engine = connect(url, migrate_schema=False)
        assert current_revision(engine) == HEAD_REVISION
        engine.dispose()


def test_p10_threads_of_one_process_migrate_their_own_stores_at_once(tmp_path):
    """Alembic keeps its migration context in module globals: two threads migrating two
    stores at once mixed them up ("table accounts already exists", KeyError 'script')."""
    import threading

    barrier, errors = threading.Barrier(4), []

    def migrate_one(i: int) -> None:
        barrier.wait()
        try:
            connect(f"sqlite:///{tmp_path / f'thread{i}.sqlite3'}").dispose()
        except Exception as exc:  # any failure is what the test looks for
            errors.append(f"{type(exc).__name__}: {exc}")

    for _ in range(3):
        threads = [threading.Thread(target=migrate_one, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        for i in range(4):
            engine = connect(f"sqlite:///{tmp_path / f'thread{i}.sqlite3'}",
                             migrate_schema=False)
            assert current_revision(engine) == HEAD_REVISION
            engine.dispose()
            (tmp_path / f"thread{i}.sqlite3").unlink()
