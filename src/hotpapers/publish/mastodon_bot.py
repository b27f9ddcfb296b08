"""The Mastodon target: the digest as a thread of public statuses on one instance (setting
mastodon_post_instance, else the first of mastodon_instances), posted with the access token
of HOTPAPERS_MASTODON_TOKEN (scope write:statuses).

Each status has at most 500 characters as Mastodon counts them: grapheme clusters, every
link counting 23 whatever its length. Each request carries an Idempotency-Key
("hotpapers-DAY-I", I the status's place in the thread from 0), so a request retried after
the server made the status, or repeated within the hour the server remembers the key, gives
back the status already made instead of posting twice."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from functools import partial
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, PublishError, SourceError
from hotpapers.http import Clock, PoliteClient, source_http
from hotpapers.publish.base import Digest, Payload, Receipt
from hotpapers.publish.bots import (
    build_thread,
    grapheme_count,
    made_so_far,
    one_line,
    payload_items,
)

__all__ = ["MastodonPublisher", "fits", "idempotency_key", "mastodon_length", "thread_statuses"]

log = logging.getLogger(__name__)

MAX_CHARS = 500
URL_CHARS = 23  # Mastodon counts every link as this many characters
_URL = re.compile(r"https?://\S+")
_TRAILING = re.compile(r"[.,:;!?'\")\]]+$")  # punctuation a link does not end with


def mastodon_length(text: str) -> int:
    """The length of `text` as Mastodon counts it: graphemes, each link as 23 (punctuation
    right after a link counting as itself)."""
    def placeholder(match: re.Match[str]) -> str:
        tail = _TRAILING.search(match.group())
        return "x" * URL_CHARS + (tail.group() if tail else "")

    return grapheme_count(_URL.sub(placeholder, text))


def fits(text: str) -> bool:
    """Whether `text` fits a status of 500 characters."""
    return mastodon_length(text) <= MAX_CHARS


def thread_statuses(digest: Digest, top_n: int) -> list[dict[str, Any]]:
    """The parameters of each status of the thread (the replies' in_reply_to_id is only
    known when the previous status is made)."""
    return [{"status": post.text, "visibility": "public", "language": "en"}
            for post in build_thread(digest, top_n, fits, "mastodon")]


def idempotency_key(digest: Digest, index: int, text: str) -> str:
    """The Idempotency-Key of the thread's status number `index` (from 0) with this text:
    a retried request is recognised, and a changed thread is not taken for the old one."""
    digest_of_text = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"hotpapers-{digest.day.isoformat()}-{index}-{digest_of_text}"


def _instance(settings: Settings) -> str:
    instance = (settings.mastodon_post_instance
                or (settings.mastodon_instances[0] if settings.mastodon_instances else ""))
    instance = instance.strip().rstrip("/")
    if not instance:
        raise InputError("mastodon: no instance to post to: set mastodon_post_instance "
                         "(or mastodon_instances)")
    return instance if "://" in instance else f"https://{instance}"


_progress = partial(made_so_far, noun="status", nouns="statuses", verb="posted")


class MastodonPublisher:
    """Posts the digest as a thread on Mastodon (see the module's documentation)."""

    name = "mastodon"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None, *, preview: bool = False
                 ) -> None:
        token = (secrets.mastodon_token.get_secret_value()
                 if secrets.mastodon_token is not None else "").strip()
        self.missing = None if token else (
            "mastodon: posting needs HOTPAPERS_MASTODON_TOKEN (an access token with the "
            "write:statuses scope); not set: HOTPAPERS_MASTODON_TOKEN")
        if self.missing and not preview:  # a preview (dry run) builds the payload all the same
            raise MissingCredentials(self.missing)
        self.instance = _instance(settings)
        self.settings, self.secrets = settings, secrets
        self.clock, self.transport = clock, transport
        self._token = token

    # -- prepare (pure)

    def prepare(self, digest: Digest) -> list[Payload]:
        """One payload: the JSON list of the statuses' parameters, exactly as they are sent
        except for in_reply_to_id, which the replies get when sent."""
        statuses = thread_statuses(digest, self.settings.publish_top_n)
        last = len(statuses) - 1
        summary = (f"thread of {len(statuses)} public statuses to {self.instance}; statuses "
                   f"2-{len(statuses)} reply to the previous one (in_reply_to_id, set when "
                   f"sent); Idempotency-Keys hotpapers-{digest.day.isoformat()}-0-… to "
                   f"-{last}-… (day, position, hash of the text)")
        return [Payload(self.name, summary,
                        json.dumps(statuses, indent=2, ensure_ascii=False) + "\n")]

    # -- send

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt:
        """Posts the statuses one by one, each replying to the previous one. PublishError
        when the instance refuses one (saying which statuses were posted). Without payloads,
        those of `prepare`."""
        if self.missing:
            raise MissingCredentials(self.missing)
        statuses = self._statuses(payloads or self.prepare(digest))
        http = source_http(self.settings, self.clock, self.transport,
                           headers={"Accept": "application/json"})
        ids: list[str] = []
        urls: list[str] = []
        try:
            for index, params in enumerate(statuses):
                body = dict(params)
                if ids:
                    body["in_reply_to_id"] = ids[-1]
                key = idempotency_key(digest, index, params["status"])
                status = self._post(http, body, key, index + 1, len(statuses), urls)
                ids.append(status["id"])
                urls.append(status["url"])
        finally:
            http.client.close()
        log.info("mastodon: posted a thread of %d statuses: %s", len(ids), urls[0])
        return Receipt(self.name, urls[0], {"ids": ids})

    def _statuses(self, payloads: list[Payload]) -> list[dict[str, Any]]:
        return payload_items(payloads, lambda s: isinstance(s.get("status"), str),
                             "mastodon", "statuses", "status")

    def _scrub(self, text: str) -> str:
        return self.secrets.scrub(text).replace(self._token, "***")

    def _post(self, http: PoliteClient, body: dict[str, Any], key: str, number: int,
              total: int, made: list[str]) -> dict[str, str]:
        """{id, url} of the status made from `body` (url: its id when the answer has none)."""
        what = f"mastodon: status {number} of {total}"
        try:
            response = http.request(
                "POST", f"{self.instance}/api/v1/statuses", what=what, json=body,
                accept=range(400, 500),
                headers={"Authorization": f"Bearer {self._token}", "Idempotency-Key": key})
        except SourceError as exc:
            reason = self._scrub(str(exc)).removeprefix(f"{what}: ")
            raise PublishError(f"{what} failed ({reason}); {_progress(made)}") from None
        answer = _json(response)
        if not response.is_success:
            error = answer.get("error")
            detail = one_line(self._scrub(error if isinstance(error, str) else response.text))
            detail = detail[:160]  # cut once scrubbed: a piece of a secret would escape
            raise PublishError(f"{what} refused (HTTP {response.status_code}"
                               f"{': ' + detail if detail else ''}); {_progress(made)}")
        status_id = answer.get("id")
        if not isinstance(status_id, (str, int)) or not str(status_id):
            raise PublishError(f"{what}: the answer has no status id; {_progress(made)}")
        url = answer.get("url")
        status_id = str(status_id)
        return {"id": status_id, "url": url if isinstance(url, str) and url else status_id}


def _json(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}
