"""The webhook publisher and the daily job's alerts: the exact JSON of each format (Slack,
Discord, plain JSON), escaping and limits, POSTed to loopback servers, and the failures
(4xx, rate limits, unreachable URLs), whose messages never show a webhook's path or token."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, date, datetime

import pytest
from werkzeug import Response

from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, PublishError
from hotpapers.publish.base import Digest, DigestPaper, Payload, Publisher
from hotpapers.publish.webhook import WebhookPublisher, send_alert

TOKEN_PATH = "/services/T0001/B0002/XyZsEcReTtOkEn42"
PAPERS = (
    DigestPaper(1, "2101.00001", 'Break <!channel> "out"> & <script>x</script>',
                ("Ada Lovelace", "Grace Hopper"), "https://arxiv.org/abs/2101.00001",
                score=9.5, summary="retweets: 576, favorites: 138"),
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


@pytest.fixture
def clock():
    return FakeClock()


def settings(**values) -> Settings:
    return Settings(**({"publish_top_n": 3, "http_retries": 2} | values))


def publisher(urls, clock=None, **values) -> WebhookPublisher:
    return WebhookPublisher(settings(**values), Secrets(webhook_urls=list(urls)), clock=clock)


def body_of(fmt: str, digest: Digest = DIGEST, **values) -> dict:
    [payload] = publisher(["https://hooks.example.org/x"], webhook_format=fmt,
                          **values).prepare(digest)
    return json.loads(payload.body)


def received(httpserver) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def many_papers(count: int, title_length: int = 400) -> Digest:
    papers = tuple(DigestPaper(i, f"2101.{i:05d}", f"Paper {i} " + "x" * title_length,
                               tuple(f"Author {j}" for j in range(40)),
                               f"https://arxiv.org/abs/2101.{i:05d}", summary="y" * 5000)
                   for i in range(1, count + 1))
    return Digest(day=date(2021, 1, 18), title="Hot Papers 2021-01-18", method="hot",
                  generated_at=datetime(2021, 1, 19, tzinfo=UTC), papers=papers)


# --- the bodies -------------------------------------------------------------------------------

def test_slack_body_is_exact_and_escapes_slack_control_characters():
    assert body_of("slack") == {
        "text": "Hot Papers 2021-01-18: top 3 (classic) "
                "<https://papers.example.org/2021-01-18|all papers>",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text",
                                        "text": "Hot Papers 2021-01-18: top 3 (classic)"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                "*1.* <https://arxiv.org/abs/2101.00001|Break &lt;!channel&gt; \"out\"&gt; "
                "&amp; &lt;script&gt;x&lt;/script&gt;>\n"
                "Ada Lovelace, Grace Hopper\n"
                "_retweets: 576, favorites: 138_")}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                "*2.* <https://arxiv.org/abs/2101.00002|Attention &amp; \"Transformers\" 🚀 "
                "revisited>\nZoë Ångström\n_12 people on 3 sources_")}},
            {"type": "section", "text": {"type": "mrkdwn", "text": (
                "*3.* <https://arxiv.org/abs/2101.00003|大規模言語モデルの研究>\n山田 太郎")}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": (
                "<https://papers.example.org/2021-01-18|All papers of the day>")}]},
        ],
    }


def test_slack_links_cannot_be_broken_by_a_url_or_a_title():
    paper = DigestPaper(1, "x", "a|b <@U123>", ("A",), "https://x.org/a|b>c d&e")
    digest = Digest(day=date(2021, 1, 18), title="T", method="hot",
                    generated_at=datetime(2021, 1, 19, tzinfo=UTC),
                    papers=(paper, DigestPaper(2, "y", "no link", (), "javascript:alert(1)")))
    sections = [b["text"]["text"] for b in body_of("slack", digest)["blocks"][1:]]
    assert sections == ["*1.* <https://x.org/a%7Cb%3Ec%20d&amp;e|a|b &lt;@U123&gt;>\nA",
                        "*2.* no link"]


def test_discord_body_is_exact():
    assert body_of("discord") == {
        "content": "**Hot Papers 2021-01-18: top 3 (classic)**\n"
                   "<https://papers.example.org/2021-01-18>",
        "embeds": [
            {"title": '1. Break <!channel> "out"> & <script>x</script>',
             "url": "https://arxiv.org/abs/2101.00001",
             "description": "Ada Lovelace, Grace Hopper\nretweets: 576, favorites: 138"},
            {"title": '2. Attention & "Transformers" 🚀 revisited',
             "url": "https://arxiv.org/abs/2101.00002",
             "description": "Zoë Ångström\n12 people on 3 sources"},
            {"title": "3. 大規模言語モデルの研究", "url": "https://arxiv.org/abs/2101.00003",
             "description": "山田 太郎"},
        ],
        "allowed_mentions": {"parse": []},
    }


@pytest.mark.parametrize("count", [11, 200])
def test_discord_limits_hold_for_many_long_papers(count):
    body = body_of("discord", many_papers(count), publish_top_n=count)
    assert len(body["content"]) <= 2000
    assert len(body["embeds"]) == 10
    assert all(len(e["title"]) <= 256 and len(e["description"]) <= 4096 for e in body["embeds"])
    assert sum(len(e["title"]) + len(e["description"]) for e in body["embeds"]) <= 6000
    lines = body["content"].split("\n")
    assert lines[1].startswith("11. Paper 11 xxx") and lines[1].endswith(
        "<https://arxiv.org/abs/2101.00011>")
    if count == 200:
        assert lines[-1].startswith("… and ") and lines[-1].endswith(" more")
        shown = len(lines) - 2  # the headline and the "… and N more" line
        assert lines[-1] == f"… and {count - 10 - shown} more"


def test_json_body_is_exact():
    assert body_of("json") == {
        "day": "2021-01-18",
        "title": "Hot Papers 2021-01-18",
        "method": "classic",
        "url": "https://papers.example.org/2021-01-18",
        "papers": [
            {"rank": 1, "id": "2101.00001", "title": PAPERS[0].title,
             "authors": ["Ada Lovelace", "Grace Hopper"],
             "url": "https://arxiv.org/abs/2101.00001", "score": 9.5,
             "summary": "retweets: 576, favorites: 138"},
            {"rank": 2, "id": "2101.00002", "title": 'Attention & "Transformers" 🚀 revisited',
             "authors": ["Zoë Ångström"], "url": "https://arxiv.org/abs/2101.00002",
             "score": 7.0, "summary": "12 people on 3 sources"},
            {"rank": 3, "id": "2101.00003", "title": "大規模言語モデルの研究",
             "authors": ["山田 太郎"], "url": "https://arxiv.org/abs/2101.00003", "score": 5.0,
             "summary": ""},
        ],
    }


def test_the_payload_summary_counts_urls_but_never_shows_them():
    hook = publisher([f"https://hooks.slack.com{TOKEN_PATH}", "https://other.example/hook/abc"])
    assert isinstance(hook, Publisher) and hook.name == "webhook"
    payloads = hook.prepare(DIGEST)
    assert payloads == hook.prepare(DIGEST)
    [payload] = payloads
    assert payload.target == "webhook"
    assert payload.summary == ("POST to 2 webhook URL(s): slack message, top 3 of 2021-01-18")
    assert "XyZsEcReT" not in payload.summary + payload.body
    assert "hooks.slack.com" not in payload.body


# --- sending ----------------------------------------------------------------------------------

def test_two_urls_both_receive_the_exact_body(httpserver, clock):
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_data("ok")
    httpserver.expect_request("/api/webhooks/1/tok", method="POST").respond_with_data(
        "", status=204)
    hook = publisher([httpserver.url_for(TOKEN_PATH), httpserver.url_for("/api/webhooks/1/tok")],
                     clock, webhook_format="discord")
    payloads = hook.prepare(DIGEST)
    receipt = hook.send(DIGEST, payloads)
    assert receipt.target == "webhook" and receipt.remote_id == "2 url(s)"
    assert receipt.details == {"urls": 2, "format": "discord", "hosts": ["localhost"]}
    assert [r.path for r, _ in httpserver.log] == [TOKEN_PATH, "/api/webhooks/1/tok"]
    assert received(httpserver) == [json.loads(payloads[0].body)] * 2
    assert all(r.headers["Content-Type"] == "application/json" for r, _ in httpserver.log)


def test_a_404_names_the_host_but_never_the_path_or_token(httpserver, clock):
    # the server echoes the token back; the message must not carry it
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_data(
        f"no_service for {TOKEN_PATH} XyZsEcReTtOkEn42", status=404)
    hook = publisher([httpserver.url_for(TOKEN_PATH)], clock)
    with pytest.raises(PublishError) as caught:
        hook.send(DIGEST, hook.prepare(DIGEST))
    message = str(caught.value)
    assert message == "webhook: localhost: HTTP 404: no_service for *** ***"
    assert len(httpserver.log) == 1  # a 404 is not retried


def test_a_429_with_retry_after_is_retried_after_the_wait(httpserver, clock):
    httpserver.expect_oneshot_request(TOKEN_PATH, method="POST").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "7"}))
    httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_data("ok")
    hook = publisher([httpserver.url_for(TOKEN_PATH)], clock)
    receipt = hook.send(DIGEST, hook.prepare(DIGEST))
    assert receipt.remote_id == "1 url(s)"
    assert clock.sleeps == [7.0]
    assert len(httpserver.log) == 2 and received(httpserver)[0] == received(httpserver)[1]


def test_one_failing_url_does_not_stop_the_others(httpserver, clock):
    httpserver.expect_request("/broken/tokenAAAA", method="POST").respond_with_data(
        "down", status=503)
    httpserver.expect_request("/fine/tokenBBBB", method="POST").respond_with_data("ok")
    hook = publisher([httpserver.url_for("/broken/tokenAAAA"),
                      httpserver.url_for("/fine/tokenBBBB")], clock, http_retries=1)
    with pytest.raises(PublishError) as caught:
        hook.send(DIGEST, hook.prepare(DIGEST))
    assert str(caught.value) == ("webhook: localhost (URL 1 of 2): HTTP 503 after 2 tries "
                                 "(1 of 2 URL(s) reached)")
    assert [r.path for r, _ in httpserver.log] == ["/broken/tokenAAAA"] * 2 + ["/fine/tokenBBBB"]


def test_an_unreachable_url_is_a_publish_error_without_its_path(clock):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = publisher([f"http://127.0.0.1:{port}/hook/SeCrEtToKeN"], clock, http_retries=0)
    with pytest.raises(PublishError) as caught:
        hook.send(DIGEST, hook.prepare(DIGEST))
    assert str(caught.value).startswith("webhook: 127.0.0.1: connection failed")
    assert "SeCrEt" not in str(caught.value)


def test_send_wants_the_payload_that_prepare_made():
    with pytest.raises(PublishError, match="the one payload"):
        publisher(["https://hooks.example.org/x"]).send(DIGEST, [Payload("email", "x", "")])


# --- credentials ------------------------------------------------------------------------------

def test_no_webhook_urls_names_the_variable():
    with pytest.raises(MissingCredentials, match="HOTPAPERS_WEBHOOK_URLS"):
        publisher([])


def test_a_url_that_is_not_http_is_refused_without_showing_it():
    with pytest.raises(InputError) as caught:
        publisher(["https://ok.example/a", "ftp://files.example/SeCrEtToKeN"])
    assert str(caught.value) == ("HOTPAPERS_WEBHOOK_URLS: URL 2 of 2 is not an http(s) URL")


# --- alerts -----------------------------------------------------------------------------------

def test_an_alert_without_a_url_is_not_sent(httpserver):
    assert send_alert(settings(), Secrets(), "daily failed") is False
    assert httpserver.log == []


@pytest.mark.parametrize(("fmt", "expected"), [
    ("slack", {"text": "daily: git &lt;origin&gt; failed &amp; ***"}),
    ("json", {"text": "daily: git <origin> failed & ***"}),
    ("discord", {"content": "daily: git <origin> failed & ***"}),
])
def test_an_alert_posts_the_text_in_the_format(httpserver, clock, fmt, expected):
    httpserver.expect_request("/alert/tok123", method="POST").respond_with_data("ok")
    secrets = Secrets(alert_webhook_url=httpserver.url_for("/alert/tok123"),
                      smtp_password="hunter22")
    sent = send_alert(settings(webhook_format=fmt), secrets,
                      "daily: git <origin> failed & hunter22", clock=clock)
    assert sent is True
    assert received(httpserver) == [expected]


def test_a_long_discord_alert_is_cut_to_2000_characters(httpserver, clock):
    httpserver.expect_request("/alert", method="POST").respond_with_data("", status=204)
    secrets = Secrets(alert_webhook_url=httpserver.url_for("/alert"))
    assert send_alert(settings(webhook_format="discord"), secrets, "x" * 5000, clock=clock)
    [body] = received(httpserver)
    assert len(body["content"]) == 2000 and body["content"].endswith("…")


def test_a_failing_alert_logs_a_warning_and_never_raises(httpserver, clock, caplog):
    httpserver.expect_request("/alert/SeCrEtToKeN", method="POST").respond_with_data(
        "gone", status=404)
    secrets = Secrets(alert_webhook_url=httpserver.url_for("/alert/SeCrEtToKeN"))
    with caplog.at_level(logging.WARNING, logger="hotpapers.publish.webhook"):
        assert send_alert(settings(), secrets, "daily failed", clock=clock) is False
    assert [r.getMessage() for r in caplog.records] == [
        "alert not sent: alert webhook: localhost: HTTP 404: gone"]


def test_an_unreachable_or_invalid_alert_url_returns_false(clock, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = Secrets(alert_webhook_url=f"http://127.0.0.1:{port}/alert/SeCrEtToKeN")
    assert send_alert(settings(http_retries=1), down, "x", clock=clock) is False
    assert send_alert(settings(), Secrets(alert_webhook_url="not a url"), "x") is False
    assert "SeCrEt" not in caplog.text and len(caplog.records) == 2
