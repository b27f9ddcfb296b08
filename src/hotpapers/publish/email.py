"""The e-mail target: one multipart message (plain text and HTML) with the day's top papers,
sent to every recipient of `email_to` through an SMTP server.

The message is built by `prepare` (no I/O) and is the payload itself: --dry-run prints the
exact RFC 5322 text that `send` delivers. All recipients are listed in To of one message;
with many subscribers, point `email_to` at a mailing-list address instead.
"""

from __future__ import annotations

import email
import hashlib
import html
import logging
import smtplib
import ssl
from collections.abc import Iterable
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Any

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, PublishError
from hotpapers.http import Clock
from hotpapers.publish.base import Digest, DigestPaper, Payload, Receipt
from hotpapers.secrets import register

__all__ = ["EmailPublisher"]

log = logging.getLogger(__name__)
MAX_AUTHORS = 10


class EmailPublisher:
    """Sends the digest as one e-mail to the recipients of `email_to`."""

    name = "email"

    def __init__(self, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        # clock and transport are accepted for a uniform publisher signature; SMTP needs neither
        self.settings, self.secrets = settings, secrets
        missing = [name for name in ("email_from", "email_to", "email_unsubscribe")
                   if not getattr(settings, name)]
        if missing:
            why = ("; a digest must tell readers how to stop it"
                   if "email_unsubscribe" in missing else "")
            raise InputError(f"email: set {', '.join(missing)} (required by the e-mail "
                             f"target{why})")
        self.sender = _address(settings.email_from, "email_from")
        self.recipients = [_address(value, "email_to") for value in settings.email_to]
        self.unsubscribe = _unsubscribe_uri(settings.email_unsubscribe)
        self.domain = self.sender.rpartition("@")[2].strip("[]") or "localhost"
        self.password = secrets.smtp_password.get_secret_value() if secrets.smtp_password else ""
        if settings.smtp_username and not self.password:
            raise MissingCredentials("email: smtp_username is set but HOTPAPERS_SMTP_PASSWORD "
                                     "is not; set it in the environment")
        if any(c in settings.smtp_host for c in "\r\n /") or not settings.smtp_host:
            raise InputError(f"email: smtp_host: not a host name: {settings.smtp_host!r}")
        if settings.smtp_username and settings.smtp_security == "none" \
                and settings.smtp_host not in ("localhost", "127.0.0.1", "::1"):
            raise InputError("email: smtp_security none would send the SMTP password in clear "
                             f"to {settings.smtp_host}; use starttls or ssl")

    @property
    def _server(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    # --- prepare: the message, without I/O ---------------------------------------------------

    def prepare(self, digest: Digest) -> list[Payload]:
        papers = digest.papers[:self.settings.publish_top_n]
        subject = f"Hot Papers {digest.day.isoformat()}: top {len(papers)}"
        message = EmailMessage(policy=policy.SMTP)
        message["Subject"] = subject
        message["From"] = self.settings.email_from
        message["To"] = ", ".join(self.settings.email_to)
        generated = digest.generated_at
        if generated.tzinfo is None:
            generated = generated.replace(tzinfo=UTC)
        message["Date"] = format_datetime(generated)
        message["Message-ID"] = f"<hotpapers-{digest.day.isoformat()}@{self.domain}>"
        message["List-Unsubscribe"] = f"<{self.unsubscribe}>"
        message["Auto-Submitted"] = "auto-generated"
        text = self._text(digest, subject, papers)
        page = self._html(digest, subject, papers)
        message.set_content(text, cte="quoted-printable")
        message.add_alternative(page, subtype="html", cte="quoted-printable")
        for part in message.iter_parts():  # add_alternative repeats it in the part
            del part["MIME-Version"]
        # a fixed boundary keeps the payload deterministic; "==" never occurs in
        # quoted-printable text, so it cannot collide with a line of either part
        digest_of_parts = hashlib.sha256(f"{text}\0{page}".encode()).hexdigest()[:24]
        message.set_boundary(f"==hotpapers-{digest_of_parts}==")
        count = len(self.recipients)
        summary = f"e-mail to {count} recipient(s) via {self._server}: {subject}"
        return [Payload(target=self.name, summary=summary, body=message.as_string())]

    def _unsubscribe_words(self) -> tuple[str, str]:
        """("write to", address) or ("visit", URL): how the instruction line reads."""
        if self.unsubscribe.startswith("mailto:"):
            return "write to", self.unsubscribe[7:].split("?", 1)[0]
        return "visit", self.unsubscribe

    def _unsubscribe_text(self) -> str:
        verb, where = self._unsubscribe_words()
        return f"To stop receiving this digest, {verb} {where}"

    def _text(self, digest: Digest, subject: str, papers: Iterable[DigestPaper]) -> str:
        lines = [subject, f"Ranking: {_clean(digest.method)}", ""]
        for paper in papers:
            lines.append(f"{paper.rank}. {_clean(paper.title)}")
            for extra in (_authors(paper.authors), _clean(paper.summary), _clean(paper.url)):
                if extra:
                    lines.append(f"   {extra}")
            lines.append("")
        if not digest.papers:
            lines += ["No paper made the list today.", ""]
        if digest.url:
            lines += [f"All papers of the day: {_clean(digest.url)}", ""]
        lines += ["-- ", self._unsubscribe_text(), ""]
        return "\n".join(lines)

    def _html(self, digest: Digest, subject: str, papers: Iterable[DigestPaper]) -> str:
        e = _escape
        items = []
        for paper in papers:
            title = e(paper.title)
            if _is_web_url(paper.url):
                title = f'<a href="{e(paper.url)}">{title}</a>'
            parts = [f"<strong>{title}</strong>"]
            if paper.authors:
                parts.append(e(_authors(paper.authors)))
            if paper.summary.strip():
                parts.append(f"<small>{e(paper.summary)}</small>")
            items.append(f'<li value="{int(paper.rank)}">{"<br>".join(parts)}</li>')
        body = [f"<h1>{e(subject)}</h1>", f"<p>Ranking: {e(digest.method)}</p>"]
        body.append("<ol>\n" + "\n".join(items) + "\n</ol>" if items
                    else "<p>No paper made the list today.</p>")
        if digest.url and _is_web_url(digest.url):
            body.append(f'<p><a href="{e(digest.url)}">All papers of the day</a></p>')
        verb, where = self._unsubscribe_words()
        body.append(f'<hr>\n<p>To stop receiving this digest, {verb} '
                    f'<a href="{e(self.unsubscribe)}">{e(where)}</a></p>')
        return ("<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\">"
                f"<title>{e(subject)}</title></head>\n<body>\n" + "\n".join(body)
                + "\n</body>\n</html>\n")

    # --- send: SMTP ---------------------------------------------------------------------------

    def send(self, digest: Digest, payloads: list[Payload]) -> Receipt:
        if len(payloads) != 1 or payloads[0].target != self.name:
            raise PublishError("email: expected the one payload that prepare() makes")
        message = email.message_from_string(payloads[0].body, policy=policy.SMTP)
        message_id = str(message["Message-ID"])
        try:
            refused = self._deliver(message)
        except smtplib.SMTPNotSupportedError as exc:
            if "STARTTLS" in str(exc).upper():
                raise self._error("the server does not offer STARTTLS (smtp_security is "
                                  "starttls; use ssl or none if that is intended)") from None
            raise self._error(str(exc)) from None
        except smtplib.SMTPRecipientsRefused as exc:
            first = next(iter(exc.recipients.values()), (0, b""))
            raise self._error(f"every recipient was refused ({_reply(*first)})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(f"login as {self.settings.smtp_username!r} refused "
                              f"({_reply(exc.smtp_code, exc.smtp_error)})") from None
        except smtplib.SMTPResponseException as exc:
            raise self._error(f"the server answered {_reply(exc.smtp_code, exc.smtp_error)}"
                              ) from None
        except smtplib.SMTPException as exc:
            raise self._error(str(exc) or type(exc).__name__) from None
        except OSError as exc:  # refused connection, timeout, TLS handshake
            raise self._error(f"connection failed ({exc or type(exc).__name__})") from None
        delivered = len(self.recipients) - len(refused)
        details: dict[str, Any] = {"recipients": delivered}
        if refused:
            details["refused"] = sorted(refused)
            log.warning("email: %d recipient(s) refused by %s: %s", len(refused), self._server,
                        ", ".join(sorted(refused)))
        return Receipt(target=self.name, remote_id=message_id, details=details)

    def _deliver(self, message: EmailMessage) -> dict[str, Any]:
        s = self.settings
        timeout = s.http_timeout
        if s.smtp_security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        with smtp:
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                register(self.password, user=s.smtp_username)  # AUTH PLAIN's base64 too
                smtp.login(s.smtp_username, self.password)
            return smtp.send_message(message, from_addr=self.sender, to_addrs=self.recipients)

    def _error(self, reason: str) -> PublishError:
        return PublishError(self.secrets.scrub(_clean(f"email: {self._server}: {reason}")))


def _clean(text: str) -> str:
    """One line: every run of whitespace (newlines included) becomes one space."""
    return " ".join(str(text).split())


def _escape(text: str) -> str:
    return html.escape(_clean(text), quote=True)


def _authors(authors: Iterable[str]) -> str:
    names = [_clean(a) for a in authors if _clean(a)]
    if len(names) > MAX_AUTHORS:
        return ", ".join(names[:MAX_AUTHORS]) + f" and {len(names) - MAX_AUTHORS} more"
    return ", ".join(names)


def _is_web_url(url: str | None) -> bool:
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _clean(f"{code} {text}")


def _address(value: str, setting: str) -> str:
    """The addr-spec of an address setting ('Name <a@b>' or 'a@b'); InputError otherwise."""
    if any(c in value for c in "\r\n"):
        raise InputError(f"email: {setting}: an address may not contain a line break")
    if len(getaddresses([value])) != 1:
        raise InputError(f"email: {setting}: one address per entry, please: {value!r}")
    address = parseaddr(value)[1]
    if "@" not in address or any(c.isspace() for c in address):
        raise InputError(f"email: {setting}: not an e-mail address: {value!r}")
    return address


def _unsubscribe_uri(value: str) -> str:
    """`email_unsubscribe` as a List-Unsubscribe URI: an http(s) URL or a mailto: URI."""
    value = value.strip()
    if any(c.isspace() or c in "<>\"" for c in value):
        raise InputError("email: email_unsubscribe: must be an e-mail address or an http(s) "
                         "URL, without spaces or <>\"")
    if _is_web_url(value) and value.split("://", 1)[1]:
        return value
    address = value[7:] if value.lower().startswith("mailto:") else value
    if "@" not in address.split("?", 1)[0]:
        raise InputError(f"email: email_unsubscribe: not an e-mail address or http(s) URL: "
                         f"{value!r}")
    return f"mailto:{address}"
