"""How settings are checked, and how a failed check is told in one line: the rules of the
validators in `config.py`, and messages naming the file or variable at fault."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, ValidationError
from pydantic_core import PydanticCustomError
from pydantic_settings import SettingsError

from hotpapers.secrets import register

__all__ = [
    "SiteUrl", "check_post_filename", "check_site_url", "db_passwords", "known_names",
    "register_db_passwords", "validation_message", "variable_message",
]


def check_post_filename(value: str) -> str:
    """`value` when its only placeholder is {date} and it names no folder."""
    try:
        name = value.format(date="2021-01-18")
    except (KeyError, IndexError, ValueError):
        raise ValueError("only the placeholder {date} may appear") from None
    if "{date}" not in value or "/" in name:
        raise ValueError("must contain {date} and no '/'")
    return value


def check_site_url(value: str) -> str:
    """`value` when empty or an absolute http(s) URL with a host: pages, feeds and the
    sitemap put it in front of every link (a `javascript:` one would run in readers)."""
    if not value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or any(c.isspace() or ord(c) < 32 for c in value)):
        raise ValueError("must be empty or an absolute http(s) URL, "
                         "e.g. https://papers.example.org/")
    return value


SiteUrl = Annotated[str, AfterValidator(check_site_url)]


def register_db_passwords(url: str | None) -> None:
    """Register as secrets the passwords a database URL holds: in its user part and in its
    query (`?password=`, which libpq reads too). A URL that does not parse has none (and is
    never shown)."""
    for password in db_passwords(url):
        register(password)


def db_passwords(url: str | None) -> list[str]:
    """The passwords a database URL holds (see register_db_passwords)."""
    if not url or ("@" not in url and "password" not in url):  # none: no need to parse (a
        return []  # SQLite file's commands then never import SQLAlchemy)
    # lazy: sqlalchemy takes half a second to import and `--help` or `init` never need it
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return []
    given = parsed.query.get("password", ())
    found = [parsed.password, *((given,) if isinstance(given, str) else given)]
    return [str(password) for password in found if password]


def known_names(names, known: tuple[str, ...], kind: str):
    """`names` (a list, or a table's keys) when each is one of `known`; else a validation
    error naming the first unknown one and the known ones."""
    unknown = [name for name in names if name not in known]
    if unknown:
        raise PydanticCustomError("unknown_name", "{name} is not a {kind} (known: {known})",
                                  {"name": repr(unknown[0]), "kind": kind,
                                   "known": ", ".join(known)})
    return names


def validation_message(exc: ValidationError, path: Path, secrets: Collection[str]) -> str:
    """One line for the first setting that failed: where its value came from (its
    variable, else the file), its name and why; a secret found in the file is refused."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    variable = f"HOTPAPERS_{where.upper()}"
    origin = variable if variable in os.environ else str(path)
    if where in secrets:
        return (f"{path}: {where}: secrets are read only from the environment "
                f"(set {variable}), never from a file")
    return f"{origin}: {where}: {first['msg']}"


def variable_message(exc: SettingsError, path: Path | None, fields: Mapping[str, Any]) -> str:
    """One line naming the environment variable whose value is not JSON, with an example
    (never the value: it may be a secret). `fields` are those of the model being read."""
    found = re.search(r'field "(\w+)" from source "EnvSettingsSource"', str(exc))
    if found is None or found[1] not in fields:
        return f"{path or 'environment'}: {exc}"
    name = found[1]
    default = fields[name].default
    if isinstance(default, dict):
        kind, example = "table", json.dumps(default or {"hn": 0.5})
    else:
        kind, example = "list", json.dumps(default or ["a", "b"])
    return (f"HOTPAPERS_{name.upper()}: not valid JSON ({kind} values in environment "
            f"variables are JSON, e.g. '{example}')")
