"""Settings and stores a new user gets wrong: `init` and $HOTPAPERS_CONFIG, errors in
environment variables, names of sources and targets checked at load time, read-only
commands on a mistyped --db."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import sqlite_only
from hotpapers.config import MENTION_SOURCES, TARGETS, load_settings
from hotpapers.errors import InputError


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("HOTPAPERS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_p18_init_writes_the_config_named_by_the_environment(cli, monkeypatch, tmp_path):
    wanted = tmp_path / "not" / "yet" / "hotpapers.toml"
    monkeypatch.setenv("HOTPAPERS_CONFIG", str(wanted))
    result = cli("init")
    assert result.code == 0, result.err
    assert wanted.is_file() and f"Config written: {wanted}" in result.out
    assert not (tmp_path / "config-home").exists()  # the default path is left alone
    again = cli("init")
    assert again.code == 0 and f"Config kept: {wanted}" in again.out


def test_p18_init_option_wins_over_the_environment(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("HOTPAPERS_CONFIG", str(tmp_path / "env.toml"))
    result = cli("--config", tmp_path / "new" / "opt.toml", "init")
    assert result.code == 0, result.err
    assert (tmp_path / "new" / "opt.toml").is_file() and not (tmp_path / "env.toml").exists()


def test_p19_a_bad_list_in_a_variable_names_the_variable(clean_env, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_CATEGORIES", "cs,stat.ML")
    with pytest.raises(InputError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("HOTPAPERS_CATEGORIES: not valid JSON")
    assert '["cs", "stat.ML"]' in message
    assert "config.toml" not in message and "EnvSettingsSource" not in message


def test_p19_a_bad_table_in_a_variable_names_the_variable(clean_env, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_HOT_SOURCE_WEIGHTS", "hn=0.5")
    with pytest.raises(InputError, match=r"^HOTPAPERS_HOT_SOURCE_WEIGHTS: not valid JSON"):
        load_settings()


def test_p19_the_cli_says_which_variable(cli, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_DAILY_TARGETS", "git")
    result = cli("rank", "--date", "2021-01-18")
    assert result.code == 2
    assert result.err.startswith("hotpapers: error: HOTPAPERS_DAILY_TARGETS: not valid JSON")


@pytest.mark.parametrize(("setting", "toml", "bad", "known"), [
    ("daily_targets", '["git", "gti"]', "gti", TARGETS),
    ("classic_sources", '["twitter"]', "twitter", MENTION_SOURCES),
    ("mention_sources", '["hn", "lobsters"]', "lobsters", MENTION_SOURCES),
    ("hot_source_weights", '{"hacker_news" = 0.5}', "hacker_news", MENTION_SOURCES),
])
def test_p24_a_bad_name_in_a_setting_is_found_at_load_time(clean_env, tmp_path, setting, toml,
                                                           bad, known):
    path = tmp_path / "hp.toml"
    path.write_text(f"{setting} = {toml}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {setting}: ")
    assert repr(bad) in message and ", ".join(known) in message


def test_p24_a_bad_name_in_a_variable_names_the_variable(clean_env, monkeypatch):
    monkeypatch.setenv("HOTPAPERS_DAILY_TARGETS", '["gti"]')
    with pytest.raises(InputError, match=r"^HOTPAPERS_DAILY_TARGETS: daily_targets: .*'gti'"):
        load_settings()


def test_p24_daily_stops_before_fetching_on_a_bad_target(cli, tmp_path, db_url):
    config = tmp_path / "hp.toml"
    config.write_text('daily_targets = ["gti"]\narxiv_rss_url = "http://127.0.0.1:9/rss"\n',
                      encoding="utf-8")
    result = cli("--config", config, "daily")
    assert result.code == 2
    assert "daily_targets" in result.err and "'gti'" in result.err
    assert "--to" not in result.err and "arXiv" not in result.err
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()  # nothing was started


def test_p24_the_names_are_the_registries_names():
    from hotpapers.publish.registry import TARGETS as PUBLISHERS
    from hotpapers.sources.registry import SOURCES

    assert (tuple(SOURCES), tuple(PUBLISHERS)) == (MENTION_SOURCES, TARGETS)


READ_ONLY = [
    ("rank", "--date", "2021-01-18"),
    ("explain", "2101.06189", "--date", "2021-01-18"),
    ("post", "--date", "2021-01-18"),
    ("site", "build", "--out", "site-out"),
    ("export", "snapshot", "--date", "2021-01-18", "snap.jsonl"),
]


@sqlite_only("a missing database is a missing file")
@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_p20_read_only_commands_never_create_a_store(cli, tmp_path, args):
    missing = tmp_path / "typo" / "hotpaper.sqlite3"
    result = cli("--db", f"sqlite:///{missing}", *args)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert str(missing) in result.err and "hotpapers init" in result.err
    assert not (tmp_path / "typo").exists()
    assert not (tmp_path / "site-out").exists() and not (tmp_path / "snap.jsonl").exists()


def test_p19_a_bad_secret_list_names_the_variable_not_the_value(clean_env, monkeypatch):
    from hotpapers.config import Secrets

    monkeypatch.setenv("HOTPAPERS_WEBHOOK_URLS", "https://hooks.example/T0/s3cr3t")
    with pytest.raises(InputError) as caught:
        Secrets()
    assert str(caught.value).startswith("HOTPAPERS_WEBHOOK_URLS: not valid JSON")
    assert "s3cr3t" not in str(caught.value)
