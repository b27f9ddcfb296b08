"""The Bluesky and Mastodon publishers: the thread they build (exact texts, limits counted as
each service counts them) and what they send to real HTTP servers on loopback: a small
fake PDS (createSession, createRecord, getRecord) and a fake Mastodon instance."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import httpx
import pytest
import regex
from werkzeug import Request, Response

from fakes import FakeClock
from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials, NothingToDo, PublishError
from hotpapers.publish.base import Digest, DigestPaper, Publisher
from hotpapers.publish.bluesky_bot import BlueskyPublisher
from hotpapers.publish.bots import build_thread
from hotpapers.publish.mastodon_bot import MastodonPublisher

HANDLE = "hotpapers.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
TOKEN = "mastodon-token-0123456789"
DID = "did:plc:h0tpapersh0tpapersh0tpap"
JWT = "eyJ.access.jwt"
SESSION = "/xrpc/com.atproto.server.createSession"
CREATE = "/xrpc/com.atproto.repo.createRecord"
GET = "/xrpc/com.atproto.repo.getRecord"
STATUSES = "/api/v1/statuses"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

GENERATED = datetime(2021, 1, 19, 6, 30, tzinfo=UTC)
DAY_URL = "https://hotpapers.example.org/posts/2021-01-18/"
TITLE_1 = 'Attention Is "Not" All You Need & More 🚀'
TITLE_2 = "大規模言語モデルによる数学的推論の評価"
URL_1, URL_2, URL_3 = (f"https://arxiv.org/abs/2101.0000{i}" for i in (1, 2, 3))

HEAD_TEXT = ("Hot Papers 2021-01-18: the top 2 papers by the hot ranking, one per reply 🧵\n"
             + DAY_URL)
TEXT_1 = f'1. Attention Is "Not" All You Need & More 🚀\n12 people on 3 sources\n{URL_1}'
TEXT_2 = f"2. {TITLE_2}\n{URL_2}"


def paper(rank: int, title: str, url: str, summary: str = "",
          authors: tuple[str, ...] = ("Ada Lovelace",)) -> DigestPaper:
    return DigestPaper(rank=rank, id=f"2101.0000{rank}", title=title, authors=authors,
                       url=url, summary=summary)


def make_digest(*papers: DigestPaper, url: str | None = DAY_URL) -> Digest:
    papers = papers or (
        paper(1, TITLE_1, URL_1, "12 people on 3 sources",
              ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Kurt Gödel")),
        paper(2, f"  {TITLE_2}\n", URL_2, "", ("山田 太郎",)),
        paper(3, "Third & last", URL_3),
    )
    return Digest(day=date(2021, 1, 18), title="Hot Papers 2021-01-18", method="hot",
                  generated_at=GENERATED, papers=papers, url=url)


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(GENERATED)


def settings(httpserver, **overrides) -> Settings:
    values = dict(bsky_api_url=httpserver.url_for("/xrpc"),
                  mastodon_instances=[httpserver.url_for("/")], publish_top_n=2,
                  source_interval=0, http_retries=1)
    return Settings(**{**values, **overrides})


def transport() -> httpx.BaseTransport:
    return httpx.HTTPTransport(verify=False)  # plain HTTP on loopback; no CA bundle to load


def bluesky(httpserver, clock, password: str = PASSWORD, **overrides) -> BlueskyPublisher:
    return BlueskyPublisher(settings(httpserver, **overrides),
                            Secrets(bsky_handle=HANDLE, bsky_app_password=password),
                            clock, transport())


def mastodon(httpserver, clock, **overrides) -> MastodonPublisher:
    return MastodonPublisher(settings(httpserver, **overrides), Secrets(mastodon_token=TOKEN),
                             clock, transport())


def link_facet(text: str, url: str) -> dict:
    """The facet of `url` in `text`, its offsets found in the UTF-8 bytes of the text."""
    encoded, target = text.encode("utf-8"), url.encode("utf-8")
    start = encoded.index(target)
    return {"index": {"byteStart": start, "byteEnd": start + len(target)},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]}


def tid_micros(rkey: str) -> int:
    """The time (microseconds since the epoch) of a TID record key."""
    value = 0
    for char in rkey:
        value = value * 32 + TID_ALPHABET.index(char)
    return value >> 10


def micros(stamp: str) -> int:
    moment = datetime.fromisoformat(stamp)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


# --- Bluesky: prepare ------------------------------------------------------------------------

EXPECTED_RECORDS = [
    {"$type": "app.bsky.feed.post", "text": HEAD_TEXT, "createdAt": "2021-01-19T06:30:00.000Z",
     "langs": ["en"], "facets": [link_facet(HEAD_TEXT, DAY_URL)]},
    {"$type": "app.bsky.feed.post", "text": TEXT_1, "createdAt": "2021-01-19T06:30:00.001Z",
     "langs": ["en"], "facets": [link_facet(TEXT_1, URL_1)],
     "embed": {"$type": "app.bsky.embed.external", "external": {
         "uri": URL_1, "title": TITLE_1,
         "description": "Ada Lovelace, Alan Turing, Grace Hopper et al."}}},
    {"$type": "app.bsky.feed.post", "text": TEXT_2, "createdAt": "2021-01-19T06:30:00.002Z",
     "langs": ["en"], "facets": [link_facet(TEXT_2, URL_2)],
     "embed": {"$type": "app.bsky.embed.external", "external": {
         "uri": URL_2, "title": TITLE_2, "description": "山田 太郎"}}},
]


def test_bluesky_prepare_gives_the_exact_records_and_makes_no_request(httpserver, clock):
    publisher = bluesky(httpserver, clock)
    assert isinstance(publisher, Publisher) and publisher.name == "bluesky"
    [payload] = publisher.prepare(make_digest())
    assert payload.target == "bluesky"
    assert json.loads(payload.body) == EXPECTED_RECORDS
    assert "\n" not in payload.summary and "reply refs" in payload.summary
    assert PASSWORD not in payload.body + payload.summary
    assert HANDLE not in payload.body + payload.summary
    assert httpserver.log == []
    # the facets really are byte offsets: the emoji before the link makes them differ
    head = json.loads(payload.body)[0]
    assert head["facets"][0]["index"]["byteStart"] != HEAD_TEXT.index(DAY_URL)


def test_no_link_no_facet_and_an_empty_digest_is_nothing_to_do(httpserver, clock):
    publisher = bluesky(httpserver, clock)
    [payload] = publisher.prepare(make_digest(url=None))
    head = json.loads(payload.body)[0]
    assert head["text"] == "Hot Papers 2021-01-18: the top 2 papers by the hot ranking, " \
                           "one per reply 🧵"
    assert "facets" not in head
    with pytest.raises(NothingToDo, match=r"^bluesky: the digest of 2021-01-18 has no paper"):
        publisher.prepare(Digest(day=date(2021, 1, 18), title="Hot Papers 2021-01-18",
                                 method="hot", generated_at=GENERATED, papers=()))


def test_graphemes_not_code_points_are_counted_and_titles_are_cut_between_them(
        httpserver, clock):
    accented = "e\u0301" * 250  # 250 graphemes, 500 code points: fits without a cut
    flags = "🇯🇵🇫🇷" * 200  # 400 flags: cut, never between the two halves of a flag
    families = "👨\u200d👩\u200d👧\u200d👦" * 200  # 25 bytes each: the 3000-byte cap cuts
    digest = make_digest(paper(1, accented, URL_1), paper(2, flags, URL_2),
                         paper(3, families, URL_3))
    records = json.loads(bluesky(httpserver, clock, publish_top_n=3)
                         .prepare(digest)[0].body)
    whole = records[1]["text"]
    assert whole == f"1. {accented}\n{URL_1}"
    assert len(whole) > 300 and graphemes(whole) <= 300

    cut = records[2]["text"]
    assert graphemes(cut) == 300  # shortened by just enough
    title = cut.removeprefix("2. ").removesuffix(f"…\n{URL_2}")
    assert flags.startswith(title) and len(title) % 2 == 0
    assert records[2]["facets"] == [link_facet(cut, URL_2)]

    capped = records[3]["text"]
    assert len(capped.encode("utf-8")) <= 3000 < len(capped.encode("utf-8")) + 25
    assert graphemes(capped) < 300 and capped.endswith(f"…\n{URL_3}")
    assert records[3]["facets"] == [link_facet(capped, URL_3)]


def test_a_long_summary_is_cut_and_gives_way_to_the_title(httpserver, clock):
    long_title = "word " * 60
    site_url = "https://hotpapers.example.org/papers/" + "p" * 143  # 180 characters
    digest = make_digest(paper(1, long_title, URL_1, "x" * 150),
                         paper(2, long_title, site_url, "x" * 150))
    first, second = (record["text"] for record in json.loads(
        bluesky(httpserver, clock).prepare(digest)[0].body)[1:])
    assert first.endswith(f"…\n{'x' * 100}…\n{URL_1}")  # the summary, cut after 100
    assert first.startswith("1. word word") and graphemes(first) == 300
    # with the summary the title would keep 15 graphemes: the summary goes instead
    assert second.startswith("2. word word") and second.endswith(f"…\n{site_url}")
    assert "xxx" not in second and 299 <= graphemes(second) <= 300  # a space may go


def test_a_link_too_long_for_a_post_is_refused(httpserver, clock):
    huge = "https://example.org/" + "a" * 300
    with pytest.raises(PublishError, match=r"^bluesky: paper 2101.00001: its link"):
        bluesky(httpserver, clock).prepare(make_digest(paper(1, "Title", huge)))


# --- Bluesky: send ---------------------------------------------------------------------------

class FakePDS:
    """createSession, createRecord and getRecord of one account, keeping its records by
    key. `fail` holds createRecord calls (counted from 1) answered 500, `lose` those whose
    record is made but whose answer is a 500 all the same."""

    def __init__(self, httpserver, fail: set[int] = frozenset(), lose: set[int] = frozenset()):
        self.records: dict[str, dict] = {}
        self.calls = 0
        self.fail, self.lose = fail, lose
        httpserver.expect_request(SESSION, method="POST").respond_with_handler(self.session)
        httpserver.expect_request(CREATE, method="POST").respond_with_handler(self.create)
        httpserver.expect_request(GET, method="GET").respond_with_handler(self.get)

    @staticmethod
    def answer(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json")

    def session(self, request: Request) -> Response:
        if request.get_json() != {"identifier": HANDLE, "password": PASSWORD}:
            return self.answer({"error": "AuthenticationRequired",
                                "message": "Invalid identifier or password"}, 401)
        return self.answer({"did": DID, "handle": HANDLE, "accessJwt": JWT,
                            "refreshJwt": "eyJ.refresh"})

    def create(self, request: Request) -> Response:
        self.calls += 1
        if request.headers.get("Authorization") != f"Bearer {JWT}":
            return self.answer({"error": "AuthenticationRequired"}, 401)
        if self.calls in self.fail:
            return self.answer({"error": "InternalServerError"}, 500)
        body = request.get_json()
        rkey = body["rkey"]
        if rkey in self.records:
            return self.answer({"error": "InvalidRequest", "message": "Record already exists"},
                               400)
        ref = {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}"}
        self.records[rkey] = {**ref, "value": body["record"]}
        if self.calls in self.lose:
            return self.answer({"error": "InternalServerError"}, 500)
        return self.answer({**ref, "commit": {"cid": "bafycommit", "rev": rkey}})

    def get(self, request: Request) -> Response:
        found = self.records.get(request.args["rkey"])
        if request.args["repo"] != DID or found is None:
            return self.answer({"error": "RecordNotFound", "message": "Could not locate record"},
                               400)
        return self.answer(found)


def created(httpserver) -> list[tuple[dict, Request]]:
    return [(request.get_json(), request) for request, _ in httpserver.log
            if request.path == CREATE]


def test_bluesky_send_signs_in_then_makes_the_thread_reply_by_reply(httpserver, clock):
    pds = FakePDS(httpserver)
    publisher = bluesky(httpserver, clock)
    digest = make_digest()
    receipt = publisher.send(digest, publisher.prepare(digest))

    sign_in = [r for r, _ in httpserver.log if r.path == SESSION]
    assert [r.get_json() for r in sign_in] == [{"identifier": HANDLE, "password": PASSWORD}]
    sent = created(httpserver)
    assert len(sent) == 3
    refs = []
    for (body, request), expected in zip(sent, EXPECTED_RECORDS, strict=True):
        assert request.headers["Authorization"] == f"Bearer {JWT}"
        assert set(body) == {"repo", "collection", "rkey", "record"}
        assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
        assert regex.fullmatch(r"[234567a-j][234567a-z]{12}", body["rkey"])
        assert tid_micros(body["rkey"]) == micros(expected["createdAt"])
        reply = ({"reply": {"root": refs[0], "parent": refs[-1]}} if refs else {})
        assert body["record"] == {**expected, **reply}
        refs.append({k: pds.records[body["rkey"]][k] for k in ("uri", "cid")})
    uris = [ref["uri"] for ref in refs]
    assert receipt.target == "bluesky"
    assert receipt.remote_id == uris[0]
    assert receipt.details == {"uris": uris}
    assert PASSWORD not in repr(receipt)


def test_bluesky_sign_in_refused_is_one_line_without_the_password(httpserver, clock):
    FakePDS(httpserver)
    publisher = bluesky(httpserver, clock, password="wxyz-wxyz-wxyz-wxyz")
    digest = make_digest()
    with pytest.raises(PublishError) as caught:
        publisher.send(digest, publisher.prepare(digest))
    assert str(caught.value) == ("bluesky: sign-in refused (HTTP 401: AuthenticationRequired: "
                                 "Invalid identifier or password)")
    assert created(httpserver) == []


def test_a_500_midway_says_which_posts_were_made_and_a_rerun_completes_the_thread(
        httpserver, clock):
    pds = FakePDS(httpserver, fail={3, 4})  # post 3, then its one retry
    publisher = bluesky(httpserver, clock)
    digest = make_digest()
    payloads = publisher.prepare(digest)
    with pytest.raises(PublishError) as caught:
        publisher.send(digest, payloads)
    first, second = (ref["uri"] for ref in pds.records.values())
    assert str(caught.value) == (f"bluesky: post 3 of 3 failed (HTTP 500 after 2 tries); "
                                 f"2 posts were made: {first}, {second}")
    assert clock.sleeps  # the 500 was retried after a backoff

    receipt = publisher.send(digest, payloads)  # the same thread again: nothing twice
    assert len(pds.records) == 3
    assert receipt.details["uris"][:2] == [first, second]
    last = created(httpserver)[-1][0]["record"]
    assert last["text"] == TEXT_2
    assert last["reply"] == {"root": {"uri": first, "cid": pds.records[
        first.rsplit("/", 1)[1]]["cid"]}, "parent": {"uri": second, "cid": pds.records[
        second.rsplit("/", 1)[1]]["cid"]}}


def test_a_lost_answer_retried_does_not_post_twice(httpserver, clock):
    pds = FakePDS(httpserver, lose={2})  # post 2 is made, but the answer is a 500
    publisher = bluesky(httpserver, clock)
    digest = make_digest()
    receipt = publisher.send(digest, publisher.prepare(digest))
    assert len(pds.records) == 3 and len(created(httpserver)) == 4
    assert receipt.details["uris"] == [r["uri"] for r in pds.records.values()]
    third = created(httpserver)[-1][0]["record"]
    assert third["reply"]["parent"]["uri"] == receipt.details["uris"][1]


def test_bluesky_needs_the_handle_and_the_app_password(httpserver, monkeypatch):
    for variable in ("HOTPAPERS_BSKY_HANDLE", "HOTPAPERS_BSKY_APP_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(MissingCredentials) as caught:
        BlueskyPublisher(settings(httpserver), Secrets())
    assert str(caught.value) == (
        "bluesky: posting needs HOTPAPERS_BSKY_HANDLE and HOTPAPERS_BSKY_APP_PASSWORD (an app "
        "password); not set: HOTPAPERS_BSKY_HANDLE, HOTPAPERS_BSKY_APP_PASSWORD")
    with pytest.raises(MissingCredentials, match=r"not set: HOTPAPERS_BSKY_APP_PASSWORD$"):
        BlueskyPublisher(settings(httpserver), Secrets(bsky_handle=HANDLE))


# --- Mastodon ---------------------------------------------------------------------------------

EXPECTED_STATUSES = [{"status": text, "visibility": "public", "language": "en"}
                     for text in (HEAD_TEXT, TEXT_1, TEXT_2)]


def test_mastodon_prepare_gives_the_exact_statuses_and_makes_no_request(httpserver, clock):
    publisher = mastodon(httpserver, clock)
    assert isinstance(publisher, Publisher) and publisher.name == "mastodon"
    [payload] = publisher.prepare(make_digest())
    assert payload.target == "mastodon"
    assert json.loads(payload.body) == EXPECTED_STATUSES
    assert "in_reply_to_id" in payload.summary and "hotpapers-2021-01-18-0-" in payload.summary
    assert TOKEN not in payload.body + payload.summary
    assert httpserver.log == []


class FakeMastodon:
    """/api/v1/statuses: each new Idempotency-Key makes a status; a key seen before gives
    the same status back. `answers` overrides the answer of given calls (from 1)."""

    def __init__(self, httpserver, answers: dict[int, tuple[int, dict]] | None = None):
        self.base = httpserver.url_for("").rstrip("/")
        self.made: dict[str, dict] = {}
        self.calls = 0
        self.answers = answers or {}
        httpserver.expect_request(STATUSES, method="POST").respond_with_handler(self.post)

    def post(self, request: Request) -> Response:
        self.calls += 1
        if self.calls in self.answers:
            status, body = self.answers[self.calls]
            return Response(json.dumps(body), status=status, content_type="application/json")
        key = request.headers["Idempotency-Key"]
        if key not in self.made:
            status_id = str(109_000_000 + len(self.made))
            self.made[key] = {"id": status_id, "url": f"{self.base}/@hotpapers/{status_id}",
                              "content": request.get_json()["status"]}
        return Response(json.dumps(self.made[key]), content_type="application/json")


def key_of(index: int, statuses=None) -> str:
    """The expected Idempotency-Key: day, position and the first 12 hex digits of the
    SHA-256 of the status text."""
    text = (statuses or EXPECTED_STATUSES)[index]["status"]
    return f"hotpapers-2021-01-18-{index}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def posted(httpserver) -> list[tuple[dict, Request]]:
    return [(request.get_json(), request) for request, _ in httpserver.log
            if request.path == STATUSES]


def test_mastodon_send_posts_a_thread_with_idempotency_keys(httpserver, clock):
    server = FakeMastodon(httpserver)
    publisher = mastodon(httpserver, clock)
    digest = make_digest()
    receipt = publisher.send(digest, publisher.prepare(digest))
    sent = posted(httpserver)
    ids = [status["id"] for status in server.made.values()]
    assert [body for body, _ in sent] == [
        EXPECTED_STATUSES[0],
        {**EXPECTED_STATUSES[1], "in_reply_to_id": ids[0]},
        {**EXPECTED_STATUSES[2], "in_reply_to_id": ids[1]},
    ]
    for index, (_, request) in enumerate(sent):
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Idempotency-Key"] == key_of(index)
    assert receipt.target == "mastodon"
    assert receipt.remote_id == server.made[key_of(0)]["url"]
    assert receipt.details == {"ids": ids}


def test_mastodon_counts_graphemes_and_every_link_as_23(httpserver, clock):
    long_url = "https://hotpapers.example.org/papers/" + "x" * 160  # 197 characters
    short_url = "https://x.io/1"  # 14 characters, counted as 23 all the same
    accented = "e\u0301" * 470  # 470 graphemes, 940 code points
    digest = make_digest(paper(1, "a" * 600, long_url), paper(2, "b" * 600, short_url),
                         paper(3, accented, URL_3))
    statuses = json.loads(mastodon(httpserver, clock, publish_top_n=3)
                          .prepare(digest)[0].body)
    first, second, third = (s["status"] for s in statuses[1:])
    assert first.endswith(f"a…\n{long_url}") and len(first) > 500
    assert len(first) - len(long_url) + 23 == 500  # shortened to the limit exactly
    assert second.endswith(f"b…\n{short_url}")
    assert len(second) - len(short_url) + 23 == 500 and len(second) == 491
    # not cut: 497 as Mastodon counts, though 506 with the URL's own 32 characters
    assert third == f"3. {accented}\n{URL_3}"
    assert graphemes(third) - len(URL_3) + 23 == 497 and graphemes(third) == 506


def test_mastodon_refusal_names_the_status_and_the_server_error_without_the_token(
        httpserver, clock):
    FakeMastodon(httpserver, answers={2: (422, {
        "error": f"Validation failed: Text character limit of 500 exceeded ({TOKEN})"})})
    publisher = mastodon(httpserver, clock)
    digest = make_digest()
    with pytest.raises(PublishError) as caught:
        publisher.send(digest, publisher.prepare(digest))
    base = httpserver.url_for("").rstrip("/")
    assert str(caught.value) == (
        "mastodon: status 2 of 3 refused (HTTP 422: Validation failed: Text character limit "
        f"of 500 exceeded (***)); 1 status was posted: {base}/@hotpapers/109000000")


def test_mastodon_bad_token_is_refused_at_the_first_status(httpserver, clock):
    FakeMastodon(httpserver, answers={1: (401, {"error": "The access token is invalid"})})
    publisher = mastodon(httpserver, clock)
    digest = make_digest()
    with pytest.raises(PublishError) as caught:
        publisher.send(digest, publisher.prepare(digest))
    assert str(caught.value) == ("mastodon: status 1 of 3 refused (HTTP 401: The access "
                                 "token is invalid); no status was posted")


def test_mastodon_500_is_retried_with_the_same_key_then_reported(httpserver, clock):
    server = FakeMastodon(httpserver, answers={2: (500, {"error": "boom"}),
                                               3: (500, {"error": "boom"})})
    publisher = mastodon(httpserver, clock)
    digest = make_digest()
    with pytest.raises(PublishError) as caught:
        publisher.send(digest, publisher.prepare(digest))
    url = server.made[key_of(0)]["url"]
    assert str(caught.value) == ("mastodon: status 2 of 3 failed (HTTP 500 after 2 tries); "
                                 f"1 status was posted: {url}")
    keys = [request.headers["Idempotency-Key"] for _, request in posted(httpserver)]
    assert keys == [key_of(0), key_of(1), key_of(1)]
    # sent again: the first key gives the status already made back, nothing twice
    receipt = publisher.send(digest, publisher.prepare(digest))
    assert len(server.made) == 3 and receipt.remote_id == url


def test_mastodon_needs_a_token_and_an_instance(httpserver, monkeypatch):
    monkeypatch.delenv("HOTPAPERS_MASTODON_TOKEN", raising=False)
    with pytest.raises(MissingCredentials, match=r"^mastodon: posting needs "
                                                 r"HOTPAPERS_MASTODON_TOKEN"):
        MastodonPublisher(settings(httpserver), Secrets())
    with pytest.raises(InputError, match=r"^mastodon: no instance to post to: set "
                                         r"mastodon_post_instance"):
        MastodonPublisher(settings(httpserver, mastodon_instances=[]),
                          Secrets(mastodon_token=TOKEN))
    chosen = MastodonPublisher(settings(httpserver, mastodon_post_instance="example.social/"),
                               Secrets(mastodon_token=TOKEN))
    assert chosen.instance == "https://example.social"
    default = MastodonPublisher(settings(httpserver), Secrets(mastodon_token=TOKEN))
    assert default.instance == httpserver.url_for("/").rstrip("/")


# --- shared text building -----------------------------------------------------------------------

def test_the_thread_takes_the_top_n_in_rank_order():
    digest = make_digest(paper(3, "C", URL_3), paper(1, "A", URL_1), paper(2, "B", URL_2))
    posts = build_thread(digest, 2, lambda text: True, "test")
    assert [p.text for p in posts[1:]] == [f"1. A\n{URL_1}", f"2. B\n{URL_2}"]
    assert [p.paper.rank for p in posts[1:]] == [1, 2]
    assert posts[0].links[0].url == DAY_URL
    assert posts[0].text[posts[0].links[0].start:posts[0].links[0].end] == DAY_URL
    one = build_thread(make_digest(paper(1, "A", URL_1), url=None), 5, lambda t: True, "test")
    assert one[0].text == ("Hot Papers 2021-01-18: the top paper by the hot ranking, in the "
                           "reply 🧵")


def test_mastodon_a_changed_thread_is_not_taken_for_the_old_one(httpserver, clock):
    server = FakeMastodon(httpserver)
    publisher = mastodon(httpserver, clock)
    first = make_digest()
    publisher.send(first, publisher.prepare(first))
    changed = make_digest(paper(1, "A different first paper", URL_1))
    publisher.send(changed, publisher.prepare(changed))
    texts = [status["content"] for status in server.made.values()]
    assert len(server.made) == 3 + 2  # the second thread's statuses are new ones
    assert any("A different first paper" in text for text in texts)


# --- hostile fields: every field the bots send stays bounded (issue 13, point 14) ------------

MIB = 1 << 20
CARD_GRAPHEMES = 300  # the card's title and description, each


def hostile_digest() -> Digest:
    """A digest whose free-text fields are each a mebibyte: a title, a summary line, one
    author's name, and a thousand authors."""
    huge = "Ab\u0301 " * (MIB // 4)  # combining accents: graphemes and code points differ
    return Digest(day=date(2021, 1, 18), title="Hot " + huge, method="hot",
                  generated_at=GENERATED, url=DAY_URL, papers=(
                      DigestPaper(rank=1, id="2101.00001", title=huge, authors=(huge,),
                                  url=URL_1, summary=huge),
                      DigestPaper(rank=2, id="2101.00002", title="T" * MIB,
                                  authors=tuple("N" * 1000 for _ in range(1000)),
                                  url=URL_2, summary="")))


def test_p14_hostile_mebibyte_fields_give_bounded_bluesky_records(httpserver, clock):
    FakePDS(httpserver)
    publisher = bluesky(httpserver, clock)
    digest = hostile_digest()
    publisher.send(digest, publisher.prepare(digest))
    sent = created(httpserver)
    assert len(sent) == 3
    for body, request in sent:
        assert len(request.get_data()) < 8_000  # the whole request, records and refs
        record = body["record"]
        assert graphemes(record["text"]) <= 300
        assert len(record["text"].encode("utf-8")) <= 3000
        if "embed" in record:
            card = record["embed"]["external"]
            assert 0 < graphemes(card["title"]) <= CARD_GRAPHEMES
            assert graphemes(card["description"]) <= CARD_GRAPHEMES
            assert card["title"].endswith("…")


def test_p14_hostile_mebibyte_fields_give_bounded_mastodon_statuses(httpserver, clock):
    FakeMastodon(httpserver)
    publisher = mastodon(httpserver, clock)
    digest = hostile_digest()
    publisher.send(digest, publisher.prepare(digest))
    sent = posted(httpserver)
    assert len(sent) == 3
    for body, request in sent:
        assert len(request.get_data()) < 4_000
        assert graphemes(regex.sub(r"https?://\S+", "x" * 23, body["status"])) <= 500


# --- a dry run needs no credentials (issue 13, point 25) ---------------------------------------

CREDENTIALS = {"HOTPAPERS_BSKY_HANDLE": HANDLE, "HOTPAPERS_BSKY_APP_PASSWORD": PASSWORD,
               "HOTPAPERS_MASTODON_TOKEN": TOKEN}


@pytest.mark.parametrize("target, missing", [
    ("bluesky", "HOTPAPERS_BSKY_HANDLE, HOTPAPERS_BSKY_APP_PASSWORD"),
    ("mastodon", "HOTPAPERS_MASTODON_TOKEN"),
])
def test_p25_a_dry_run_previews_without_credentials_and_names_the_missing_ones(
        cli, monkeypatch, target, missing):
    from conftest import FIXTURES

    monkeypatch.setenv("HOTPAPERS_MASTODON_INSTANCES", '["https://m.example.org"]')
    assert cli("import", "legacy", FIXTURES / "posts").code == 0
    args = ("publish", "--date", "2024-03-04", "--to", target, "--dry-run")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with_credentials = cli(*args)
    assert with_credentials.code == 0, with_credentials.err
    for name in CREDENTIALS:
        monkeypatch.delenv(name)
    without = cli(*args)
    assert without.code == 0, without.err
    assert without.out == with_credentials.out  # the same payload, printed in full
    assert without.out.startswith(f"--- {target}: ")
    [note] = without.err.strip().splitlines()
    assert note.startswith(f"hotpapers: note: {target}: ")
    assert note.endswith(f"not set: {missing}; a real run needs them")
    real = cli(*args[:-1])  # without --dry-run it is still refused, naming them
    assert real.code == 2
    assert missing.split(", ")[-1] in real.err


def _no_piece_of(secret: str, text: str) -> bool:
    return not any(secret[:k] in text for k in range(9, len(secret) + 1))


@pytest.mark.parametrize("pad", range(104, 162, 4))
def test_no_piece_of_a_secret_is_left_where_an_echoed_refusal_is_cut(httpserver, clock, pad):
    """A server that echoes the credential after `pad` characters: the refusal is cut to
    fit one line, and the cut must come after the scrubbing, or the secret's first letters
    would be printed and kept in the run record."""
    echo = "e" * pad
    httpserver.expect_request(SESSION, method="POST").respond_with_handler(
        lambda request: Response(echo + request.get_json()["password"], status=401))
    publisher = bluesky(httpserver, clock)
    with pytest.raises(PublishError) as caught:
        publisher.send(make_digest(), publisher.prepare(make_digest()))
    assert _no_piece_of(PASSWORD, str(caught.value)), str(caught.value)
    httpserver.clear()
    FakeMastodon(httpserver, answers={1: (401, {"error": echo + TOKEN})})
    publisher = mastodon(httpserver, clock)
    with pytest.raises(PublishError) as caught:
        publisher.send(make_digest(), publisher.prepare(make_digest()))
    assert _no_piece_of(TOKEN, str(caught.value)), str(caught.value)
