"""The site's search: Pagefind indexes the main content of the day and paper pages (the
`data-pagefind-body` the templates put on their `<main>`) into a bundle under `pagefind/`,
which the search box loads piece by piece as words are typed (static/search.js).

The binary: `PAGEFIND_BINARY_PATH` (the variable Pagefind's own Python API reads), else the
one the `pagefind-bin` wheel installs, else `pagefind` on PATH. It is asked its version
before the pages are made: when it cannot run, the pages are made without a search box.

Pagefind cannot update an index: it makes the whole of it each time. So it runs only when
an indexed page may have changed: every file of the bundle is recorded in the site's
manifest under one key (Pagefind's version, the build's salt and the fingerprints of the
indexed pages); with the same key and every file still there, Pagefind does not run and the
bundle is kept. When it runs, it writes into a temporary folder and each file goes through
the Output like a page: written only when its bytes differ (most of its names are hashes of
their content), and the files of an earlier bundle no longer made are removed with the
other stale files. Pagefind's output depends only on the pages, so the site stays the same
for the same store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from hotpapers.site.output import Output, fingerprint

__all__ = ["BUNDLE", "Pagefind", "SearchRun", "find_pagefind", "index_site"]

BUNDLE = "pagefind"  # the bundle's folder in the site
BINARY_VARIABLE = "PAGEFIND_BINARY_PATH"
# The pages that carry data-pagefind-body (day pages are folders named by their date).
GLOB = "{papers/*.html,[0-9]*/index.html}"
# Inside those, what is not searched: mention cards, links, counts, the sparkline, the links
# between days.
EXCLUDED = (".mentions", ".links", ".counts", "figure", "nav")
# Pagefind's own interfaces, which the site does not load (it has its own small script).
UNUSED = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-component-ui.js",
          "pagefind-component-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
          "pagefind-highlight.js")
VERSION_SECONDS = 30
INDEX_SECONDS = 600


@dataclass(frozen=True)
class Pagefind:
    """The binary found, its version when it runs, else why it cannot."""

    path: str | None
    version: str | None = None
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.version is not None


@dataclass
class SearchRun:
    """What the search step did: Pagefind ran (`ran`) or its bundle was kept as it was."""

    ran: bool = False
    seconds: float = 0.0
    pages: int = 0
    problem: str | None = None


def find_pagefind() -> Pagefind:
    """The Pagefind binary and its version (`pagefind --version`), or why it cannot run."""
    path = os.environ.get(BINARY_VARIABLE) or _wheel_binary() or shutil.which("pagefind")
    if not path:
        return Pagefind(None, problem="no Pagefind binary: install the pagefind-bin package "
                        f"or set {BINARY_VARIABLE}")
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True,
                              timeout=VERSION_SECONDS, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return Pagefind(path, problem=f"the Pagefind binary {path} cannot run: "
                        f"{_reason(error)}")
    version = done.stdout.strip()
    if done.returncode != 0 or not version.startswith("pagefind"):
        return Pagefind(path, problem=f"the Pagefind binary {path} cannot run: `--version` "
                        f"exited {done.returncode}: {_first_line(done.stderr or done.stdout)}")
    return Pagefind(path, version)


def _wheel_binary() -> str | None:
    try:
        import pagefind_bin  # lazy: only when a build looks for its search binary
        return str(pagefind_bin.get_executable())
    except (ImportError, OSError):
        return None


def index_site(output: Output, pagefind: Pagefind, pages: list[str]) -> SearchRun:
    """Queue the bundle's files on `output` (after the pages were made) and make them: as
    they were when nothing indexed changed, else from a new run of Pagefind over the site,
    once the pages no longer made are removed (so that none is indexed)."""
    key = fingerprint(pagefind.version, output.salt, GLOB, EXCLUDED,
                      sorted((page, output.made.get(page)) for page in pages))
    recorded = {name: found for name, found in (output.recorded or {}).items()
                if name.startswith(BUNDLE + "/")}
    if (f"{BUNDLE}/pagefind.js" in recorded and set(recorded.values()) == {key}
            and all((output.root / name).is_file() for name in recorded)):
        for name in recorded:  # kept: the Output finds the same key and the file there
            output.add_file(name, lambda: key, _missing(name))
        output.run(1)
        return SearchRun(pages=len(pages))
    started = time.perf_counter()
    output.remove_stale(keep=lambda name: name.startswith(BUNDLE + "/"))
    with tempfile.TemporaryDirectory(prefix="hotpapers-pagefind-") as folder:
        problem = _run(pagefind, output.root, Path(folder))
        if problem:
            return SearchRun(ran=True, seconds=time.perf_counter() - started, problem=problem)
        made = sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name not in UNUSED)
        for path in made:
            output.add_file(f"{BUNDLE}/{path.relative_to(folder).as_posix()}", lambda: key,
                            path.read_bytes)
        output.run(1)  # written in this process: most are small, and the same as before
    return SearchRun(ran=True, seconds=time.perf_counter() - started, pages=len(pages))


def _run(pagefind: Pagefind, site: Path, bundle: Path) -> str | None:
    """Run Pagefind over `site` into `bundle`; None, or what went wrong (one line)."""
    command = [pagefind.path or "pagefind", "--site", str(site), "--glob", GLOB,
               "--output-path", str(bundle), "--silent"]
    for selector in EXCLUDED:
        command += ["--exclude-selectors", selector]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INDEX_SECONDS,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return f"Pagefind ({pagefind.path}) failed: {_reason(error)}"
    if done.returncode != 0 or not (bundle / "pagefind.js").is_file():
        return (f"Pagefind ({pagefind.path}) failed, exit {done.returncode}: "
                f"{_first_line(done.stderr or done.stdout)}")
    return None


def _missing(name: str):
    def make() -> bytes:
        raise FileNotFoundError(f"{name} vanished while the site was built")
    return make


def _reason(error: BaseException) -> str:
    if isinstance(error, subprocess.TimeoutExpired):
        return f"no answer in {error.timeout:g} s"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    return str(error)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no message"
