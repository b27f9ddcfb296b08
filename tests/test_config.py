"""Settings: declared once, read from TOML and HOTPAPERS_* variables, in that priority."""

from __future__ import annotations

import tomllib

import pytest

from hotpapers.config import Settings, load_settings, render_config
from hotpapers.errors import InputError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("HOTPAPERS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_defaults_are_the_original_rules():
    settings = load_settings()
    assert (settings.classic_paper_threshold, settings.classic_tweet_threshold,
            settings.classic_max_tweets) == (50, 25, 10)
    assert settings.categories == ["cs", "stat.ML"]
    assert settings.classic_sources == ["x"]


def test_file_then_environment_then_overrides(monkeypatch, tmp_path):
    path = tmp_path / "hp.toml"
    path.write_text('classic_paper_threshold = 70\nclassic_tweet_threshold = 5\n'
                    'categories = ["math.NA"]\n', encoding="utf-8")
    monkeypatch.setenv("HOTPAPERS_CLASSIC_TWEET_THRESHOLD", "7")
    monkeypatch.setenv("HOTPAPERS_CATEGORIES", '["cs.LG", "cs.CL"]')
    settings = load_settings(path, db="sqlite:///x.db")
    assert settings.classic_paper_threshold == 70
    assert settings.classic_tweet_threshold == 7
    assert settings.categories == ["cs.LG", "cs.CL"]
    assert settings.db == "sqlite:///x.db"


def test_config_from_environment_variable_path(monkeypatch, tmp_path):
    path = tmp_path / "elsewhere.toml"
    path.write_text("classic_max_tweets = 3\n", encoding="utf-8")
    monkeypatch.setenv("HOTPAPERS_CONFIG", str(path))
    assert load_settings().classic_max_tweets == 3


@pytest.mark.parametrize(("text", "reason"), [
    ("classic_paper_threshold = -1\n", "classic_paper_threshold: Input should be greater"),
    ("no_such_setting = 1\n", "no_such_setting: Extra inputs are not permitted"),
    ("classic_paper_threshold = \n", "hp.toml: "),
    ('post_filename = "{day}.md"\n', "post_filename: Value error, only the placeholder {date}"),
    ('post_filename = "posts/{date}.md"\n', "post_filename: Value error, must contain {date}"),
    # put before every link of the site and its feeds: a script URL would run in readers
    ('site_url = "javascript:alert(1)//"\n', "site_url: Value error, must be empty or an "
                                            "absolute http(s) URL"),
    ('site_url = "papers.example.org"\n', "site_url: Value error, must be empty or an "),
])
def test_bad_config_names_file_and_setting(tmp_path, text, reason):
    path = tmp_path / "hp.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert reason in str(caught.value)


def test_rendered_config_is_valid_toml_with_every_setting_and_its_help(tmp_path):
    text = render_config()
    parsed = tomllib.loads(text)
    for name, field in Settings.model_fields.items():
        assert f"# {field.description}" in text
        if getattr(Settings(), name) is not None:
            assert parsed[name] == getattr(Settings(), name)
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    assert load_settings(path).model_dump() == Settings().model_dump()


def test_a_secret_in_the_config_file_is_refused_and_the_variable_named(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('x_bearer_token = "AAAA-secret"\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_settings(config)
    assert "set HOTPAPERS_X_BEARER_TOKEN" in str(caught.value)
    assert "AAAA-secret" not in str(caught.value)
