"""The e-mail publisher: the exact message `prepare` builds (headers, both parts, escaping,
unsubscribe), delivered to a real SMTP server on loopback (aiosmtpd), and the failures:
refusals, missing STARTTLS, bad logins, missing settings and credentials."""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, PublishError
from hotpapers.publish.base import Digest, DigestPaper, Payload, Publisher
from hotpapers.publish.email import EmailPublisher

HOSTILE = 'Break "out"><img src=x onerror=alert(1)> <script>alert(2)</script>\r\nBcc: evil@x.org'
PAPERS = (
    DigestPaper(1, "2101.00001", HOSTILE, ("Ada Lovelace", "Grace Hopper"),
                "https://arxiv.org/abs/2101.00001", score=9.5,
                summary="retweets: 576, favorites: 138"),
    DigestPaper(2, "2101.00002", 'Attention & "Transformers" 🚀 revisited', ("Zoë Ångström",),
                "https://arxiv.org/abs/2101.00002", score=7.0, summary="12 people on 3 sources"),
    DigestPaper(3, "2101.00003", "大規模言語モデルの研究", ("山田 太郎",),
                "https://arxiv.org/abs/2101.00003", score=5.0),
    DigestPaper(4, "2101.00004", "The fourth paper", ("Someone",),
                "https://arxiv.org/abs/2101.00004", score=1.0),
)
DIGEST = Digest(day=date(2021, 1, 18), title="Hot Papers 2021-01-18", method="classic",
                generated_at=datetime(2021, 1, 19, 6, 30, tzinfo=UTC), papers=PAPERS,
                url="https://papers.example.org/2021-01-18")
PASSWORD = "s3cret-smtp-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it accepts; it can refuse recipients or the data."""

    def __init__(self, refuse_rcpt: tuple[str, ...] = (), refuse_data: str | None = None):
        self.refuse_rcpt, self.refuse_data = refuse_rcpt, refuse_data
        self.envelopes: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return self.refuse_data
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """Start an SMTP server on 127.0.0.1 with a handler; returns its port."""
    controllers: list[Controller] = []

    def start(handler, **smtp_kwargs) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_kwargs)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def settings(port: int = 25, **values) -> Settings:
    defaults = dict(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none",
                    email_from="Hot Papers <digest@papers.example.org>",
                    email_to=["ada@example.org", "zoe@example.net"],
                    email_unsubscribe="unsubscribe@papers.example.org", publish_top_n=3,
                    http_timeout=5)
    return Settings(**(defaults | values))


def publisher(port: int = 25, secrets: Secrets | None = None, **values) -> EmailPublisher:
    return EmailPublisher(settings(port, **values), secrets or Secrets())


def parse(raw: bytes | str) -> EmailMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    return message_from_bytes(data, policy=policy.default)


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain and HTML parts, decoded, with their CRLF line ends made LF."""
    plain = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    return plain.replace("\r\n", "\n"), page.replace("\r\n", "\n")


# --- the message ------------------------------------------------------------------------------

def test_prepare_builds_one_deterministic_message_with_every_header():
    mail = publisher()
    assert isinstance(mail, Publisher) and mail.name == "email"
    payloads = mail.prepare(DIGEST)
    assert payloads == mail.prepare(DIGEST)  # pure and deterministic, boundary included
    [payload] = payloads
    assert payload.target == "email"
    assert payload.summary == ("e-mail to 2 recipient(s) via 127.0.0.1:25: "
                               "Hot Papers 2021-01-18: top 3")
    message = parse(payload.body)
    assert message["Subject"] == "Hot Papers 2021-01-18: top 3"
    assert message["From"] == "Hot Papers <digest@papers.example.org>"
    assert [a.addr_spec for a in message["To"].addresses] == ["ada@example.org",
                                                             "zoe@example.net"]
    assert message["Date"] == "Tue, 19 Jan 2021 06:30:00 +0000"
    assert message["Message-ID"] == "<hotpapers-2021-01-18@papers.example.org>"
    assert message["List-Unsubscribe"] == "<mailto:unsubscribe@papers.example.org>"
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "\r\n" in payload.body and "\n" not in payload.body.replace("\r\n", "")


def test_the_plain_part_lists_the_top_papers_and_how_to_unsubscribe():
    plain, _ = parts(parse(publisher().prepare(DIGEST)[0].body))
    assert plain == (
        "Hot Papers 2021-01-18: top 3\n"
        "Ranking: classic\n\n"
        "1. Break \"out\"><img src=x onerror=alert(1)> <script>alert(2)</script> "
        "Bcc: evil@x.org\n"
        "   Ada Lovelace, Grace Hopper\n"
        "   retweets: 576, favorites: 138\n"
        "   https://arxiv.org/abs/2101.00001\n\n"
        "2. Attention & \"Transformers\" 🚀 revisited\n"
        "   Zoë Ångström\n"
        "   12 people on 3 sources\n"
        "   https://arxiv.org/abs/2101.00002\n\n"
        "3. 大規模言語モデルの研究\n"
        "   山田 太郎\n"
        "   https://arxiv.org/abs/2101.00003\n\n"
        "All papers of the day: https://papers.example.org/2021-01-18\n\n"
        "-- \n"
        "To stop receiving this digest, write to unsubscribe@papers.example.org\n"
    )


def test_the_html_part_escapes_every_value_from_the_digest():
    _, page = parts(parse(publisher().prepare(DIGEST)[0].body))
    assert "<script>" not in page and "<img" not in page and 'onerror=alert(1)>' not in page
    assert ('<li value="1"><strong><a href="https://arxiv.org/abs/2101.00001">Break '
            '&quot;out&quot;&gt;&lt;img src=x onerror=alert(1)&gt; '
            '&lt;script&gt;alert(2)&lt;/script&gt; Bcc: evil@x.org</a></strong>'
            '<br>Ada Lovelace, Grace Hopper<br><small>retweets: 576, favorites: 138</small>'
            '</li>') in page
    assert ('<a href="https://arxiv.org/abs/2101.00002">Attention &amp; &quot;Transformers&quot; '
            '🚀 revisited</a>') in page
    assert '<a href="https://arxiv.org/abs/2101.00003">大規模言語モデルの研究</a>' in page
    assert "2101.00004" not in page  # publish_top_n = 3
    assert '<a href="https://papers.example.org/2021-01-18">All papers of the day</a>' in page
    assert ('<p>To stop receiving this digest, write to <a href="mailto:unsubscribe@papers.'
            'example.org">unsubscribe@papers.example.org</a></p>') in page


def test_hostile_values_cannot_inject_headers_or_links():
    paper = DigestPaper(1, "x", "Title\r\nBcc: evil@x.org\r\n\r\nbody", ("A\nB",),
                        'javascript:alert("x")', summary="s\r\nX-Evil: 1")
    digest = Digest(day=date(2021, 1, 18), title="T\r\nX-Evil: 1", method="hot\nX-Evil: 2",
                    generated_at=datetime(2021, 1, 19), papers=(paper,))
    message = parse(publisher().prepare(digest)[0].body)
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Date"] == "Tue, 19 Jan 2021 00:00:00 +0000"  # naive: taken as UTC
    plain, page = parts(message)
    assert "1. Title Bcc: evil@x.org body\n   A B\n" in plain
    assert "javascript:" not in page  # only http(s) URLs become links
    assert "<strong>Title Bcc: evil@x.org body</strong>" in page


def test_an_https_unsubscribe_url_goes_into_the_header_and_both_parts():
    url = "https://papers.example.org/unsubscribe?list=daily&u=1"
    message = parse(publisher(email_unsubscribe=url).prepare(DIGEST)[0].body)
    assert message["List-Unsubscribe"] == f"<{url}>"
    plain, page = parts(message)
    assert plain.endswith(f"To stop receiving this digest, visit {url}\n")
    escaped = url.replace("&", "&amp;")
    assert f'visit <a href="{escaped}">{escaped}</a>' in page


def test_a_mailto_unsubscribe_with_a_subject_is_kept_whole_in_the_header():
    message = parse(publisher(email_unsubscribe="mailto:leave@example.org?subject=stop")
                    .prepare(DIGEST)[0].body)
    assert message["List-Unsubscribe"] == "<mailto:leave@example.org?subject=stop>"
    assert parts(message)[0].endswith("write to leave@example.org\n")


def test_the_subject_counts_the_papers_there_are_when_fewer_than_top_n():
    digest = Digest(day=date(2021, 1, 18), title="Hot Papers 2021-01-18", method="hot",
                    generated_at=datetime(2021, 1, 19, tzinfo=UTC), papers=PAPERS[:2])
    message = parse(publisher(publish_top_n=5).prepare(digest)[0].body)
    assert message["Subject"] == "Hot Papers 2021-01-18: top 2"


# --- delivery ---------------------------------------------------------------------------------

def test_send_delivers_the_exact_message_to_every_recipient(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    mail = publisher(port)
    payloads = mail.prepare(DIGEST)
    receipt = mail.send(DIGEST, payloads)
    assert receipt.target == "email"
    assert receipt.remote_id == "<hotpapers-2021-01-18@papers.example.org>"
    assert receipt.details == {"recipients": 2}
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "digest@papers.example.org"
    assert envelope.rcpt_tos == ["ada@example.org", "zoe@example.net"]
    assert envelope.original_content.rstrip(b"\r\n") == payloads[0].body.encode().rstrip(b"\r\n")
    received = parse(envelope.original_content)
    assert received["Subject"] == "Hot Papers 2021-01-18: top 3"
    assert received["List-Unsubscribe"] == "<mailto:unsubscribe@papers.example.org>"
    assert received["Bcc"] is None
    plain, page = parts(received)
    assert "2. Attention & \"Transformers\" 🚀 revisited" in plain
    assert "大規模言語モデルの研究" in page and "<script>" not in page
    assert "To stop receiving this digest" in plain and "To stop receiving this digest" in page


def test_a_refused_message_is_a_one_line_publish_error(smtp_server):
    port = smtp_server(Inbox(refuse_data="550 5.7.1 Message rejected as spam"))
    with pytest.raises(PublishError) as caught:
        publisher(port).send(DIGEST, publisher(port).prepare(DIGEST))
    assert str(caught.value) == (f"email: 127.0.0.1:{port}: the server answered "
                                 "550 5.7.1 Message rejected as spam")


def test_every_recipient_refused_is_a_publish_error(smtp_server):
    port = smtp_server(Inbox(refuse_rcpt=("ada@example.org", "zoe@example.net")))
    mail = publisher(port)
    with pytest.raises(PublishError, match=r"every recipient was refused \(550 5\.1\.1 No such"):
        mail.send(DIGEST, mail.prepare(DIGEST))


def test_a_recipient_refused_among_others_is_reported_in_the_receipt(smtp_server):
    inbox = Inbox(refuse_rcpt=("zoe@example.net",))
    port = smtp_server(inbox)
    mail = publisher(port)
    receipt = mail.send(DIGEST, mail.prepare(DIGEST))
    assert receipt.details == {"recipients": 1, "refused": ["zoe@example.net"]}
    assert inbox.envelopes[0].rcpt_tos == ["ada@example.org"]


def test_starttls_against_a_server_that_does_not_offer_it_fails_clearly(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox)
    mail = publisher(port, smtp_security="starttls")
    with pytest.raises(PublishError) as caught:
        mail.send(DIGEST, mail.prepare(DIGEST))
    assert str(caught.value) == (f"email: 127.0.0.1:{port}: the server does not offer STARTTLS "
                                 "(smtp_security is starttls; use ssl or none if that is "
                                 "intended)")
    assert inbox.envelopes == []  # nothing was sent in clear text


def test_ssl_against_a_plain_server_fails_with_a_publish_error(smtp_server):
    port = smtp_server(Inbox())
    mail = publisher(port, smtp_security="ssl")
    with pytest.raises(PublishError, match=rf"^email: 127\.0\.0\.1:{port}: connection failed"):
        mail.send(DIGEST, mail.prepare(DIGEST))


def test_no_server_listening_is_a_publish_error():
    mail = publisher(free_port())
    with pytest.raises(PublishError, match=r"connection failed \(.*refused"):
        mail.send(DIGEST, mail.prepare(DIGEST))


def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"bot"
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


AUTH_WITHOUT_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@AUTH_WITHOUT_TLS
def test_login_with_the_password_from_the_environment(smtp_server):
    inbox = Inbox()
    port = smtp_server(inbox, authenticator=authenticator, auth_require_tls=False,
                       auth_required=True)
    mail = publisher(port, Secrets(smtp_password=PASSWORD), smtp_username="bot")
    receipt = mail.send(DIGEST, mail.prepare(DIGEST))
    assert receipt.details == {"recipients": 2} and len(inbox.envelopes) == 1


@AUTH_WITHOUT_TLS
def test_a_refused_login_names_the_user_but_never_the_password(smtp_server):
    port = smtp_server(Inbox(), authenticator=authenticator, auth_require_tls=False,
                       auth_required=True)
    mail = publisher(port, Secrets(smtp_password="wrong-password"), smtp_username="bot")
    with pytest.raises(PublishError) as caught:
        mail.send(DIGEST, mail.prepare(DIGEST))
    message = str(caught.value)
    assert message.startswith(f"email: 127.0.0.1:{port}: login as 'bot' refused (535")
    assert "wrong-password" not in message and "\n" not in message


def test_send_wants_the_payload_that_prepare_made():
    with pytest.raises(PublishError, match="the one payload"):
        publisher().send(DIGEST, [Payload("webhook", "x", "{}")])


# --- settings and credentials -----------------------------------------------------------------

@pytest.mark.parametrize("missing", ["email_from", "email_to", "email_unsubscribe"])
def test_a_missing_setting_is_named(missing):
    empty = [] if missing == "email_to" else ""
    with pytest.raises(InputError, match=rf"email: set {missing} \(required"):
        publisher(**{missing: empty})


def test_all_missing_settings_are_named_at_once():
    with pytest.raises(InputError, match="set email_from, email_to, email_unsubscribe"):
        EmailPublisher(Settings(), Secrets())


@pytest.mark.parametrize("value", ["not an address", "ftp://example.org/unsub", "https://",
                                   "<mailto:x@example.org>"])
def test_an_unusable_unsubscribe_value_is_refused(value):
    with pytest.raises(InputError, match="email_unsubscribe"):
        publisher(email_unsubscribe=value)


@pytest.mark.parametrize(("field", "value"), [("email_from", "nobody"),
                                              ("email_from", "a@b.org\r\nBcc: c@d.org"),
                                              ("email_to", ["ok@example.org", "broken"]),
                                              ("email_to", ["a@example.org, b@example.org"])])
def test_bad_addresses_are_refused(field, value):
    with pytest.raises(InputError, match=field):
        publisher(**{field: value})


def test_a_username_without_a_password_names_the_variable():
    with pytest.raises(MissingCredentials, match="HOTPAPERS_SMTP_PASSWORD"):
        publisher(smtp_username="bot")


def test_a_password_is_never_sent_in_clear_to_another_host():
    with pytest.raises(InputError, match="would send the SMTP password in clear"):
        publisher(smtp_host="smtp.example.org", smtp_username="bot",
                  secrets=Secrets(smtp_password=PASSWORD))
