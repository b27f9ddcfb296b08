"""Search by Pagefind (the `pagefind-bin` wheel's binary, run for real): what it indexes,
that a rebuild runs it only when an indexed page changed and rewrites only what differs,
that its output is the same for the same pages, and that without a binary that runs the
build says so in one line and the pages have no search box."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

from hotpapers.site.build import build_from
from hotpapers.site.search_index import BINARY_VARIABLE
from test_site_pages import HOSTILE, Tags, files, site_data


def bundle(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in (out / "pagefind").rglob("*")
            if p.is_file()}


def indexed(out: Path) -> dict[str, str]:
    """Each indexed page's URL and the text Pagefind keeps of it (its fragments)."""
    found = {}
    for path in (out / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        fragment = json.loads(data.removeprefix(b"pagefind_dcd"))
        found[fragment["url"]] = fragment["content"]
    return found


def test_pagefind_indexes_the_main_content_of_day_and_paper_pages_only(tmp_path):
    out = tmp_path / "site"
    summary = build_from(site_data([3, 2]), out, site_url="https://example.org/hp/")
    assert summary.search.ran and summary.search.problem is None and summary.search.pages == 7
    assert "(search index: 7 pages in " in summary.line()
    entry = json.loads((out / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == 7  # 2 days, 5 papers
    pages = indexed(out)  # URLs under the site's path, which Pagefind's script puts first
    assert set(pages) == {"/2024-05-20/", "/2024-05-19/",
                          *(f"/papers/2405.{d:02d}{n:03d}.html"
                            for d, count in enumerate([3, 2]) for n in range(1, count + 1))}
    paper = pages["/papers/2405.00002.html"]
    assert paper.startswith("Paper 0-2: ") and "About day 0, paper 2." in paper
    assert "Hot Papers" not in paper and "Latest" not in paper  # no header nor footer
    assert "arXiv abs" not in paper and "cs.LG" not in paper  # nor the links line
    assert "reposts" not in pages["/2024-05-20/"]  # nor the counts
    # the hostile title is indexed as the text it is (the page shows it escaped; Pagefind's
    # script escapes it again in excerpts, and ours shows results as text only)
    assert paper.startswith("Paper 0-2: " + HOSTILE)
    # only what the site loads: Pagefind's own interfaces are left out
    assert {"pagefind/pagefind.js", "pagefind/pagefind-worker.js",
            "pagefind/pagefind-entry.json"} <= set(bundle(out))
    assert not [name for name in bundle(out) if "-ui." in name or "highlight" in name]
    for page in ("2024-05-20/index.html", "papers/2405.00001.html"):
        tags = Tags((out / page).read_text())
        assert "data-pagefind-body" in tags.all("main")[0], page
    for page in ("index.html", "categories/cs.LG/index.html", "archive/index.html"):
        tags = Tags((out / page).read_text())
        assert not [a for t, a in tags.tags if "data-pagefind-body" in a], page
        assert tags.all("form", data_pagefind="/hp/pagefind/pagefind.js"), page
        assert tags.all("script", src="/hp/static/search.js"), page
        assert "data-pagefind-ignore" in tags.all("header")[0]
        assert "data-pagefind-ignore" in tags.all("footer")[0]
        assert "data-pagefind-ignore" in tags.all("div", id="search-results")[0]


def test_a_rebuild_runs_pagefind_only_when_an_indexed_page_changed(tmp_path):
    out = tmp_path / "site"
    first = build_from(site_data([3, 2]), out)
    before = bundle(out)
    times = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build_from(site_data([3, 2]), out)
    assert again.search.ran is False and again.written == [] and again.rendered == 0
    assert "(search index unchanged)" in again.line()
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == times
    assert again.unchanged == len(first.written)
    # a new day: Pagefind runs again; files it makes as before are not written again, and
    # those of the earlier index it no longer makes are removed
    grown = build_from(site_data([1, 3, 2]), out)
    after = bundle(out)
    assert grown.search.ran and grown.search.pages == 9
    assert set(after) - set(before) and set(before) - set(after)
    written = {n for n in grown.written if n.startswith("pagefind/")}
    assert written == {n for n in after if before.get(n) != after[n]}
    assert "pagefind/pagefind.js" not in written and "pagefind/wasm.en.pagefind" not in written
    assert set(before) - set(after) <= set(grown.removed)
    assert files(out) >= set(after) and not [f for f in files(out) if f.endswith(".tmp")]
    assert set(indexed(out)) == {"/2024-05-20/", "/2024-05-19/", "/2024-05-18/",
                                 *(f"/papers/2405.{d:02d}{n:03d}.html"
                                   for d, count in enumerate([1, 3, 2])
                                   for n in range(1, count + 1))}  # none of the removed pages
    # a bundle file deleted by hand: Pagefind runs again and makes it
    (out / "pagefind" / "pagefind-entry.json").unlink()
    mended = build_from(site_data([1, 3, 2]), out)
    assert mended.search.ran and mended.written == ["pagefind/pagefind-entry.json"]
    assert bundle(out) == after


def test_the_index_is_the_same_for_the_same_pages(tmp_path):
    build_from(site_data([3, 2]), tmp_path / "one", workers=1)
    build_from(site_data([3, 2]), tmp_path / "two", workers=2)
    assert bundle(tmp_path / "one") == bundle(tmp_path / "two")


def test_without_a_binary_that_runs_one_warning_and_no_search_box(tmp_path, monkeypatch):
    out = tmp_path / "site"
    build_from(site_data([2]), out)
    assert (out / "pagefind" / "pagefind.js").is_file()
    missing = tmp_path / "no-such" / "pagefind"
    monkeypatch.setenv(BINARY_VARIABLE, str(missing))
    summary = build_from(site_data([2]), out, site_url="https://example.org/")
    assert summary.warnings == [
        f"search is off: the Pagefind binary {missing} cannot run: No such file or directory"]
    assert summary.search is None and "search index" not in summary.line()
    assert not (out / "pagefind").exists() and not (out / "static" / "search.js").exists()
    assert "pagefind/pagefind.js" in summary.removed
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert "search" not in text.lower() and "pagefind" not in text, page
    monkeypatch.delenv(BINARY_VARIABLE)
    back = build_from(site_data([2]), out, site_url="https://example.org/")
    assert back.warnings == [] and back.search.ran and (out / "pagefind" / "pagefind.js").is_file()
    assert Tags((out / "index.html").read_text()).all("form", role="search")


def test_a_binary_that_fails_while_indexing_leaves_no_dead_search_box(tmp_path, monkeypatch):
    """A stand-in that answers `--version` and then fails as a crashing Pagefind would: the
    pages made with a search box are made again without it."""
    fails = tmp_path / "pagefind"
    fails.write_text("#!/bin/sh\n"
                     'if [ "$1" = "--version" ]; then echo "pagefind 1.5.2"; exit 0; fi\n'
                     'echo "Error: out of memory" >&2\nexit 101\n')
    fails.chmod(fails.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv(BINARY_VARIABLE, str(fails))
    out = tmp_path / "site"
    summary = build_from(site_data([2]), out)
    assert [w for w in summary.warnings if "search" in w] == [
        f"search is off: Pagefind ({fails}) failed, exit 101: Error: out of memory"]
    assert not (out / "pagefind").exists()
    for page in out.rglob("*.html"):
        assert "search" not in page.read_text().lower(), page


def test_hostile_text_is_inert_in_the_search_results_script(tmp_path):
    """The search script builds results from text nodes only: no HTML is parsed into the
    page (the excerpt is read through an inert DOMParser document)."""
    out = tmp_path / "site"
    build_from(site_data([2]), out)
    script = (out / "static" / "search.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "outerHTML" not in script and "document.write" not in script
    assert "textContent" in script and "DOMParser" in script
    assert HOSTILE in "".join(indexed(out).values())


def test_an_empty_site_has_no_search(tmp_path):
    summary = build_from(site_data([]), tmp_path / "site")
    assert summary.search is None and summary.warnings == [summary.warnings[0]]
    assert not (tmp_path / "site" / "pagefind").exists()
    assert 'role="search"' not in (tmp_path / "site" / "index.html").read_text()
    assert os.listdir(tmp_path / "site")
