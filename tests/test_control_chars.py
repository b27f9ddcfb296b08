"""C0 control characters (NUL and the rest but tab and newline) are stripped at ingest:
from `import snapshot`, `import arxiv-snapshot` and a source's mentions they never reach the
store, posts, the site or the markdown outputs; `import legacy` keeps posts byte for byte."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from werkzeug import Response

from hotpapers.jobs.demo import DEMO_DAY, demo_snapshot
from hotpapers.jobs.snapshot import read_snapshot

C0 = "".join(chr(c) for c in range(0x20))  # all of them, \t \n \r included
LEFT = re.compile(rb"[\x00-\x08\x0b-\x1f]")  # what no output may contain (\r neither)


def hostile(text: str) -> str:
    return text[:6] + C0 + text[6:]


def test_p5_strip_controls_keeps_tab_and_newline_and_makes_cr_a_newline():
    from hotpapers.models import strip_controls

    assert strip_controls("a\x00b\x1fc\td\ne\r\nf\rg\x7f") == "ab" + "c\td\ne\nf\ng\x7f"
    assert strip_controls(None) is None
    assert strip_controls(["x\x00", {"k\x01": ("y\x02",)}]) == ["x", {"k": ("y",)}]


def strings(value) -> list[str]:
    """Every str inside a JSON value."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(
        value, list) else []
    return [text for item in items for text in strings(item)]


def _snapshot(path: Path) -> Path:
    """The demo day's snapshot with hostile titles, abstracts, authors, mention texts,
    account names and shown embeds."""
    records = [record for _, record in read_snapshot(demo_snapshot())]
    for record in records:
        if record["type"] == "paper":
            record.update(title=hostile(record["title"]), abstract=hostile(record["abstract"]),
                          authors=[hostile(a) for a in record["authors"]])
        elif record["type"] == "mention":
            record["text"] = hostile(record.get("text") or "a post text")
            if record.get("account"):
                record["account"]["name"] = hostile(record["account"].get("name") or "Name")
            if record.get("embed_html"):
                record["embed_html"] = hostile(record["embed_html"])
        elif record["type"] == "post":
            for entry in record["entries"]:
                entry["paper_shown"]["title"] = hostile(entry["paper_shown"]["title"])
                for shown in entry["shown"]:
                    if shown.get("embed_html"):
                        shown["embed_html"] = hostile(shown["embed_html"])
    header = {"days": [DEMO_DAY.isoformat()], "format": "hotpapers-snapshot",
              "type": "snapshot", "version": 1}
    path.write_text("".join(json.dumps(r) + "\n" for r in [header, *records]), "utf-8")
    return path


def _arxiv_snapshot(path: Path, paper_id: str) -> Path:
    record = {
        "id": paper_id, "submitter": hostile("Ada Example"),
        "authors": hostile("Ada Example and Brook Sample"), "title": hostile("A Newer Title"),
        "comments": hostile("12 pages"), "journal-ref": None, "doi": None, "report-no": None,
        "categories": "cs.LG", "license": None, "abstract": hostile("An abstract, newer."),
        "versions": [{"version": f"v{n}", "created": "Mon, 18 Jan 2021 09:00:00 GMT"}
                     for n in range(1, 9)],
        "update_date": "2021-01-18",
        "authors_parsed": [[hostile("Example"), "Ada", ""], ["Sample", "Brook", ""]]}
    path.write_text(json.dumps(record) + "\n", "utf-8")
    return path


def test_p5_control_characters_never_reach_posts_site_or_markdown(cli, monkeypatch, tmp_path,
                                                                  httpserver):
    assert cli("import", "snapshot", _snapshot(tmp_path / "snap.jsonl")).code == 0
    listed = next(r for _, r in read_snapshot(demo_snapshot()) if r["type"] == "listing")
    first, second = listed["papers"][0][0], listed["papers"][1][0]
    result = cli("import", "arxiv-snapshot", _arxiv_snapshot(tmp_path / "arxiv.jsonl", second))
    assert result.code == 0, result.err

    at = datetime(2021, 1, 18, 12, tzinfo=UTC)
    story = {"objectID": "99", "title": hostile("A story about the paper"),
             "author": hostile("storyteller"), "url": f"https://arxiv.org/abs/{first}",
             "points": 300, "num_comments": 3, "created_at": at.isoformat().replace("+00:00", "Z"),
             "created_at_i": int(at.timestamp()), "story_text": hostile("Some story text")}
    httpserver.expect_request("/hn/search_by_date").respond_with_handler(
        lambda request: Response(json.dumps({"hits": [story], "nbHits": 1, "nbPages": 1,
                                             "page": 0, "hitsPerPage": 100}),
                                 content_type="application/json"))
    monkeypatch.setenv("HOTPAPERS_HN_API_URL", httpserver.url_for("/hn"))
    monkeypatch.setenv("HOTPAPERS_SOURCE_INTERVAL", "0")
    result = cli("fetch", "mentions", "--source", "hn", "--since", "2021-01-18",
                 "--until", "2021-01-19")
    assert result.code == 0, result.err

    outputs = tmp_path / "out"
    outputs.mkdir()
    day = DEMO_DAY.isoformat()
    for fmt in ("lumen", "markdown", "hugo", "jekyll"):
        result = cli("post", "--date", day, "--format", fmt, "--out", outputs / f"{fmt}.md")
        assert result.code == 0, result.err
    for method in ("classic", "hot"):  # the papers as stored now, not as the post showed
        result = cli("rank", "--date", day, "--method", method, "--json")
        assert result.code == 0, result.err
        (outputs / f"rank-{method}.json").write_text(result.out, "utf-8")
    for embeds in ("static", "oembed"):
        assert cli("site", "build", "--out", outputs / embeds, "--embeds", embeds).code == 0
    files = [p for p in outputs.rglob("*") if p.is_file()
             and "pagefind" not in p.relative_to(outputs).parts]  # the search index: binary
    assert len(files) > 20
    for path in files:
        found = LEFT.search(path.read_bytes())
        assert found is None, (path, found)
    text = "\n".join(p.read_text("utf-8") for p in files if p.suffix in (".md", ".html"))
    kept = "\t\n\n"  # what is left of C0: tab, newline, and the carriage return's newline
    ranked = json.loads((outputs / "rank-hot.json").read_text())
    squeezed = {" ".join(text.split()) for text in strings(ranked)}
    assert "A Newe r Title" in squeezed  # the arXiv snapshot's paper (whitespace folded),
    # and the Hacker News story shown: in posts as it is, on the site's cards as its lines
    # (a blank line parts two paragraphs there)
    assert "A stor" + kept + "y about the paper" in text or re.search(
        r"A stor\s*</p>\s*<p[^>]*>y about the paper", text)


def test_p5_import_legacy_keeps_control_characters_byte_for_byte(cli, tmp_path):
    from conftest import FIXTURES

    source = (FIXTURES / "posts" / "2024-03-04---Hot-Papers.md").read_text("utf-8")
    post = tmp_path / "2024-03-04---Hot-Papers.md"
    crafted = source.replace("Sparse  Lanterns", "Sparse\x0b Lanterns\x1f").replace(
        "Our lanterns paper", "Our\x07 lanterns paper")
    assert "\x1f" in crafted and "\x07" in crafted  # (a NUL makes it binary: refused)
    post.write_bytes(crafted.encode("utf-8"))
    result = cli("legacy", "verify", tmp_path)
    assert result.code == 0, result.err
    assert "1/1" in result.out, result.out
