"""The site's output folder: jobs that make files, run in parallel processes, atomic writes,
and a manifest of what each file was made from, so that a rebuild renders only the files
whose inputs changed and removes the ones no longer made."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hotpapers.errors import InputError
from hotpapers.site.files import remove_temporaries, replace_file, write_new

try:
    import fcntl
except ImportError:  # not on Windows: builds into one folder are then not serialised
    fcntl = None

import ctypes
import signal
import stat

__all__ = ["BUILDING", "MANIFEST", "Digests", "Output", "fingerprint", "folder_lock",
           "read_manifest"]

MANIFEST = ".hotpapers-site.json"
MANIFEST_VERSION = 1
# There while a build writes files: a build that finds it follows one that did not finish,
# and looks for the temporary files that one left (else no folder is walked).
BUILDING = ".hotpapers-site.building"
# What became of a file: written; made again but its bytes were those on disk; kept as is.
WRITTEN, SAME, KEPT = "written", "same", "kept"
PARALLEL_FROM = 200  # fewer jobs than this are done in one process: a fork costs more
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def fingerprint(*inputs: object) -> str:
    """A digest of the data a file is made from: dataclasses, lists, tuples, dicts, str,
    numbers, dates, None. Pickled, which is twice as fast as `repr`: equal data pickled
    from objects shared differently may differ (then the file is only made again, and
    written only if its bytes changed), different data never pickles the same."""
    return hashlib.blake2b(pickle.dumps(inputs, protocol=5), digest_size=16).hexdigest()


class Digests:
    """The fingerprint of each object, made once: a day's view is part of many pages' inputs
    (its page, a home page, its categories' pages). Objects must live as long as this."""

    def __init__(self) -> None:
        self._known: dict[int, str] = {}

    def __call__(self, thing: object) -> str:
        found = self._known.get(id(thing))
        if found is None:
            found = self._known[id(thing)] = fingerprint(thing)
        return found


@dataclass
class _Job:
    files: tuple[str, ...]
    key: Callable[[], str]  # the fingerprint of what the files are made from
    make: Callable[[], Sequence[str | bytes]]  # their contents, in the order of `files`
    needs: object = None  # what making them needs (see Output.run's `prepare`)


class Output:
    """Makes files under `root`. Files whose fingerprint is the one the last build recorded,
    and which are still there, are not made again; a made file is written (to a temporary
    name, then renamed) only when its bytes differ from the file on disk."""

    def __init__(self, root: Path, salt: str):
        self.root = root
        self.salt = salt  # what every file also depends on: templates, version, options
        # What the last build made, and from what: its fingerprints count only when it was
        # made with the same salt, its list of files (to remove the stale ones) always.
        self.previous, same_salt = self._read_manifest()
        # Whether a build may have been cut short here: no manifest of one that marked its
        # run (older versions did not), or its mark is still there (or the temporary file
        # of it). Then the files it was writing in place (the mark lists them) are this
        # build's to replace or remove, and no fingerprint of the last manifest is trusted:
        # the build cut short may have replaced files of it, made with other options.
        self._unfinished = not self._marked or interrupted(root)
        self.recorded = self.previous if same_salt and not self._unfinished else None
        self.made: dict[str, str] = {}
        self.written: list[str] = []
        self.unchanged = 0
        self.rendered = 0  # files made (written or found the same), not kept by the manifest
        self.removed: list[str] = []  # files of the last build removed, as not made again
        self.processes = 0  # how many processes the last run used
        self.meta: dict = {}  # recorded in the manifest besides the files (build.py)
        self._root = str(root)
        self._jobs: list[_Job] = []
        self._folders: set[str] = set()
        # Without a manifest the folder's files are unknown: compare with whatever is there.
        self._compare_all = self.previous is None and root.exists()
        self._orphans = _marked_files(root) if self._unfinished else []
        self._fresh: set[str] = set()  # files no build made yet: written in place

    def _read_manifest(self) -> tuple[dict[str, str] | None, bool]:
        data = read_manifest(self.root)
        self._marked = bool(data and data.get("marked"))
        if data is None:
            return None, False
        return data["files"], data.get("salt") == self.salt

    def add(self, files: Sequence[str], key: Callable[[], str],
            make: Callable[[], Sequence[str | bytes]], needs: object = None) -> None:
        """Queue a job making `files` together (e.g. the three documents of a feed)."""
        self._jobs.append(_Job(tuple(files), key, make, needs))

    def add_file(self, relative: str, key: Callable[[], str],
                 make: Callable[[], str | bytes], needs: object = None) -> None:
        self.add((relative,), key, lambda: (make(),), needs)

    def run(self, workers: int = 1,
            prepare: Callable[[list[object]], None] | None = None) -> None:
        """Do the queued jobs: their keys first (here), then `prepare` with the `needs` of
        those to make, then those in `workers` processes (forked, sharing everything
        prepared) when there are at least PARALLEL_FROM of them, there is fork, and no
        other thread runs (a fork copies no thread, nor a lock another thread holds)."""
        jobs, self._jobs = self._jobs, []
        keys = [job.key() for job in jobs]
        todo = [i for i, (job, key) in enumerate(zip(jobs, keys, strict=True))
                if not self._kept(job, key)]
        if prepare is not None:
            prepare([jobs[i].needs for i in todo if jobs[i].needs is not None])
        results: list = [(key, [KEPT] * len(job.files))
                         for job, key in zip(jobs, keys, strict=True)]
        making = [(jobs[i], keys[i]) for i in todo]
        if not self._compare_all:  # else any file may be there
            known, root = self.previous or {}, self._root
            self._fresh |= {f for job, _ in making for f in job.files
                            if f not in known and not os.path.lexists(f"{root}/{f}")}
        self._mark()  # listing the new files of every run of this build so far
        if (len(making) < PARALLEL_FROM or not hasattr(os, "fork")
                or threading.active_count() > 1):
            workers = 1
        # at least half of PARALLEL_FROM jobs a process, however many CPUs there are
        self.processes = workers = max(1, min(workers,
                                              len(making) // max(1, PARALLEL_FROM // 2)))
        made = ([self._do(job) for job in making] if workers == 1
                else self._run_forked(making, workers))
        for i, result in zip(todo, made, strict=True):
            results[i] = result
        for job, (key, statuses) in zip(jobs, results, strict=True):
            for relative, status in zip(job.files, statuses, strict=True):
                self.made[relative] = key
                if status == WRITTEN:
                    self.written.append(relative)
                else:
                    self.unchanged += 1
                self.rendered += status != KEPT

    def _run_forked(self, jobs: list[tuple[_Job, str]], workers: int
                    ) -> list[tuple[str, list[str]]]:
        children, parent = [], os.getpid()
        for worker in range(1, workers):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: its share of the jobs, then its results, then out
                os.close(read_end)
                code = 0
                try:
                    _die_with(parent)
                    done = []
                    for job in jobs[worker::workers]:
                        if os.getppid() != parent:  # where there is no PDEATHSIG
                            os._exit(1)
                        done.append(self._do(job))
                    payload = pickle.dumps(("ok", done))
                except BaseException:
                    payload, code = pickle.dumps(("error", traceback.format_exc())), 1
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
                os._exit(code)
            os.close(write_end)
            children.append((worker, pid, read_end))
        results: list = [None] * len(jobs)
        failure = None
        try:
            for index in range(0, len(jobs), workers):
                results[index] = self._do(jobs[index])
        finally:
            for worker, pid, read_end in children:
                with os.fdopen(read_end, "rb") as pipe:
                    payload = pipe.read()
                os.waitpid(pid, 0)
                status, value = pickle.loads(payload) if payload else ("error", "no result")
                if status != "ok":
                    failure = failure or value
                    continue
                for offset, result in enumerate(value):
                    results[worker + offset * workers] = result
        if failure:
            raise RuntimeError(f"a site build process failed:\n{failure}")
        return results

    def _kept(self, job: _Job, key: str) -> bool:
        """Whether the job's files are there as the last build made them from this key."""
        recorded, root = self.recorded or {}, self._root
        return all(recorded.get(f) == key and os.path.exists(f"{root}/{f}") for f in job.files)

    def _do(self, item: tuple[_Job, str]) -> tuple[str, list[str]]:
        job, key = item
        statuses = []
        for relative, content in zip(job.files, job.make(), strict=True):
            compare = self._compare_all or relative in (self.previous or {})
            statuses.append(self._write(relative, content, compare, relative in self._fresh))
        return key, statuses

    def _write(self, relative: str, content: str | bytes, compare: bool,
               fresh: bool = False) -> str:
        """Write one file (when `compare`, only if its bytes differ): a file no build made
        yet in place, any other to a temporary name renamed over it, so that a reader never
        sees a page half replaced."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = self.root / relative
        if compare:
            try:
                with open(path, "rb") as handle:
                    if handle.read() == data:
                        return SAME
            except OSError:
                pass
        folder = os.path.dirname(relative)
        if folder not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        if fresh and write_new(str(path), data):
            return WRITTEN
        replace_file(f"{path.parent}/.{path.name}.{os.getpid()}.tmp", path, data)
        return WRITTEN

    def remove_stale(self, keep: Callable[[str], bool] = lambda relative: False) -> None:
        """Remove the files the last build made and this one did not (so far), but those
        `keep` names (files still to be made: the search index is made from the pages once
        the pages no longer made are gone); `removed` lists them."""
        known = {*(self.previous or ()), *self._orphans}
        for relative in sorted(known - set(self.made) - set(self.removed)):
            if keep(relative):
                continue
            path = self.root / relative
            if not _inside(relative) or not path.parent.resolve().is_relative_to(
                    self.root.resolve()) or (path.is_dir() and not path.is_symlink()):
                continue  # edited, through a link, or a folder: not ours to remove
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            self.removed.append(relative)
            _remove_empty_folders(path.parent, self.root)

    def finish(self) -> list[str]:
        """Remove the files the last build made and this one did not, and the temporary
        files an interrupted build left (only those: nothing else in the folder is touched),
        record the manifest; return what was removed (temporary files not counted). The
        folder is walked for temporary files only after a build that did not finish."""
        if self._unfinished:
            remove_temporaries(self.root)
        self.remove_stale()
        manifest = {**self.meta, "version": MANIFEST_VERSION, "salt": self.salt,
                    "marked": True, "files": self.made}
        self._write(MANIFEST, json.dumps(manifest, sort_keys=True, indent=0) + "\n", True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.root / BUILDING)
        return sorted(self.removed)

    def _mark(self) -> None:
        """Say that a build writes here (until finish), and which new files it writes in
        place (with those an unfinished build before it did): written whole, then renamed."""
        self.root.mkdir(parents=True, exist_ok=True)
        mark = self.root / BUILDING
        if mark.is_dir() and not mark.is_symlink():
            raise InputError(f"{mark}: a folder where the site build keeps its mark file; "
                             "remove it")
        listed = json.dumps(sorted({*self._orphans, *self._fresh})).encode("utf-8")
        replace_file(f"{self.root}/.{BUILDING}.{os.getpid()}.tmp", self.root / BUILDING, listed)


def _marked_files(root: Path) -> list[str]:
    """The files the mark of an unfinished build lists (none when it is not a file of its
    own: unreadable, a link, a pipe)."""
    try:
        fd = os.open(root / BUILDING, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return []
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return []
            listed = json.loads(handle.read())
    except (OSError, ValueError):
        return []
    return [f for f in listed if isinstance(f, str)] if isinstance(listed, list) else []


def interrupted(root: Path) -> bool:
    """Whether a build into `root` started and did not finish: its mark is there, or the
    temporary file of it (killed while writing its first mark)."""
    return os.path.lexists(root / BUILDING) or any(root.glob(f".{BUILDING}.*.tmp"))


def read_manifest(root: Path) -> dict | None:
    """The manifest the last build into `root` recorded, or None (none, or not readable)."""
    try:
        data = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION
            or not isinstance(data.get("files"), dict)):
        return None
    return data


@contextlib.contextmanager
def folder_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on the output folder (flock on the folder itself) for one build,
    waited for while another build holds it. Forked workers share it, so a killed build
    releases it only when its last worker is gone: the next build then finds every
    temporary file it left."""
    root.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    folder = os.open(root, os.O_RDONLY)  # the folder itself: no lock file in the site
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        yield
    finally:
        os.close(folder)


def _die_with(parent: int) -> None:
    """Have the kernel kill this forked worker when its parent dies (Linux), so that a
    killed build stops writing at once; elsewhere the worker checks its parent between jobs."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def _inside(relative: str) -> bool:
    """Whether a manifest's path names a file under the output folder, and no other."""
    parts = Path(relative).parts
    return bool(parts) and not Path(relative).is_absolute() and ".." not in parts \
        and relative not in (MANIFEST, BUILDING)


def _remove_empty_folders(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or not ours to remove
            return
        folder = folder.parent
