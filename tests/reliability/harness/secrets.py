"""Fault class (e): the forms in which a secret could leak (plain, base64, URL-encoded, the
Basic-auth pair) and a finder of any of them in a text."""

from __future__ import annotations

import base64
from urllib.parse import quote, quote_plus

from .servers import ISSUED
from .sources import SECRETS

__all__ = ["leaks", "secret_forms"]

NOT_SECRET = {"BSKY_HANDLE", "REDDIT_CLIENT_ID"}


def _forms(value: str) -> set[str]:
    raw = value.encode()
    return {value, quote(value, safe=""), quote_plus(value), quote(value),
            base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
            base64.b64encode(raw).decode().rstrip("=")}


def secret_forms(extra: dict[str, str]) -> dict[str, str]:
    """Each leakable form of every fake secret (those of SECRETS, the tokens the echo server
    issues, and `extra`), mapped to the name of its secret."""
    values = {name: v for name, v in SECRETS.items() if name not in NOT_SECRET}
    values.update({f"issued {k}": v for k, v in ISSUED.items()}, **extra)
    forms = {form: name for name, value in values.items() for form in _forms(value)}
    pair = f"{SECRETS['REDDIT_CLIENT_ID']}:{SECRETS['REDDIT_CLIENT_SECRET']}".encode()
    forms[base64.b64encode(pair).decode()] = "REDDIT_CLIENT_SECRET (Basic auth)"
    return forms


def leaks(text: str, forms: dict[str, str]) -> list[str]:
    """The names of the secrets some form of which appears in `text`."""
    return sorted({name for form, name in forms.items() if form in text})
