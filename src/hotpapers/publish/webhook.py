"""The webhook target: one JSON message with the day's top papers, POSTed to every URL of
HOTPAPERS_WEBHOOK_URLS, in the shape Slack or Discord incoming webhooks expect, or as plain
JSON for anything else. Also `send_alert`, the daily job's one-line alerts.

Webhook URLs carry their tokens in the path, so they are secrets: payloads, errors, logs
and receipts name the host only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, PublishError, SourceError
from hotpapers.http import Clock, source_http
from hotpapers.publish.base import Digest, DigestPaper, Payload, Receipt

__all__ = ["WebhookPublisher", "alert_body", "send_alert"]

log = logging.getLogger(__name__)

MAX_AUTHORS = 10
SLACK_SECTION = 3000  # characters of a section block's text
SLACK_HEADER = 150  # characters of a header block's text
SLACK_BLOCKS = 50
DISCORD_CONTENT = 2000
DISCORD_EMBEDS = 10
DISCORD_TITLE = 256
DISCORD_DESCRIPTION = 300  # well under 4096, so ten embeds stay under Discord's 6000 in all
ALERT_TEXT = 3000
ALERT_MAX_WAIT = 60.0  # an alert does not wait longer than this for a rate limit


class WebhookPublisher:
    """POSTs the digest as JSON (slack, discord or json) to every webhook URL."""

    name = "webhook"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings, self.secrets = settings, secrets
        self.clock, self.transport = clock, transport
        self.urls = [url.get_secret_value().strip() for url in secrets.webhook_urls]
        self.urls = [url for url in self.urls if url]
        if not self.urls:
            raise MissingCredentials("webhook: set HOTPAPERS_WEBHOOK_URLS (a JSON list of "
                                     "webhook URLs) in the environment")
        for number, url in enumerate(self.urls, 1):
            if _host(url) is None:
                raise InputError(f"HOTPAPERS_WEBHOOK_URLS: URL {number} of {len(self.urls)} "
                                 "is not an http(s) URL")
        self.format = settings.webhook_format

    def prepare(self, digest: Digest) -> list[Payload]:
        papers = digest.papers[:self.settings.publish_top_n]
        body = digest_body(self.format, digest, papers)
        text = json.dumps(body, ensure_ascii=False, indent=2)
        summary = (f"POST to {len(self.urls)} webhook URL(s): {self.format} message, "
                   f"top {len(papers)} of {digest.day.isoformat()}")
        return [Payload(target=self.name, summary=summary, body=text)]

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt:
        if len(payloads) != 1 or payloads[0].target != self.name:
            raise PublishError("webhook: expected the one payload that prepare() makes")
        content = payloads[0].body.encode("utf-8")
        client = source_http(self.settings, self.clock, self.transport,
                             headers={"Content-Type": "application/json"})
        failures: list[str] = []
        count = len(self.urls)
        try:
            for number, url in enumerate(self.urls, 1):
                what = f"webhook: {_host(url)}" + (f" (URL {number} of {count})"
                                                  if count > 1 else "")
                try:
                    client.request("POST", url, content=content, what=what)
                except SourceError as exc:
                    failures.append(_scrub(str(exc), self.secrets, self.urls))
        finally:
            client.client.close()
        if failures:
            delivered = count - len(failures)
            tail = f" ({delivered} of {count} URL(s) reached)" if delivered else ""
            raise PublishError(_one_line("; ".join(failures) + tail))
        hosts = sorted({str(_host(url)) for url in self.urls})
        return Receipt(target=self.name, remote_id=f"{count} url(s)",
                       details={"urls": count, "format": self.format, "hosts": hosts})


# --- bodies -----------------------------------------------------------------------------------

def digest_body(fmt: str, digest: Digest, papers: Sequence[DigestPaper]) -> dict[str, Any]:
    """The JSON object sent for `papers` of `digest` in format slack, discord or json."""
    if fmt == "slack":
        return _slack(digest, papers)
    if fmt == "discord":
        return _discord(digest, papers)
    if fmt == "json":
        return {
            "day": digest.day.isoformat(),
            "title": digest.title,
            "method": digest.method,
            "url": digest.url,
            "papers": [{"rank": p.rank, "id": p.id, "title": p.title,
                        "authors": list(p.authors), "url": p.url, "score": p.score,
                        "summary": p.summary} for p in papers],
        }
    raise InputError(f"webhook_format: unknown format {fmt!r} (slack, discord or json)")


def _headline(digest: Digest, papers: Sequence[DigestPaper]) -> str:
    return _one_line(f"{digest.title}: top {len(papers)} ({digest.method})")


def _slack(digest: Digest, papers: Sequence[DigestPaper]) -> dict[str, Any]:
    headline = _headline(digest, papers)
    fallback = _slack_escape(headline)
    if digest.url:
        fallback += f" {_slack_link(digest.url, 'all papers')}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(headline, SLACK_HEADER)}},
    ]
    for paper in papers[:SLACK_BLOCKS - 2]:
        lines = [f"*{paper.rank}.* {_slack_link(paper.url, _one_line(paper.title))}"]
        if paper.authors:
            lines.append(_slack_escape(_authors(paper.authors)))
        if paper.summary.strip():
            lines.append(f"_{_slack_escape(_one_line(paper.summary))}_")
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), SLACK_SECTION)}})
    if digest.url:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": _slack_link(digest.url, "All papers of the day")}]})
    return {"text": fallback, "blocks": blocks}


def _slack_escape(text: str) -> str:
    """Slack's three control characters as entities (as its docs ask)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL; the escaped label alone otherwise."""
    label = _slack_escape(label)
    if not _is_web_url(url):
        return label
    for char, code in (("|", "%7C"), ("<", "%3C"), (">", "%3E"), (" ", "%20")):
        url = str(url).replace(char, code)
    return f"<{_slack_escape(str(url))}|{label}>"


def _discord(digest: Digest, papers: Sequence[DigestPaper]) -> dict[str, Any]:
    lines = [f"**{_headline(digest, papers)}**"]
    if digest.url and _is_web_url(digest.url):
        lines.append(f"<{digest.url}>")
    embeds = []
    for paper in papers[:DISCORD_EMBEDS]:
        embed: dict[str, Any] = {"title": _cut(f"{paper.rank}. {_one_line(paper.title)}",
                                               DISCORD_TITLE)}
        if _is_web_url(paper.url):
            embed["url"] = paper.url
        description = "\n".join(part for part in (_authors(paper.authors),
                                                  _one_line(paper.summary)) if part)
        if description:
            embed["description"] = _cut(description, DISCORD_DESCRIPTION)
        embeds.append(embed)
    rest = papers[DISCORD_EMBEDS:]
    for index, paper in enumerate(rest):  # beyond ten embeds, papers are lines of content
        link = f" <{paper.url}>" if _is_web_url(paper.url) else ""
        line = f"{paper.rank}. {_one_line(paper.title)}{link}"
        more = f"… and {len(rest) - index} more"
        if len("\n".join([*lines, line])) + len(more) + 1 > DISCORD_CONTENT:
            lines.append(more)
            break
        lines.append(line)
    return {"content": _cut("\n".join(lines), DISCORD_CONTENT), "embeds": embeds,
            "allowed_mentions": {"parse": []}}  # a title saying @everyone pings no one


def alert_body(fmt: str, text: str) -> dict[str, str]:
    """The JSON of an alert: {"content": text} for Discord, {"text": text} otherwise."""
    if fmt == "discord":
        return {"content": _cut(text, DISCORD_CONTENT)}
    text = _cut(text, ALERT_TEXT)
    return {"text": _slack_escape(text) if fmt == "slack" else text}


# --- alerts -----------------------------------------------------------------------------------

def send_alert(settings: Settings, secrets: Secrets, text: str, clock: Clock | None = None,
               transport: httpx.BaseTransport | None = None) -> bool:
    """POST `text` to HOTPAPERS_ALERT_WEBHOOK_URL in the shape of `webhook_format`. True when
    it was delivered; False when no alert URL is set or the alert failed (logged as a
    warning: an alert about a failure must not become another failure)."""
    secret = secrets.alert_webhook_url
    url = secret.get_secret_value().strip() if secret is not None else ""
    if not url:
        return False
    host = _host(url)
    if host is None:
        log.warning("alert not sent: HOTPAPERS_ALERT_WEBHOOK_URL is not an http(s) URL")
        return False
    body = alert_body(settings.webhook_format, secrets.scrub(text))
    try:
        client = source_http(settings, clock, transport,
                             headers={"Content-Type": "application/json"})
        client.max_wait = min(client.max_wait, ALERT_MAX_WAIT)
        try:
            client.request("POST", url, what=f"alert webhook: {host}",
                           content=json.dumps(body, ensure_ascii=False).encode("utf-8"))
        finally:
            client.client.close()
    except Exception as exc:  # never raise from an alert
        log.warning("alert not sent: %s", _scrub(str(exc) or type(exc).__name__, secrets, [url]))
        return False
    return True


# --- helpers ----------------------------------------------------------------------------------

def _host(url: str) -> str | None:
    """The host of an http(s) URL, or None when `url` is not one."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return parsed.host


def _scrub(text: str, secrets: Secrets, urls: Iterable[str]) -> str:
    """`text` without the secrets, the URLs, nor any long piece of their paths and queries
    (a server may echo its token back)."""
    text = secrets.scrub(text)
    for url in urls:
        text = text.replace(url, "***")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            continue
        pieces = [parsed.path, parsed.query.decode("ascii", "replace"),
                  *parsed.path.split("/"), *parsed.query.decode("ascii", "replace").split("&")]
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= 6:
                text = text.replace(piece, "***")
    return _one_line(text)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _authors(authors: Iterable[str]) -> str:
    names = [_one_line(a) for a in authors if _one_line(a)]
    if len(names) > MAX_AUTHORS:
        return ", ".join(names[:MAX_AUTHORS]) + f" and {len(names) - MAX_AUTHORS} more"
    return ", ".join(names)


def _is_web_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))
