"""Where hotpapers keeps its config file and its default database (the user's folders, as
platformdirs names them), and which config file a run reads."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["APP_NAME", "config_path", "default_config_path", "default_db_url"]

APP_NAME = "hotpapers"


def default_config_path() -> Path:
    """Where `hotpapers init` writes the config and where it is read from by default."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_url() -> str:
    """A SQLite file in the user data directory."""
    path = Path(platformdirs.user_data_dir(APP_NAME)) / "hotpapers.sqlite3"
    return f"sqlite:///{path}"


def config_path(config_file: Path | None = None) -> tuple[Path, bool]:
    """The config file: `config_file`, else $HOTPAPERS_CONFIG, else the default path; and
    whether it was named (a named file must exist, except for `init`, which writes it)."""
    explicit = config_file or (Path(os.environ["HOTPAPERS_CONFIG"]).expanduser()
                               if os.environ.get("HOTPAPERS_CONFIG") else None)
    return (explicit or default_config_path()), explicit is not None
