"""The one registry of the secret values a process knows (configured credentials, tokens
obtained at run time) and `scrub`, which replaces them and their encoded forms with `***`
in whatever is printed, logged, stored or sent."""

from __future__ import annotations

import base64
import html
import json
import logging
import threading
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "ScrubFilter", "clear", "install_log_filter", "register", "scrub"]

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words
_forms: set[str] = set()
_ordered: list[str] = []
_lock = threading.Lock()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def encoded_forms(value: str, user: str | None = None) -> set[str]:
    """`value` as it may appear on the wire or in an echo: itself, base64, URL-encoded,
    JSON- and HTML-escaped; with `user`, the HTTP Basic (`user:value`) and SMTP PLAIN
    (`\\0user\\0value`) credentials in base64."""
    forms = {value, _b64(value), quote(value, safe=""), quote_plus(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             html.escape(value), html.escape(value, quote=False)}
    if user is not None:
        forms |= {_b64(f"{user}:{value}"), _b64(f"\0{user}\0{value}"),
                  quote(f"{user}:{value}", safe="")}
    return {form for form in forms if len(form) >= MIN_LENGTH}


def register(value: str | None, *, user: str | None = None) -> None:
    """Remember a secret (and its encoded forms; with `user`, its Basic/PLAIN credentials)
    so that `scrub` hides it. Values shorter than 4 characters are ignored."""
    if not value or len(value) < MIN_LENGTH:
        return
    with _lock:
        _forms.update(encoded_forms(value, user))
        _ordered[:] = sorted(_forms, key=len, reverse=True)  # longest first: no half-masks


def scrub(text: str) -> str:
    """`text` with every registered secret form replaced by `***`."""
    if not isinstance(text, str):
        text = str(text)
    for form in list(_ordered):
        if form in text:
            text = text.replace(form, MASK)
    return text


def clear() -> None:
    """Forget every registered secret (tests start each case from none)."""
    with _lock:
        _forms.clear()
        _ordered.clear()


class ScrubFilter(logging.Filter):
    """Scrubs each record's message and traceback text before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let logging report it as usual
            return True
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add a ScrubFilter to every handler of `logger` (default: the root logger)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ScrubFilter) for f in handler.filters):
            handler.addFilter(ScrubFilter())
