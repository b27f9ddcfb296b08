"""The site's output folder: jobs in parallel processes, the manifest, stale files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hotpapers.errors import InputError
from hotpapers.site import output as output_module
from hotpapers.site.output import BUILDING, MANIFEST, Digests, Output, fingerprint

FORKS = hasattr(os, "fork")


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in (MANIFEST, BUILDING)}


def queue(output: Output, count: int, text: str = "page", fail_at: int | None = None) -> None:
    for i in range(count):
        def make(i=i):
            if i == fail_at:
                raise ValueError(f"job {i} cannot be made")
            return f"{text} {i} made by a process\n"
        output.add_file(f"p/{i % 7}/{i}.html", lambda i=i: fingerprint(text, i), make)


def in_fresh_process(scenario: str, folder: Path) -> dict:
    """One of this module's scenarios, run in a new interpreter: pytest-httpserver's thread
    runs in this one, and a build never forks beside another thread."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import test_site_output as t; "
            "print(json.dumps(getattr(t, sys.argv[2])(sys.argv[3])))")
    done = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), scenario,
                           str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def parallel_versus_serial(folder: str) -> dict:
    root = Path(folder)
    serial, parallel = Output(root / "a", "s"), Output(root / "b", "s")
    queue(serial, 450)
    queue(parallel, 450)
    serial.run(workers=1)
    parallel.run(workers=3)
    return {"processes": [serial.processes, parallel.processes],
            "written": [serial.written, parallel.written],
            "same_files": files_of(root / "b") == files_of(root / "a"),
            "same_made": parallel.made == serial.made, "rendered": parallel.rendered,
            "left": [str(p) for p in root.rglob("*.tmp")]}


def failing_job_elsewhere(folder: str) -> dict:
    output = Output(Path(folder), "s")
    queue(output, 300, fail_at=1)  # job 1 belongs to the second process
    try:
        output.run(workers=2)
    except RuntimeError as exc:
        error = str(exc)
    else:
        error = None
    return {"error": error, "manifest": (Path(folder) / MANIFEST).exists(),
            "left": [str(p) for p in Path(folder).rglob("*.tmp")]}


@pytest.mark.skipif(not FORKS, reason="needs os.fork")
def test_parallel_jobs_make_the_same_files_as_one_process(tmp_path):
    found = in_fresh_process("parallel_versus_serial", tmp_path)
    assert found["processes"] == [1, 3]
    expected = [f"p/{i % 7}/{i}.html" for i in range(450)]
    assert found["written"] == [expected, expected]
    assert found["same_files"] and found["same_made"] and found["rendered"] == 450
    assert found["left"] == []
    assert len(files_of(tmp_path / "b")) == 450


@pytest.mark.skipif(not FORKS, reason="needs os.fork")
def test_a_failing_job_in_another_process_fails_the_run(tmp_path):
    found = in_fresh_process("failing_job_elsewhere", tmp_path)
    assert found["error"].startswith("a site build process failed:")
    assert "ValueError: job 1 cannot be made" in found["error"]
    assert not found["manifest"] and found["left"] == []


def test_another_thread_keeps_the_build_in_one_process(tmp_path):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        output = Output(tmp_path, "s")
        queue(output, output_module.PARALLEL_FROM)
        output.run(workers=2)
    finally:
        stop.set()
        other.join()
    assert output.processes == 1 and len(output.written) == output_module.PARALLEL_FROM


def test_few_jobs_stay_in_one_process(tmp_path):
    output = Output(tmp_path, "s")
    queue(output, output_module.PARALLEL_FROM - 1)
    output.run(workers=4)
    assert output.processes == 1 and len(output.written) == output_module.PARALLEL_FROM - 1


def test_manifest_keeps_files_whose_inputs_did_not_change(tmp_path):
    first = Output(tmp_path, "s")
    queue(first, 5)
    first.run()
    first.finish()
    recorded = json.loads((tmp_path / MANIFEST).read_text())
    assert recorded["salt"] == "s" and sorted(recorded["files"]) == sorted(first.made)

    (tmp_path / "p/3/3.html").unlink()  # someone deleted it: made again
    second = Output(tmp_path, "s")
    queue(second, 5)
    second.run()
    assert second.written == ["p/3/3.html"] and second.rendered == 1
    assert second.unchanged == 4

    third = Output(tmp_path, "s")
    queue(third, 5, text="other")  # new inputs for every file
    third.run()
    assert third.rendered == 5 and len(third.written) == 5
    assert (tmp_path / "p/1/1.html").read_text() == "other 1 made by a process\n"


def test_a_new_salt_makes_everything_again_but_writes_only_what_differs(tmp_path):
    first = Output(tmp_path, "old templates")
    queue(first, 4)
    first.run()
    first.finish()
    stamp = (tmp_path / "p/2/2.html").stat().st_mtime_ns
    second = Output(tmp_path, "new templates")
    assert second.recorded is None
    queue(second, 4)
    second.run()
    assert second.rendered == 4 and second.written == [] and second.unchanged == 4
    assert (tmp_path / "p/2/2.html").stat().st_mtime_ns == stamp


def test_files_no_longer_made_are_removed_and_nothing_else(tmp_path):
    first = Output(tmp_path, "s")
    queue(first, 10)
    first.run()
    first.finish()
    (tmp_path / "CNAME").write_text("papers.example.org\n")  # the owner's, not ours
    (tmp_path / "p" / "6" / "notes.txt").write_text("mine\n")
    second = Output(tmp_path, "s")
    queue(second, 3)
    second.run()
    removed = second.finish()
    assert removed == sorted(f"p/{i % 7}/{i}.html" for i in range(3, 10))
    assert sorted(files_of(tmp_path)) == ["CNAME", "p/0/0.html", "p/1/1.html", "p/2/2.html",
                                          "p/6/notes.txt"]
    assert not (tmp_path / "p" / "5").exists()  # emptied, so removed
    assert json.loads((tmp_path / MANIFEST).read_text())["files"] == second.made


def test_files_of_a_build_with_other_options_are_removed_too(tmp_path):
    first = Output(tmp_path, "ten days a page")
    queue(first, 10)
    first.run()
    first.finish()
    second = Output(tmp_path, "three days a page")
    queue(second, 3)
    second.run()
    assert second.rendered == 3  # another salt: nothing kept, all made again
    assert second.finish() == sorted(f"p/{i % 7}/{i}.html" for i in range(3, 10))


def test_a_manifest_never_removes_anything_outside_the_folder(tmp_path):
    site, outside = tmp_path / "site", tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    first = Output(site, "s")
    queue(first, 2)
    first.run()
    first.finish()
    manifest = json.loads((site / MANIFEST).read_text())
    manifest["files"].update({"../precious.txt": "x", str(outside): "x", MANIFEST: "x"})
    (site / MANIFEST).write_text(json.dumps(manifest))
    second = Output(site, "s")
    queue(second, 1)
    second.run()
    assert second.finish() == ["p/1/1.html"]
    assert outside.read_text() == "keep me\n" and (site / MANIFEST).is_file()

    (site / "elsewhere").symlink_to(tmp_path, target_is_directory=True)  # a link out
    manifest = json.loads((site / MANIFEST).read_text())
    manifest["files"]["elsewhere/precious.txt"] = "x"
    (site / MANIFEST).write_text(json.dumps(manifest))
    third = Output(site, "s")
    queue(third, 1)
    third.run()
    assert third.finish() == [] and outside.read_text() == "keep me\n"


def test_a_broken_manifest_is_ignored(tmp_path):
    tmp_path.joinpath(MANIFEST).write_text("{not json")
    output = Output(tmp_path, "s")
    assert output.recorded is None
    queue(output, 2)
    output.run()
    assert output.finish() == [] and len(output.written) == 2


def test_fingerprints_tell_values_apart():
    assert fingerprint("a", [1, 2]) == fingerprint("a", [1, 2])
    assert fingerprint("a", [1, 2]) != fingerprint("a", [2, 1])
    assert fingerprint("1") != fingerprint(1)
    assert fingerprint("\ud800") != fingerprint("\ufffd")  # lone surrogates do not break it
    digest = Digests()
    thing = ["x"]
    assert digest(thing) == fingerprint(thing) == digest(thing)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a zombie is seen in /proc")
def test_a_zombie_workers_temporary_file_is_a_leftover(tmp_path):
    """A worker killed with its build can stay a zombie where nothing reaps it (an init
    that does not, in a container); its half-written file is still the build's leftover."""
    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until it has exited (and is not reaped)
            stat = Path(f"/proc/{child}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)
        (tmp_path / "papers").mkdir()
        stale = tmp_path / "papers" / f".x.html.{child}.tmp"
        stale.write_text("half a page")
        running = tmp_path / f".index.html.{os.getpid()}.tmp"
        running.write_text("being written")
        output = Output(tmp_path, "salt")
        output.finish()
        assert not stale.exists()
        assert running.exists()  # a live process's file is not touched
    finally:
        os.waitpid(child, 0)


def _dead_pid() -> int:
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    return child


@pytest.mark.skipif(not FORKS, reason="needs os.fork")
def test_only_a_build_after_an_unfinished_one_looks_for_its_temporary_files(tmp_path):
    first = Output(tmp_path, "s")
    queue(first, 3)
    first.run()
    assert (tmp_path / BUILDING).is_file()  # marked while it writes
    first.finish()
    assert not (tmp_path / BUILDING).exists()
    leftover = tmp_path / "p" / f".0.html.{_dead_pid()}.tmp"
    leftover.write_text("half a page")
    second = Output(tmp_path, "s")  # the last build finished: no folder is walked
    queue(second, 3)
    second.run()
    second.finish()
    assert leftover.exists()
    (tmp_path / BUILDING).touch()  # as a build killed while writing leaves it
    third = Output(tmp_path, "s")
    queue(third, 3)
    third.run()
    third.finish()
    assert not leftover.exists() and not (tmp_path / BUILDING).exists()
    assert files_of(tmp_path) == {f"p/{i}/{i}.html": f"page {i} made by a process\n".encode()
                                  for i in range(3)}


def test_a_link_in_place_of_the_mark_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere.txt"
    site = tmp_path / "site"
    site.mkdir()
    (site / BUILDING).symlink_to(target)
    output = Output(site, "s")
    queue(output, 1)
    output.run()
    output.finish()
    assert not target.exists() and not (site / BUILDING).is_symlink()


def test_new_files_of_a_build_cut_short_are_replaced_or_removed_by_the_next(tmp_path):
    """New pages are written in place (not renamed over): the mark lists them, so that the
    next build makes them again whole, or removes those it no longer makes; files the
    builds never made stay."""
    site = tmp_path / "site"
    cut = Output(site, "s")
    queue(cut, 6, fail_at=4)
    with pytest.raises(ValueError, match="job 4 cannot be made"):
        cut.run()
    written = {f"p/{i}/{i}.html" for i in range(4)}
    assert set(files_of(site)) == written
    assert set(json.loads((site / BUILDING).read_text())) == written | {"p/4/4.html",
                                                                         "p/5/5.html"}
    (site / "p" / "2" / "2.html").write_text("half a pa")  # as a kill mid-write leaves it
    (site / "CNAME").write_text("papers.example\n")  # the owner's
    after = Output(site, "s")
    queue(after, 3)  # pages 3, 4 and 5 are no longer made
    after.run()
    assert after.finish() == ["p/3/3.html"]
    assert files_of(site) == {"CNAME": b"papers.example\n", **{
        f"p/{i}/{i}.html": f"page {i} made by a process\n".encode() for i in range(3)}}
    assert not (site / BUILDING).exists()


def test_a_mark_naming_files_outside_the_folder_removes_none(tmp_path):
    site, precious = tmp_path / "site", tmp_path / "precious.txt"
    site.mkdir()
    precious.write_text("keep me\n")
    (site / BUILDING).write_text(json.dumps(["../precious.txt", str(precious), MANIFEST, 7]))
    output = Output(site, "s")
    queue(output, 1)
    output.run()
    assert output.finish() == [] and precious.read_text() == "keep me\n"
    assert (site / MANIFEST).is_file()


def test_the_mark_lists_the_new_files_of_every_run_of_a_build(tmp_path):
    """A build runs its pages, then the search index's files: when the second run is cut
    short, the pages the first wrote in place are still the next build's to check."""
    site = tmp_path / "site"
    cut = Output(site, "s")
    queue(cut, 2)
    cut.run()
    cut.add_file("pagefind/x.js", lambda: "k", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cut.run()
    assert set(json.loads((site / BUILDING).read_text())) == {
        "p/0/0.html", "p/1/1.html", "pagefind/x.js"}


def test_a_build_after_one_with_other_options_cut_short_makes_its_pages_again(tmp_path):
    """A build with other options (a preview's site URL) replaced pages and was stopped
    before its manifest: the next build with the first options must not keep those pages
    on the strength of the manifest before them."""
    site = tmp_path / "site"
    first = Output(site, "production")
    queue(first, 3, text="production")
    first.run()
    first.finish()
    preview = Output(site, "preview")
    queue(preview, 3, text="preview", fail_at=2)
    with pytest.raises(ValueError):
        preview.run()
    assert (site / "p/0/0.html").read_text().startswith("preview")
    again = Output(site, "production")
    queue(again, 3, text="production")
    again.run()
    again.finish()
    assert files_of(site) == {f"p/{i}/{i}.html": f"production {i} made by a process\n".encode()
                              for i in range(3)}
    assert sorted(again.written) == ["p/0/0.html", "p/1/1.html"]  # the third was not touched


def test_a_file_there_before_a_build_cut_short_is_not_taken_for_its_own(tmp_path):
    """A file already in the folder at a path a build would make anew (the owner's
    sitemap.xml) is replaced whole, never listed as the build's new file: when the build
    is cut short before it, the next build leaves it alone."""
    site = tmp_path / "site"
    first = Output(site, "no url")
    first.add_file("index.html", lambda: "k", lambda: "home\n")
    first.run()
    first.finish()
    (site / "sitemap.xml").write_text("the owner's\n")
    cut = Output(site, "with url")
    cut.add_file("index.html", lambda: "k", lambda: "home with url\n")
    cut.add_file("sitemap.xml", lambda: "k", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cut.run()
    assert json.loads((site / BUILDING).read_text()) == []
    after = Output(site, "no url")
    after.add_file("index.html", lambda: "k", lambda: "home\n")
    after.run()
    assert after.finish() == []
    assert files_of(site) == {"index.html": b"home\n", "sitemap.xml": b"the owner's\n"}


@pytest.mark.skipif(not FORKS, reason="needs os.fork")
def test_a_build_killed_writing_its_first_mark_is_unfinished(tmp_path):
    """Killed between writing the mark's temporary file and renaming it: the next build
    sees a build cut short all the same, and clears what it left."""
    first = Output(tmp_path, "s")
    queue(first, 1)
    first.run()
    first.finish()
    dead = _dead_pid()
    for leftover in (tmp_path / f".{BUILDING}.{dead}.tmp", tmp_path / f".x.html.{dead}.tmp"):
        leftover.write_text("[]")
    after = Output(tmp_path, "s")
    queue(after, 1)
    after.run()
    after.finish()
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "p"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_planted_mark_neither_blocks_nor_breaks_the_build(tmp_path):
    """A pipe in place of the mark is not read (it would block), a folder it names is not
    removed, and a folder in place of the mark is one clear error."""
    site = tmp_path / "site"
    (site / "static").mkdir(parents=True)
    os.mkfifo(site / BUILDING)
    output = Output(site, "s")
    queue(output, 1)
    output.run()
    assert output.finish() == []
    (site / BUILDING).write_text(json.dumps(["static"]))
    output = Output(site, "s")
    queue(output, 1)
    output.run()
    assert output.finish() == [] and (site / "static").is_dir()
    (site / BUILDING).mkdir()
    output = Output(site, "s")
    queue(output, 1)
    with pytest.raises(InputError, match="a folder where the site build keeps its mark"):
        output.run()
