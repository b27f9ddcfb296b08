"""What the commands share: the consoles, the run state (settings, database, quietness),
progress and error reporting, and the common option types."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from hotpapers.config import Settings, default_db_url, load_settings
from hotpapers.errors import InputError
from hotpapers.secrets import scrub

if TYPE_CHECKING:
    from rich.progress import Progress
    from sqlalchemy import Engine

__all__ = ["DateOption", "PostPaths", "State", "err", "now", "out", "parse_day", "state_of"]



class ScrubbingConsole(Console):
    """A console that scrubs secrets (hotpapers.secrets) from every text it prints."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(scrub(o) if isinstance(o, str) else o for o in objects), **kwargs)


out = ScrubbingConsole(markup=False, highlight=False)
err = ScrubbingConsole(stderr=True, markup=False, highlight=False)


@dataclass
class State:
    db: str | None = None
    config: Path | None = None
    verbosity: int = 0
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config, db=self.db)
        return self._settings

    @property
    def db_url(self) -> str:
        return self.settings.db or default_db_url()

    @property
    def db_origin(self) -> str:
        """Where the store's URL came from, as an error about it names it."""
        if self.db:
            return "--db"
        if os.environ.get("HOTPAPERS_DB"):
            return "HOTPAPERS_DB"
        return "db (the config file)" if self.settings.db else "the default store"

    def connect(self, **options: Any) -> Engine:
        """The store (store.db.connect), an error about its URL naming where it came from."""
        from hotpapers.store.db import connect

        return connect(self.db_url, option=self.db_origin, **options)

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0

    def say(self, message: str) -> None:
        if not self.quiet:
            out.print(message, highlight=False, soft_wrap=True)

    def log(self, message: str) -> None:
        """One time-stamped line on stderr, flushed at once, when stderr is not a terminal
        (cron, systemd, a pipe), where a progress display would show nothing."""
        if not self.quiet and not err.is_terminal:
            sys.stderr.write(f"{now():%Y-%m-%dT%H:%M:%SZ} hotpapers: {message}\n")
            sys.stderr.flush()

    def progress(self) -> Progress:
        from rich.progress import Progress  # lazy: most commands show none (test_startup)

        return Progress(console=err, disable=self.quiet or not err.is_terminal, transient=True)

    @contextmanager
    def counting(self, label: str, total: int | None) -> Iterator[Callable[[object], None]]:
        """A progress bar of `total` steps (None: unknown); yields the function that
        advances it by one, or by the number it is given."""
        with self.progress() as progress:
            task = progress.add_task(label, total=total)
            yield lambda n=1: progress.advance(task, n if isinstance(n, int) else 1)

    def report(self, errors: Iterable[str | None]) -> int:
        """Print each error as one line on stderr; returns how many there were."""
        shown = [e for e in errors if e]
        for error in shown:
            err.print(f"hotpapers: error: {error}", highlight=False, soft_wrap=True)
        return len(shown)


def state_of(ctx: typer.Context) -> State:
    return ctx.find_root().obj


def now() -> datetime:
    return datetime.now(UTC)


def parse_day(text: str, option: str = "--date") -> date:
    """A day given as YYYY-MM-DD (not 20210118 nor 2021-W03, which Python also reads), from
    arXiv's first listing on (no command has anything to do before it)."""
    from hotpapers.sources.arxiv.schedule import FIRST_LISTING, LAST_DAY

    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r}: not a date (YYYY-MM-DD)") from None
    if not FIRST_LISTING <= day <= LAST_DAY:
        raise InputError(f"{option} {text}: out of range (arXiv's listings start on "
                         f"{FIRST_LISTING})")
    return day


PostPaths = Annotated[list[Path], typer.Argument(
    metavar="PATH", help="Post files, or folders of posts (their *.md files).")]
DateOption = Annotated[
    str, typer.Option("--date", metavar="D", help="Day D, arXiv's listing date (YYYY-MM-DD).")]


def safe_url(url: str) -> str:
    """`url` with its passwords masked (store.db.shown_url)."""
    from hotpapers.store.db import shown_url  # lazy: SQLAlchemy only when a URL is shown

    return shown_url(url)
