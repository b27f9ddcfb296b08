"""The command line, run in-process: exit codes, messages, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from conftest import FIXTURES
from hotpapers.store.runs import load_runs
from hotpapers.store.schema import papers

POSTS = FIXTURES / "posts"
LANTERNS = POSTS / "2024-03-04---Hot-Papers.md"


def count_papers(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(papers)).scalar()


def test_demo_writes_the_seed_post_byte_for_byte(cli, tmp_path, seed_post):
    result = cli("demo", "--out", tmp_path / "demo")
    assert result.code == 0, result.err
    written = tmp_path / "demo" / "posts" / "2021-01-18---Hot-Papers.md"
    assert written.read_bytes() == seed_post.read_bytes()
    assert "Done: 8 papers listed, 8 tweets shown, 1 file written" in result.out
    assert (tmp_path / "demo" / "hotpapers.sqlite3").exists()
    index = tmp_path / "demo" / "site" / "index.html"
    assert f"Site: {index}" in result.out
    day_page = (tmp_path / "demo" / "site" / "2021-01-18" / "index.html").read_text()
    assert day_page.count('class="paper-title"') == 8


def test_demo_runs_twice_into_the_same_folder(cli, tmp_path):
    first = cli("demo", "--out", tmp_path / "d")
    post = (tmp_path / "d" / "posts" / "2021-01-18---Hot-Papers.md").read_bytes()
    second = cli("-q", "demo", "--out", tmp_path / "d")
    assert (first.code, second.code) == (0, 0)
    assert second.out == ""
    assert (tmp_path / "d" / "posts" / "2021-01-18---Hot-Papers.md").read_bytes() == post
    assert post.startswith(b"---\ntitle: Hot Papers 2021-01-18\n")
    assert post.count(b"\n# ") == 8


def test_import_rank_and_post(cli, tmp_path):
    assert cli("import", "legacy", POSTS).code == 0
    ranked = cli("rank", "--date", "2024-03-04", "--json")
    assert ranked.code == 0
    data = json.loads(ranked.out)
    assert [(p["id"], p["score"]) for p in data["papers"]] == [
        ("2403.01234", 420), ("2403.00007", 54), ("hep-th/9901001", 50)]
    assert data["as_of"] == "2024-03-05T07:30:01+00:00"
    table = cli("rank", "--date", "2024-03-04")
    assert "Sparse  Lanterns" in table.out and "2403.00007" in table.out
    out_dir = tmp_path / "posts"
    out_dir.mkdir()
    result = cli("post", "--date", "2024-03-04", "--out", out_dir)
    assert result.code == 0
    assert (out_dir / LANTERNS.name).read_bytes() == LANTERNS.read_bytes()
    assert cli("post", "--date", "2024-03-04").out == LANTERNS.read_text(encoding="utf-8")


def test_import_reports_bad_files_and_keeps_the_rest(cli, tmp_path, db_url):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "truncated.md").write_bytes(LANTERNS.read_bytes()[:1500])
    (bad / "binary.md").write_bytes(b"\x00\x01\x02")
    (bad / "no-front-matter.md").write_text("# 1. A title\n", encoding="utf-8")
    (bad / "counts.md").write_text(LANTERNS.read_text(encoding="utf-8")
                                   .replace("retweets: 120", "retweets: lots"), encoding="utf-8")
    result = cli("import", "legacy", bad, POSTS / "2024-03-06---Hot-Papers.md")
    assert result.code == 2
    errors = result.err.strip().splitlines()
    assert sorted(e.split(": ")[2].rsplit("/", 1)[1] for e in errors) == [
        "binary.md:1", "counts.md:22", "no-front-matter.md:1", "truncated.md:38"]
    assert all(e.startswith("hotpapers: error: ") for e in errors)
    assert "Done: 1 changed, 0 unchanged (1 papers), 4 failed" in result.out
    assert count_papers(db_url) == 1
    with create_engine(db_url).connect() as conn:
        (run,) = load_runs(conn)
    assert (run["command"], run["status"]) == ("import legacy", "partial")
    assert run["counts"] == {"files": 5, "posts": 1, "papers": 1, "changed": 1, "unchanged": 0}
    assert len(run["errors"]) == 4 and run["finished_at"] >= run["started_at"]


def test_legacy_verify_counts_identical_posts(cli):
    result = cli("legacy", "verify", POSTS)
    assert result.code == 0
    assert result.out.strip().endswith("3/3 identical")


def test_legacy_verify_fails_on_a_post_it_cannot_read(cli, tmp_path):
    odd = tmp_path / "odd.md"
    odd.write_text(LANTERNS.read_text(encoding="utf-8").replace("favorites: 24", "favs: 24"),
                   encoding="utf-8")
    result = cli("legacy", "verify", odd, LANTERNS)
    assert result.code == 1
    assert result.out.strip().endswith("1/2 identical")
    assert f"{odd}:42: expected '- retweets" in result.err


def test_the_verify_diff_names_both_sides():
    from hotpapers.cli.data import _diff

    text = _diff(Path("a.md"), b"one\ntwo\n", "one\nthree\n")
    assert text.splitlines() == ["--- a.md", "+++ a.md (rendered)", "@@ -1,2 +1,2 @@",
                                 " one", "-two", "+three"]


def test_legacy_verify_on_the_real_corpus(cli, corpus_dir):
    result = cli("legacy", "verify", corpus_dir)
    assert result.code == 0
    assert result.out.strip().splitlines()[-1] == "126/126 identical"


def test_snapshot_round_trip_through_the_cli(cli, tmp_path):
    assert cli("import", "legacy", LANTERNS).code == 0
    first = tmp_path / "day.jsonl"
    assert cli("export", "snapshot", "--date", "2024-03-04", first).code == 0
    other_db = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert cli("--db", other_db, "import", "snapshot", first).code == 0
    again = tmp_path / "again.jsonl.gz"
    assert cli("--db", other_db, "export", "snapshot", "--date", "2024-03-04", again).code == 0
    import gzip
    assert gzip.decompress(again.read_bytes()) == first.read_bytes()
    post = cli("--db", other_db, "post", "--date", "2024-03-04")
    assert post.out == LANTERNS.read_text(encoding="utf-8")


@pytest.mark.parametrize(("args", "message"), [
    (("rank", "--date", "2024-13-01"), "--date '2024-13-01': not a date"),
    (("post", "--date", "yesterday"), "--date 'yesterday': not a date"),
    (("rank", "--date", "20240304"), "--date '20240304': not a date (YYYY-MM-DD)"),
    (("rank", "--date", "2024-W10"), "--date '2024-W10': not a date (YYYY-MM-DD)"),
    # before arXiv (the listing schedule's arithmetic failed near year 1), or past 9999-11
    (("fetch", "papers", "--date", "0001-01-01"), "--date 0001-01-01: out of range"),
    (("daily", "--date", "1991-08-13"), "--date 1991-08-13: out of range"),
    (("rank", "--date", "9999-12-31"), "--date 9999-12-31: out of range"),
    (("--db", "nonsense://", "rank", "--date", "2024-03-04"), "--db"),
    (("import", "legacy", "missing-folder"), "missing-folder: no such file or directory"),
    (("import", "snapshot", str(LANTERNS)), "not a hotpapers-snapshot file"),
    (("--config", "absent.toml", "rank", "--date", "2024-03-04"),
     "absent.toml: config file not found"),
])
def test_bad_input_exits_2_with_one_line(cli, args, message):
    result = cli(*args)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_usage_errors_exit_2(cli):
    assert cli("rank").code == 2
    assert cli("rank", "--date", "2024-03-04", "--method", "astrology").code == 2
    assert cli("no-such-command").code == 2


def test_a_day_without_papers_is_nothing_to_do(cli, engine):  # an existing, empty store
    result = cli("rank", "--date", "2024-03-09")
    assert result.code == 3
    assert result.err.startswith("hotpapers: nothing to do: no papers stored for 2024-03-09")


def test_init_writes_a_config_and_creates_the_database(cli, tmp_path, db_url):
    config = tmp_path / "config-home" / "hotpapers" / "config.toml"
    result = cli("init")
    assert result.code == 0, result.err
    assert config.exists()
    text = config.read_text(encoding="utf-8")
    assert "classic_paper_threshold = 50" in text
    assert count_papers(db_url) == 0
    assert "Config kept" in cli("--config", config, "init").out
    assert cli("--config", config, "rank", "--date", "2024-03-04").code == 3  # config is valid


@pytest.mark.parametrize("command", [
    [], ["demo"], ["init"], ["rank"], ["post"], ["import"], ["import", "legacy"],
    ["import", "snapshot"], ["export", "snapshot"], ["legacy", "verify"]])
def test_every_command_has_help_with_an_example(cli, command):
    result = cli(*command, "--help")
    assert result.code == 0
    assert "Usage:" in result.out
    if command and command not in (["import"],):
        assert "Example: hotpapers" in result.out


def test_python_dash_m_runs_the_same_app(tmp_path):
    done = subprocess.run([sys.executable, "-m", "hotpapers", "--version"],
                          capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0 and done.stdout.startswith("hotpapers ")
    failed = subprocess.run([sys.executable, "-m", "hotpapers", "rank", "--date", "x"],
                            capture_output=True, text=True, cwd=tmp_path, check=False,
                            env={"HOTPAPERS_DB": f"sqlite:///{tmp_path / 'x.db'}",
                                 "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert failed.returncode == 2 and "not a date" in failed.stderr
    assert Path(tmp_path / "x.db").exists() is False


@pytest.mark.parametrize(("db", "code", "message"), [
    ("sqlite:////etc/passwd", 2, "--db sqlite:////etc/passwd: /etc/passwd is not a SQLite "
                                 "database"),
    ("mysql://u:secret@h/db", 2, "only SQLite and PostgreSQL databases are supported"),
])
def test_unusable_databases_give_one_line(cli, db, code, message):
    result = cli("--db", db, "rank", "--date", "2024-03-04")
    assert result.code == code
    assert message in result.err and "secret" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_messages_are_printed_literally(cli, tmp_path):
    odd = tmp_path / "[red]odd"
    odd.mkdir()
    (odd / "x.md").write_text("no front matter\n", encoding="utf-8")
    result = cli("import", "legacy", odd)
    assert f"{odd}/x.md:1: no front matter" in result.err


def test_post_into_a_new_folder_with_normal_permissions(cli, tmp_path):
    assert cli("import", "legacy", LANTERNS).code == 0
    result = cli("post", "--date", "2024-03-04", "--out", f"{tmp_path}/blog/posts/")
    written = tmp_path / "blog" / "posts" / LANTERNS.name
    assert result.code == 0 and written.read_bytes() == LANTERNS.read_bytes()
    assert written.stat().st_mode & 0o777 == 0o666 & ~current_umask()


def current_umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_init_never_copies_environment_values_into_the_config(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_CONTACT_EMAIL", "private@example.org")
    config = tmp_path / "c.toml"
    assert cli("--config", config, "init").code == 0
    text = config.read_text(encoding="utf-8")
    assert "private@example.org" not in text and 'contact_email = ""' in text
    assert str(tmp_path) not in text  # not even the database path of this run


@pytest.mark.parametrize(("variable", "value"), [
    ("HOTPAPERS_CLASSIC_PAPER_THRESHOLD", "many"),
    ("HOTPAPERS_HTTP_MAX_BODY_MB", "inf"),  # took, then failed every request
    ("HOTPAPERS_SOURCE_INTERVAL", "nan"),
])
def test_a_bad_environment_value_is_named(cli, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = cli("rank", "--date", "2024-03-04")
    assert result.code == 2
    setting = variable.removeprefix("HOTPAPERS_").lower()
    assert result.err.startswith(f"hotpapers: error: {variable}: {setting}:")
    assert len(result.err.strip().splitlines()) == 1


def test_exporting_a_day_with_nothing_stored_is_nothing_to_do(cli, tmp_path, engine):
    result = cli("export", "snapshot", "--date", "2024-03-04", tmp_path / "x.jsonl")
    assert result.code == 3 and not (tmp_path / "x.jsonl").exists()


def test_a_second_post_of_the_same_day_replaces_the_first_with_a_warning(cli, tmp_path):
    rerun = tmp_path / "rerun.md"
    rerun.write_text(LANTERNS.read_text(encoding="utf-8").replace(
        "date: 2024-03-05T07:30:01.Z", "date: 2024-03-06T07:30:01.Z"), encoding="utf-8")
    assert cli("import", "legacy", LANTERNS).code == 0
    again = cli("import", "legacy", LANTERNS)
    assert again.code == 0 and again.err == ""
    result = cli("import", "legacy", rerun)
    assert result.code == 0
    assert result.err.strip() == (f"hotpapers: warning: {rerun} replaced the stored post of "
                                  "2024-03-04 generated 2024-03-05 07:30:01 UTC")
    assert cli("post", "--date", "2024-03-04").out == rerun.read_text(encoding="utf-8")


def test_p23_a_reimport_says_what_changed_and_what_did_not(cli, tmp_path, db_url):
    posts = tmp_path / "posts"
    posts.mkdir()
    for path in POSTS.glob("*.md"):
        (posts / path.name).write_bytes(path.read_bytes())
    first = cli("import", "legacy", posts)
    assert first.code == 0, first.err
    assert "Done: 3 changed, 0 unchanged" in first.out
    again = cli("import", "legacy", posts)
    assert again.code == 0, again.err
    assert "Done: 0 changed, 3 unchanged" in again.out
    assert "imported" not in again.out
    edited = posts / LANTERNS.name
    text = edited.read_text(encoding="utf-8")
    assert "retweets: 120" in text
    edited.write_text(text.replace("retweets: 120", "retweets: 121"), encoding="utf-8")
    third = cli("import", "legacy", posts)
    assert "Done: 1 changed, 2 unchanged" in third.out
    with create_engine(db_url).connect() as conn:
        runs = load_runs(conn)
    assert sorted(run["counts"]["unchanged"] for run in runs) == [0, 2, 3]


@pytest.mark.parametrize("where", ["not-a-folder/post.md", "not-a-folder/posts/"])
def test_a_post_that_cannot_be_written_publishes_nothing(cli, tmp_path, db_url, where):
    """Writing the post publishes its day (stored as shown, frozen): when the file cannot
    be written, the day must not be stored as published either."""
    from sqlalchemy import text

    assert cli("import", "legacy", POSTS).code == 0
    (tmp_path / "not-a-folder").write_text("a file\n")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM posts")).scalar()
    result = cli("post", "--date", "2024-03-04", "--method", "hot",
                 "--out", str(tmp_path / where))
    assert result.code != 0 and str(tmp_path / where.split("/")[0]) in result.err
    assert len(result.err.strip().splitlines()) == 1 and ".tmp" not in result.err
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM posts")).scalar() == before
    engine.dispose()


@pytest.mark.parametrize(("where", "named"), [("env", "HOTPAPERS_DB"), ("option", "--db"),
                                              ("config", "db (the config file)")])
def test_an_error_about_the_store_names_where_its_url_came_from(cli, tmp_path, monkeypatch,
                                                               where, named):
    """A new user who never typed --db is not told about --db."""
    url = f"sqlite:///{tmp_path / 'missing.sqlite3'}"
    monkeypatch.delenv("HOTPAPERS_DB")
    args = ["rank", "--date", "2024-03-04"]
    if where == "env":
        monkeypatch.setenv("HOTPAPERS_DB", url)
    elif where == "option":
        args = ["--db", url, *args]
    else:
        (tmp_path / "c.toml").write_text(f'db = "{url}"\n', encoding="utf-8")
        args = ["--config", str(tmp_path / "c.toml"), *args]
    result = cli(*args)
    assert result.code == 2
    assert result.err.startswith(f"hotpapers: error: {named} {url}: no database at ")
