"""Settings, declared once: name, default and help. Read from a TOML file and HOTPAPERS_*
environment variables; secrets only ever come from the environment."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from hotpapers.config_checks import (
    SiteUrl,
    check_post_filename,
    known_names,
    register_db_passwords,
    validation_message,
    variable_message,
)
from hotpapers.config_paths import config_path, default_config_path, default_db_url
from hotpapers.errors import InputError
from hotpapers.secrets import register, scrub

__all__ = [
    "MENTION_SOURCES", "TARGETS", "Secrets", "Settings", "config_path", "default_config_path",
    "default_db_url", "load_settings", "render_config",
]

# the names settings may use; tests/test_config_checks.py keeps them equal to the registries'
MENTION_SOURCES = ("x", "bluesky", "hn", "hf", "mastodon", "reddit")
TARGETS = ("git", "bluesky", "mastodon", "email", "webhook")


class Settings(BaseSettings):
    """Every setting of hotpapers. The field description is the help text."""

    model_config = SettingsConfigDict(  # no inf nor nan: a limit of inf failed every request
        env_prefix="HOTPAPERS_", extra="forbid", allow_inf_nan=False)

    db: str | None = Field(None, description="SQLAlchemy database URL; default: a SQLite "
                           "file in the user data directory.")
    categories: list[str] = Field(
        ["cs", "stat.ML"],
        description="arXiv categories of a day; 'cs' means every cs.* category.",
    )
    classic_sources: list[str] = Field(
        ["x"], description="Sources whose mentions the classic ranking counts."
    )
    classic_paper_threshold: int = Field(
        50, ge=0, description="Classic: a paper is listed when its score reaches this."
    )
    classic_tweet_threshold: int = Field(
        25, ge=0, description="Classic: a tweet is shown under a paper when its score reaches this."
    )
    classic_max_tweets: int = Field(
        10, ge=0, description="Classic: at most this many tweets are shown under a paper."
    )
    contact_email: str = Field(
        "", description="Contact address sent in the User-Agent to arXiv and other services."
    )
    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query", description="arXiv export API endpoint."
    )
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint."
    )
    arxiv_rss_url: str = Field(
        "https://rss.arxiv.org/rss", description="arXiv announcement feeds (RSS) base URL."
    )
    arxiv_interval: float = Field(
        3.0, ge=3.0, description="Seconds between two requests to arXiv (arXiv asks for 3 or more)."
    )
    arxiv_holidays: list[date] = Field(
        [], description="Dates (US Eastern) on which arXiv makes no announcement."
    )
    http_timeout: float = Field(30.0, gt=0, description="Seconds before an HTTP request times out.")
    http_retries: int = Field(
        4, ge=0, description="Retries of a request that failed with 5xx, 429 or a timeout."
    )
    http_deadline: float = Field(
        120.0, gt=0, description="Seconds one try of an HTTP request may take in all, "
        "reading the body included.",
    )
    http_max_body_mb: float = Field(
        32.0, gt=0, description="Largest HTTP answer read, in MiB; a larger one fails the "
        "request.",
    )
    source_budget: float = Field(
        1800.0, gt=0, description="Seconds one source (or target) may spend on its requests "
        "in a run, waits included; then it stops and is reported as failed.",
    )
    post_filename: str = Field(
        "{date}---Hot-Papers.md", description="File name of a day's post; {date} is day D."
    )
    hot_source_weights: dict[str, float] = Field(
        {}, description="Hot: weight of each source's normalised score (default 1 each).",
    )
    hot_kind_weights: dict[str, float] = Field(
        {"likes": 1.0, "reposts": 1.0, "quotes": 2.0, "replies": 1.0, "points": 1.0},
        description="Hot: weight of each kind of engagement.",
    )
    hot_repost_ratio: float = Field(
        3.0, gt=0, description="Hot: a post's reposts count up to this many times its likes + 1.",
    )
    hot_new_account_days: float = Field(
        30.0, ge=0, description="Hot: an account younger than this when it posted is new.",
    )
    hot_new_account_weight: float = Field(
        0.25, ge=0, le=1, description="Hot: how much a new account counts (1 = fully).",
    )
    hot_scale_quantile: float = Field(
        0.9, gt=0, le=1, description="Hot: each source is measured against this quantile "
        "of the papers discussed there.",
    )
    hot_min_score: float = Field(
        1.0, ge=0, description="Hot: a paper is listed when its score reaches this.",
    )
    hot_max_papers: int | None = Field(
        30, ge=1, description="Hot: at most this many papers (none: no limit).",
    )
    post_mentions_per_source: int = Field(
        3, ge=0, description="Hot and trending posts: at most this many mentions of each "
        "source under a paper, the most engaged first.",
    )
    trending_gravity: float = Field(
        1.8, ge=0, description="Trending: how fast attention ages (score / (hours + 2)^g).",
    )
    trending_min_score: float = Field(
        0.0, ge=0, description="Trending: a paper is listed when its score reaches this.",
    )
    trending_max_papers: int | None = Field(
        30, ge=1, description="Trending: at most this many papers (none: no limit).",
    )
    filter_categories: list[str] = Field(
        [], description="Show only papers in these categories ('cs' means every cs.*).",
    )
    filter_exclude_categories: list[str] = Field(
        [], description="Leave out papers whose primary category is one of these.",
    )
    filter_primary_only: bool = Field(
        False, description="filter_categories match the primary category only (no cross-lists).",
    )
    filter_keywords: list[str] = Field(
        [], description="Show only papers whose title or abstract contains one of these.",
    )
    filter_authors: list[str] = Field(
        [], description="Show only papers with an author whose name contains one of these.",
    )
    daily_method: str = Field(
        "hot", pattern="^(classic|hot|trending)$",
        description="Ranking of the daily digest and post: hot (people across sources, the "
        "free ones included), trending, or classic (the original blog's rule: X only).",
    )
    daily_targets: list[str] = Field(
        [], description="Where `daily` publishes: git, bluesky, mastodon, email, webhook.",
    )
    posts_dir: str = Field(
        "", description="Folder where `daily` writes each day's post; default: posts/ in the "
        "user data directory.",
    )
    publish_top_n: int = Field(
        5, ge=1, description="Papers in bot posts, e-mails and webhook messages.",
    )
    site_url: SiteUrl = Field("", description="Public URL of the site (links in digests); "
                              "empty: link to arXiv.")
    git_checkout: str = Field("", description="Git target: the blog checkout to commit into.")
    git_post_path: str = Field(
        "content/posts/{date}---Hot-Papers.md",
        description="Git target: the post's path in the checkout; {date} is day D.",
    )
    git_remote: str = Field("origin", description="Git target: the remote to push to.")
    git_branch: str = Field(
        "", description="Git target: the branch to push (empty: the checkout's current one).",
    )
    git_push: bool = Field(True, description="Git target: push after committing.")
    git_author: str = Field(
        "hotpapers <hotpapers@localhost>", description="Git target: commit author, 'Name <email>'.",
    )
    mastodon_post_instance: str = Field(
        "", description="Mastodon target: instance to post to (default: the first of "
        "mastodon_instances); the token is HOTPAPERS_MASTODON_TOKEN.",
    )
    smtp_host: str = Field("localhost", description="E-mail target: SMTP server.")
    smtp_port: int = Field(587, ge=1, le=65535, description="E-mail target: SMTP port.")
    smtp_security: str = Field(
        "starttls", pattern="^(starttls|ssl|none)$",
        description="E-mail target: starttls, ssl or none.",
    )
    smtp_username: str = Field(
        "", description="E-mail target: SMTP user (password: HOTPAPERS_SMTP_PASSWORD).",
    )
    email_from: str = Field("", description="E-mail target: the From address.")
    email_to: list[str] = Field([], description="E-mail target: recipients.")
    email_unsubscribe: str = Field(
        "", description="E-mail target: how to unsubscribe (an address or URL); required.",
    )
    webhook_format: str = Field(
        "slack", pattern="^(slack|discord|json)$",
        description="Webhook target: slack, discord or json (URLs: HOTPAPERS_WEBHOOK_URLS).",
    )
    mention_sources: list[str] = Field(
        ["x", "bluesky", "hn", "hf", "mastodon", "reddit"],
        description="Sources that `fetch mentions --source all` reads.",
    )
    source_interval: float = Field(
        1.0, ge=0, description="Seconds between two requests to one attention source."
    )
    fetch_missing_papers: bool = Field(
        True, description="After fetching mentions, fetch from arXiv the papers they name "
        "that are not stored yet.",
    )
    observation_detail_days: int = Field(
        7, ge=1, description="Metric observations younger than this many days are all kept; "
        "older ones are thinned to the last one of each UTC day per mention.",
    )
    x_api_url: str = Field("https://api.x.com/2", description="X API v2 base URL.")
    x_query: str = Field(
        '(url:"arxiv.org/abs" OR url:"arxiv.org/pdf" OR url:"arxiv.org/html" '
        'OR url:"huggingface.co/papers" OR url:"alphaxiv.org") -is:retweet',
        description="X recent-search query: posts linking papers, retweets left out.",
    )
    x_read_budget: int = Field(
        10000, ge=0, description="At most this many X posts are read per run (X bills per read).",
    )
    x_oembed_url: str = Field(
        "https://publish.twitter.com/oembed", description="oEmbed endpoint for tweet embeds."
    )
    bsky_api_url: str = Field("https://bsky.social/xrpc",
                              description="Bluesky PDS for signed-in calls (search).")
    bsky_public_url: str = Field("https://public.api.bsky.app/xrpc",
                                 description="Bluesky public AppView (post counts).")
    bsky_query: list[str] = Field(["arxiv.org"], description="Bluesky search queries; each "
                                  "is searched over the window.")
    bsky_jetstream_url: str = Field(
        "wss://jetstream2.us-east.bsky.network/subscribe",
        description="Jetstream websocket endpoint for `stream bluesky`.",
    )
    bsky_rewind_seconds: float = Field(
        5.0, ge=0, description="Jetstream: on reconnect, replay this many seconds before the "
        "stored cursor (duplicates are dropped).",
    )
    bsky_lease_seconds: float = Field(
        30.0, gt=0, le=3600, description="Jetstream: one `stream bluesky` at a time writes; "
        "a standby takes over when the active one has not renewed its lease for this long.",
    )
    bsky_replay_window_hours: float = Field(
        72.0, gt=0, description="Jetstream: events dated more than this many hours before now "
        "are skipped and counted, as are events over 10 minutes ahead (Jetstream keeps 24 to "
        "72 hours, so replays stay inside).",
    )
    hn_api_url: str = Field(
        "https://hn.algolia.com/api/v1", description="Hacker News Algolia search API."
    )
    hf_api_url: str = Field(
        "https://huggingface.co/api", description="Hugging Face API (daily papers)."
    )
    mastodon_instances: list[str] = Field(
        ["https://mastodon.social"], description="Mastodon instances to read."
    )
    mastodon_tags: list[str] = Field(
        ["arxiv"], description="Mastodon hashtags whose public timelines are read."
    )
    reddit_subreddits: list[str] = Field(
        ["MachineLearning"], description="Subreddits read for posts linking papers."
    )
    reddit_api_url: str = Field(
        "https://oauth.reddit.com", description="Reddit OAuth API (used with credentials)."
    )
    reddit_auth_url: str = Field(
        "https://www.reddit.com/api/v1/access_token", description="Reddit OAuth token endpoint."
    )
    reddit_feed_url: str = Field(
        "https://www.reddit.com", description="Reddit public Atom feeds (no counts)."
    )

    @field_validator("post_filename")
    @classmethod
    def _one_date_placeholder(cls, value: str) -> str:
        return check_post_filename(value)

    @field_validator("classic_sources", "mention_sources", "hot_source_weights")
    @classmethod
    def _known_sources(cls, value: list[str] | dict[str, float]) -> list[str] | dict[str, float]:
        return known_names(value, MENTION_SOURCES, "source")

    @field_validator("daily_targets")
    @classmethod
    def _known_targets(cls, value: list[str]) -> list[str]:
        return known_names(value, TARGETS, "target")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


class Secrets(BaseSettings):
    """Credentials, read only from HOTPAPERS_* environment variables (never from the TOML
    file: no file source is configured), held as SecretStr so they are not printed."""

    model_config = SettingsConfigDict(env_prefix="HOTPAPERS_", extra="ignore")

    x_bearer_token: SecretStr | None = None
    bsky_handle: str | None = None
    bsky_app_password: SecretStr | None = None
    mastodon_token: SecretStr | None = None
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    smtp_password: SecretStr | None = None
    webhook_urls: list[SecretStr] = []  # they embed their tokens
    alert_webhook_url: SecretStr | None = None

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except SettingsError as exc:  # a list that is not JSON; the value is not shown
            raise InputError(variable_message(exc, None, Secrets.model_fields)) from None

    def model_post_init(self, __context: Any) -> None:
        """Register every secret (and its encoded forms) in the one registry, so that
        whatever prints, logs, stores or sends text scrubs them."""
        for value in (self.x_bearer_token, self.bsky_app_password, self.mastodon_token,
                      self.smtp_password, self.alert_webhook_url, *self.webhook_urls):
            register(value.get_secret_value().strip() if value is not None else None)
            register(value.get_secret_value() if value is not None else None)
        if self.reddit_client_secret is not None:
            register(self.reddit_client_secret.get_secret_value(),
                     user=self.reddit_client_id or "")

    def scrub(self, text: str) -> str:
        """`text` with every registered secret and its encoded forms replaced by `***`
        (for error messages, notes and run records, whatever a server echoed back)."""
        return scrub(text)


def load_settings(config_file: Path | None = None, *, missing_ok: bool = False,
                  **overrides: Any) -> Settings:
    """Settings from, by priority: overrides, HOTPAPERS_* variables, the TOML file, defaults.

    The file is `config_file`, else $HOTPAPERS_CONFIG, else the default path if it exists;
    a named file that does not exist is an InputError unless `missing_ok`.
    """
    path, explicit = config_path(config_file)
    if explicit and not missing_ok and not path.is_file():
        raise InputError(f"{path}: config file not found")
    values = {k: v for k, v in overrides.items() if v is not None}

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path if path.is_file() else None)

    try:
        settings = FileSettings(**values)
    except ValidationError as exc:
        raise InputError(validation_message(exc, path, Secrets.model_fields)) from None
    except SettingsError as exc:  # a variable that does not parse (lists, tables: JSON)
        raise InputError(variable_message(exc, path, Settings.model_fields)) from None
    except ValueError as exc:  # a TOML syntax error
        raise InputError(f"{path}: {exc}") from None
    register_db_passwords(settings.db)  # a password in the database URL is a secret too
    return settings


def _toml_value(value: Any) -> str:
    """A default as TOML: JSON scalars and arrays are valid TOML; tables are inline."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def render_config() -> str:
    """A commented TOML config listing every setting with its help and default (never a
    value from the environment, which may hold secrets)."""
    lines = ["# hotpapers configuration. Every setting can also be set by its",
             "# HOTPAPERS_<NAME> environment variable; secrets are read only from the environment.",
             ""]
    defaults = Settings.model_construct().model_dump(mode="json")
    for name, field in Settings.model_fields.items():
        lines.append(f"# {field.description}")
        if defaults[name] is None:
            lines.append(f'# {name} = "sqlite:////path/to/hotpapers.sqlite3"')
        else:
            lines.append(f"{name} = {_toml_value(defaults[name])}")
        lines.append("")
    return "\n".join(lines)
