"""The secret registry: every encoded form of a registered value is scrubbed, in text, in
log records (messages, arguments, tracebacks) and before a message is cut short."""

from __future__ import annotations

import base64
import io
import json
import logging
from urllib.parse import quote

import pytest

from hotpapers import secrets
from hotpapers.config import Secrets
from hotpapers.sources.common import first_line, one_line

SECRET = 'tok/+"en=1'


@pytest.fixture(autouse=True)
def _fresh():
    secrets.clear()
    yield
    secrets.clear()


def test_p12_every_encoded_form_is_scrubbed():
    secrets.register(SECRET, user="client")
    basic = base64.b64encode(f"client:{SECRET}".encode()).decode()
    plain = base64.b64encode(f"\0client\0{SECRET}".encode()).decode()
    for form in (SECRET, quote(SECRET, safe=""), json.dumps(SECRET)[1:-1], basic, plain):
        assert secrets.scrub(f"before {form} after") == "before *** after", form


def test_p12_configured_secrets_are_registered_when_loaded():
    Secrets(mastodon_token="masto-token-1", reddit_client_id="id",
            reddit_client_secret="reddit-secret-2")
    basic = base64.b64encode(b"id:reddit-secret-2").decode()
    assert secrets.scrub(f"masto-token-1 {basic}") == "*** ***"


def test_p12_short_values_are_not_registered():
    secrets.register("abc")
    assert secrets.scrub("abc abcd") == "abc abcd"


def test_p12_a_secret_is_scrubbed_before_a_message_is_cut():
    secrets.register("0123456789-secret")
    text = "x" * 150 + "0123456789-secret"
    assert "0123" not in one_line(text, 155) and "0123" not in first_line(text, 155)


def test_p12_log_records_are_scrubbed_by_the_handler_filter():
    secrets.register("log-secret-3")
    stream = io.StringIO()
    logger = logging.getLogger("hotpapers.test_secrets")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    secrets.install_log_filter(logger)
    try:
        logger.warning("token %s", "log-secret-3")
        try:
            raise ValueError("echoed log-secret-3")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert "log-secret-3" not in stream.getvalue()
    assert "token ***" in stream.getvalue() and "echoed ***" in stream.getvalue()
