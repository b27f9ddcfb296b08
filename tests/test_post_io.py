"""A day's post and digest around the network: X's oEmbed answers (a real loopback server)
while no write transaction is open, a digest ranks its day once, and a day published while
the embeds were fetched stays as published."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from sqlalchemy import event
from werkzeug import Request, Response

from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.jobs.digest import make_digest
from hotpapers.jobs.post import write_post
from hotpapers.sources.x.oembed import TweetEmbeds
from hotpapers.store.db import connect
from hotpapers.store.mentions import load_embeds, save_mention
from hotpapers.store.posts import load_post, load_ranking
from test_jobs_post import DAY, T1, T2, live_day, oembed_html, tweet

PREVIEW = T1 + timedelta(hours=1)  # as of then, 2405.00001 and 2405.00002 are listed


def oembed_settings(server, **values) -> Settings:
    return Settings(x_oembed_url=server.url_for("/oembed"), source_interval=0, http_retries=0,
                    **values)


def embed_of(settings: Settings):
    return TweetEmbeds(settings, clock=FakeClock()).embed


def answer(request: Request) -> Response:
    native_id = request.args["url"].rsplit("/", 1)[1]
    return Response(json.dumps({"html": oembed_html(native_id)}),
                    content_type="application/json")


def test_no_write_transaction_is_open_while_oembed_answers(tmp_path, httpserver):
    """During each oEmbed request another connection writes to the store with a short busy
    timeout: it must never find the database locked by the post being made."""
    database = tmp_path / "store.sqlite3"
    engine = connect(f"sqlite:///{database}")
    live_day(engine)
    writes: list[str] = []

    def oembed(request: Request) -> Response:
        other = sqlite3.connect(database, timeout=0.2)
        try:
            with other:
                other.execute("UPDATE papers SET comments = ? WHERE id = '2401.00009'",
                              (request.args["url"],))
            writes.append("written")
        except sqlite3.OperationalError as exc:
            writes.append(str(exc))
        finally:
            other.close()
        return answer(request)

    httpserver.expect_request("/oembed").respond_with_handler(oembed)
    settings = oembed_settings(httpserver)
    post = write_post(engine, DAY, settings, T2, keep=True, embed=embed_of(settings))
    engine.dispose()
    assert writes == ["written"] * 3  # tweets 1, 2 and 5, none with stored HTML
    assert {m.native_id: m.embed_html for e in post.entries for m in e.shown} == {
        n: oembed_html(n) for n in ("1", "2", "5")}
    engine = connect(f"sqlite:///{database}")
    with engine.connect() as conn:  # cached, and the post kept, in the one transaction after
        assert load_embeds(conn, [("x", "5")])[("x", "5")][1] == oembed_html("5")
        assert load_post(conn, DAY, "lumen").generated_at == T2
    engine.dispose()


def test_a_day_published_while_embeds_were_fetched_keeps_that_post(engine, db_url,
                                                                      httpserver):
    live_day(engine)
    other = connect(db_url)

    def oembed(request: Request) -> Response:
        if not len(httpserver.log):  # the first request: another run publishes the day
            write_post(other, DAY, Settings(), PREVIEW, keep=True)
        return answer(request)

    httpserver.expect_request("/oembed").respond_with_handler(oembed)
    settings = oembed_settings(httpserver)
    post = write_post(engine, DAY, settings, T2, keep=True, embed=embed_of(settings))
    other.dispose()
    assert post.generated_at == PREVIEW  # the day's published post, not a second one
    with engine.connect() as conn:
        assert load_post(conn, DAY, "lumen").generated_at == PREVIEW
        assert load_ranking(conn, DAY, "classic").as_of == PREVIEW
        assert load_embeds(conn, [("x", "1")])[("x", "1")][1] == oembed_html("1")  # cached


def count_listing_reads(engine) -> list[str]:
    """The statements that read a day's listing: one per classic ranking computed."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM listings" in statement:
            seen.append(statement)

    return seen


def test_a_dry_run_digest_ranks_its_day_once(engine):
    live_day(engine)
    reads = count_listing_reads(engine)
    digest = make_digest(engine, DAY, Settings(daily_method="classic"), PREVIEW, keep=False)
    assert len(reads) == 1
    assert [p.id for p in digest.papers] == ["2405.00001", "2405.00002"]
    assert [p.score for p in digest.papers] == [100, 60]
    with engine.connect() as conn:  # and changes nothing
        assert load_post(conn, DAY, "lumen") is None
        assert load_ranking(conn, DAY, "classic") is None


def test_a_digest_lists_the_papers_of_its_post(engine, db_url, httpserver):
    """An observation stored late (dated before the post's as-of) arrives while the embeds
    are fetched: the digest still lists what the post lists, ranked once."""
    live_day(engine)
    other = connect(db_url)

    def oembed(request: Request) -> Response:
        if not len(httpserver.log):
            with other.begin() as conn:
                save_mention(conn, tweet("5", ["2405.00003"], (T1, 500, 500)), T2)
        return answer(request)

    httpserver.expect_request("/oembed").respond_with_handler(oembed)
    settings = oembed_settings(httpserver, daily_method="classic")
    digest = make_digest(engine, DAY, settings, PREVIEW, embed=embed_of(settings), keep=False)
    other.dispose()
    assert len(httpserver.log) == 2  # tweets 1 and 2
    assert [p.id for p in digest.papers] == ["2405.00001", "2405.00002"]
    assert "# 3." not in digest.post_text and "# 2. Beta" in digest.post_text
    again = make_digest(engine, DAY, settings, PREVIEW, keep=False)  # ranked anew: it counts
    assert [p.id for p in again.papers] == ["2405.00003", "2405.00001", "2405.00002"]


def test_a_kept_digest_reads_its_ranking_back_as_stored(engine):
    live_day(engine)
    settings = Settings(daily_method="classic")
    digest = make_digest(engine, DAY, settings, PREVIEW)
    again = make_digest(engine, DAY, settings, T2 + timedelta(days=3))
    assert digest == again  # a published day: same as-of, same post, same papers
    assert [p.score for p in digest.papers] == [100.0, 60.0]
    assert all(isinstance(p.score, float) for p in digest.papers)  # as the store gives them
