"""Running `python -m hotpapers` as a real subprocess: to completion, or killed with SIGKILL
after a delay; every wait is bounded."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finished", "Killed", "hp_env", "kill_after", "kill_when", "run_hp"]

TIMEOUT = 120.0  # no command of the suite may take longer than this


@dataclass
class Finished:
    code: int
    out: str
    err: str
    seconds: float


def hp_env(home: Path, db_url: str, **settings: str) -> dict[str, str]:
    """An environment for one hotpapers process: no HOTPAPERS_* variable from outside, the
    user folders under `home`, the store `db_url`, and `settings` as HOTPAPERS_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTPAPERS_")}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               XDG_CACHE_HOME=str(home / "cache"), COLUMNS="200", HOTPAPERS_DB=db_url,
               PYTHONUNBUFFERED="1")
    env.pop("PYTHONWARNINGS", None)
    env.update({f"HOTPAPERS_{name.upper()}": value for name, value in settings.items()})
    return env


def _command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "hotpapers", *[str(a) for a in args]]


def run_hp(args: list[str], env: dict[str, str], timeout: float = TIMEOUT,
           cwd: Path | None = None) -> Finished:
    """Run `hotpapers ARGS` to its end (killed, and reported as code -9, after `timeout`)."""
    start = time.monotonic()
    with subprocess.Popen(_command(args), env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace",
                          start_new_session=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate(timeout=30)
            err += f"\n[harness: killed after {timeout:.0f} s]"
    return Finished(proc.returncode, out, err, time.monotonic() - start)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process alone: its forked workers must notice by themselves."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)


@dataclass
class Killed:
    killed: bool  # False: it had finished before the delay
    outlived: float  # seconds the longest-lived process of its session outlived it


def kill_after(args: list[str], env: dict[str, str], delay: float,
               ready: Callable[[], bool] | None = None, cwd: Path | None = None) -> Killed:
    """Start `hotpapers ARGS` and SIGKILL it (the main process only, as the OOM killer
    would) `delay` seconds after `ready()` (polled every 20 ms; default: at once) became
    true; then wait, bounded, until no process it started is left, so that nothing it
    forked writes while the next command runs."""
    with subprocess.Popen(_command(args), env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True) as proc:
        start = time.monotonic()
        while ready is not None and not ready() and time.monotonic() - start < TIMEOUT:
            if proc.poll() is not None:
                return Killed(False, 0.0)
            time.sleep(0.02)
        try:
            proc.wait(timeout=delay)
            return Killed(False, 0.0)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait(timeout=30)
    return Killed(True, _wait_for_session(proc.pid))


def kill_when(args: list[str], env: dict[str, str], ready: Callable[[], bool],
              limit: float = 60.0) -> bool:
    """Start `hotpapers ARGS` and SIGKILL it as soon as `ready()` (polled every 20 ms, for
    at most `limit` seconds) is true; False when it ended or `limit` passed first."""
    with subprocess.Popen(_command(args), env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True) as proc:
        start = time.monotonic()
        while proc.poll() is None and time.monotonic() - start < limit:
            if ready():
                _kill_group(proc)
                proc.wait(timeout=30)
                _wait_for_session(proc.pid)
                return True
            time.sleep(0.02)
        _kill_group(proc)
        proc.wait(timeout=30)
    return False


def _session_alive(sid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def _wait_for_session(sid: int, limit: float = 10.0) -> float:
    """Seconds until no process of session `sid` is left (at most `limit`; the rest are
    then killed)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if not _session_alive(sid):
            return time.monotonic() - start
        time.sleep(0.02)
    for pid in _session_alive(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return limit
