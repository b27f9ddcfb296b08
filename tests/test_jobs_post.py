"""Stages over a real SQLite file: legacy import, re-rendering, classic from live mentions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from conftest import FIXTURES
from fakes import FakeClock
from hotpapers.config import Settings
from hotpapers.jobs.legacy import import_legacy
from hotpapers.jobs.post import write_post
from hotpapers.jobs.ranking import classic_ranking
from hotpapers.models import Account, Mention, Observation, Paper
from hotpapers.render.lumen import render_lumen
from hotpapers.sources.x.oembed import TweetEmbeds
from hotpapers.store.listings import save_listing
from hotpapers.store.mentions import load_embeds, mark_deleted, save_mention
from hotpapers.store.papers import save_paper
from hotpapers.store.schema import metadata, papers

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POSTS = FIXTURES / "posts"
LANTERNS = POSTS / "2024-03-04---Hot-Papers.md"


def rendered(engine, day: date) -> str:
    return render_lumen(write_post(engine, day, Settings(), NOW))


def dump(engine) -> dict:
    """Every table but the change stamps (a write may bump them)."""
    with engine.connect() as conn:
        return {name: sorted(map(repr, conn.execute(select(table)).all()))
                for name, table in metadata.tables.items() if name != "change_stamps"}


def test_imported_posts_render_identically_from_the_database(engine):
    results = import_legacy(engine, [POSTS], NOW)
    assert [r.error for r in results] == [None, None, None]
    for result in results:
        assert rendered(engine, result.day).encode() == result.path.read_bytes()


def test_reimporting_a_post_changes_nothing(engine):
    import_legacy(engine, [LANTERNS], NOW)
    before = dump(engine)
    import_legacy(engine, [LANTERNS], NOW + timedelta(days=3))
    assert dump(engine) == before


def test_changing_one_stored_title_changes_the_post_there_only(engine):
    import_legacy(engine, [LANTERNS], NOW)
    original = LANTERNS.read_text(encoding="utf-8")
    with engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == "2403.00007")
                     .values(title="A Retitled Paper"))
    changed = rendered(engine, date(2024, 3, 4))
    assert changed == original.replace("# 2. A Paper Nobody Tweeted Well",
                                       "# 2. A Retitled Paper")
    assert changed != original


def test_a_paper_shown_differently_on_two_days_keeps_each_version(engine, tmp_path):
    later = tmp_path / "2024-03-05---Hot-Papers.md"
    later.write_text(LANTERNS.read_text(encoding="utf-8")
                     .replace("2024-03-04", "2024-03-05")
                     .replace("Sparse  Lanterns", "Sparse Lanterns, Revised"), encoding="utf-8")
    results = import_legacy(engine, [LANTERNS, later], NOW)
    assert [r.error for r in results] == [None, None]
    assert rendered(engine, date(2024, 3, 4)).encode() == LANTERNS.read_bytes()
    assert rendered(engine, date(2024, 3, 5)).encode() == later.read_bytes()


def test_a_bad_post_is_reported_and_the_others_go_in(engine, tmp_path):
    bad = tmp_path / "2024-03-07---Hot-Papers.md"
    bad.write_text(LANTERNS.read_text(encoding="utf-8").replace("2024-03-04", "2024-03-07")
                   .replace("favorites: 10 (", "favorites: ten ("), encoding="utf-8")
    results = import_legacy(engine, [bad, POSTS / "2024-03-06---Hot-Papers.md"], NOW)
    assert results[0].error.startswith(f"{bad}:56: expected '- retweets")
    assert results[1].error is None
    with engine.connect() as conn:
        stored = {row.id for row in conn.execute(select(papers.c.id))}
    assert stored == {"2403.02222"}  # nothing of the bad post, not even its first papers


# -- classic from live mentions ------------------------------------------------------

DAY = date(2024, 5, 6)
T1, T2 = datetime(2024, 5, 6, 12, tzinfo=UTC), datetime(2024, 5, 7, 12, tzinfo=UTC)


def tweet(native_id: str, paper_ids: list[str], *counts: tuple[datetime, int, int],
          source: str = "x", kind: str = "post") -> Mention:
    return Mention(source=source, native_id=native_id, paper_ids=paper_ids, kind=kind,
                   permalink=f"https://twitter.com/u{native_id}/status/{native_id}",
                   account=Account(source, f"u{native_id}", f"u{native_id}"),
                   observations=[Observation(at, likes=fav, reposts=rt)
                                 for at, rt, fav in counts])


def live_day(engine) -> None:
    with engine.begin() as conn:
        for pid, title in (("2405.00001", "Alpha"), ("2405.00002", "Beta"),
                           ("2405.00003", "Gamma"), ("2401.00009", "Old but revised")):
            save_paper(conn, Paper(id=pid, title=title, authors=["A B"], categories=["cs.LG"],
                                   abstract=f"About {title}.",
                                   abs_url=f"https://arxiv.org/abs/{pid}",
                                   pdf_url=f"https://arxiv.org/pdf/{pid}"), NOW)
        save_listing(conn, DAY, [("2405.00001", "new"), ("2405.00002", "new"),
                                 ("2405.00003", "cross"), ("2401.00009", "replace")])
        for mention in (
            tweet("1", ["2405.00001"], (T1, 20, 20), (T2, 200, 200)),
            tweet("2", ["2405.00001", "2405.00002"], (T1, 30, 30)),
            tweet("3", ["2405.00002"], (T1, 500, 0), kind="repost"),
            tweet("4", ["2405.00003"], (T1, 900, 900), source="bluesky"),
            tweet("5", ["2405.00003"], (T2, 100, 100)),
            tweet("7", ["2401.00009"], (T1, 5000, 5000)),  # a replacement: not of the day
        ):
            save_mention(conn, mention, NOW)


def test_classic_uses_the_last_observation_at_or_before_as_of(engine):
    live_day(engine)
    with engine.connect() as conn:
        early, shown = classic_ranking(conn, DAY, Settings(), T1 + timedelta(hours=1))
        late, _ = classic_ranking(conn, DAY, Settings(), T2)
    assert [(r.paper_id, r.score) for r in early.rows] == [("2405.00001", 100),
                                                           ("2405.00002", 60)]
    assert shown == {"2405.00001": [("x", "2"), ("x", "1")], "2405.00002": [("x", "2")]}
    assert [(r.paper_id, r.score) for r in late.rows] == [
        ("2405.00001", 460), ("2405.00003", 200), ("2405.00002", 60)]


def test_classic_counts_the_configured_sources(engine):
    live_day(engine)
    with engine.connect() as conn:
        ranking, _ = classic_ranking(conn, DAY, Settings(classic_sources=["bluesky"]), T2)
    assert [(r.paper_id, r.score) for r in ranking.rows] == [("2405.00003", 1800)]


def test_a_published_day_keeps_its_as_of_and_bytes(engine):
    live_day(engine)
    first = render_lumen(write_post(engine, DAY, Settings(), T1 + timedelta(hours=1),
                                    keep=True))
    with engine.begin() as conn:
        save_mention(conn, tweet("6", ["2405.00002"], (T2, 1000, 1000)), NOW)
    assert rendered(engine, DAY) == first
    assert "# 1. Alpha" in first and "# 3." not in first
    assert "- retweets: 50, favorites: 50 (05/06/2024 13:00:00)" in first
    assert '<blockquote class="twitter-tweet"><a href="https://twitter.com/u2/status/2">' in first


def test_a_day_with_no_listing_is_nothing_to_do(engine):
    import pytest

    from hotpapers.errors import NothingToDo

    with pytest.raises(NothingToDo), engine.connect() as conn:
        classic_ranking(conn, date(2024, 5, 11), Settings(), T2)


def test_corpus_through_one_database(engine, corpus_dir, seed_post):
    results = import_legacy(engine, [corpus_dir, seed_post], NOW)
    assert [r.error for r in results if r.error] == []
    assert len(results) == 127
    different = [r.path.name for r in results
                 if rendered(engine, r.day).encode() != Path(r.path).read_bytes()]
    assert different == []


def test_a_preview_does_not_publish_the_day(engine):
    live_day(engine)
    preview = render_lumen(write_post(engine, DAY, Settings(), T1 + timedelta(hours=1)))
    assert "- retweets: 50, favorites: 50" in preview
    assert "- retweets: 230, favorites: 230" in rendered(engine, DAY)  # counts as of T2...
    # ...since NOW is after T2 and nothing was kept by the preview


def test_classic_posts_can_show_other_sources(engine):
    live_day(engine)
    post = write_post(engine, DAY, Settings(classic_sources=["bluesky"]), T2, keep=True)
    assert [(m.source, m.native_id) for m in post.entries[0].shown] == [("bluesky", "4")]
    assert rendered(engine, DAY) == render_lumen(post)


def test_a_published_post_keeps_its_embeds_when_a_tweet_changes_later(engine, tmp_path):
    later = tmp_path / "2024-03-05---Hot-Papers.md"
    later.write_text(LANTERNS.read_text(encoding="utf-8").replace("2024-03-04", "2024-03-05")
                     .replace("&mdash; Ada Example (@ada_example)",
                              "&mdash; Ada Renamed (@ada_example)"), encoding="utf-8")
    import_legacy(engine, [LANTERNS, later], NOW)
    assert rendered(engine, date(2024, 3, 4)).encode() == LANTERNS.read_bytes()
    assert rendered(engine, date(2024, 3, 5)).encode() == later.read_bytes()


REFUSE = {  # a trigger refusing one paper, in each database's dialect
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON papers WHEN NEW.id = 'hep-th/9901001' "
               "BEGIN SELECT RAISE(ABORT, 'refused'); END"],
    "postgresql": ["CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.id = 'hep-th/9901001' THEN RAISE EXCEPTION 'refused'; END IF; "
                   "RETURN NEW; END $$",
                   "CREATE TRIGGER refuse BEFORE INSERT ON papers FOR EACH ROW "
                   "EXECUTE FUNCTION refuse()"],
}
UNREFUSE = {"sqlite": ["DROP TRIGGER refuse"],
            "postgresql": ["DROP TRIGGER refuse ON papers", "DROP FUNCTION refuse()"]}


def test_a_post_failing_halfway_through_storage_leaves_nothing(engine):
    """A database trigger refuses the post's third paper: the first two must not remain."""
    from sqlalchemy import text

    with engine.begin() as conn:
        for statement in REFUSE[engine.dialect.name]:
            conn.execute(text(statement))
    before = dump(engine)
    (result,) = import_legacy(engine, [LANTERNS], NOW)
    assert result.error is not None and "refused" in result.error
    assert dump(engine) == before
    with engine.begin() as conn:
        for statement in UNREFUSE[engine.dialect.name]:
            conn.execute(text(statement))
    (result,) = import_legacy(engine, [LANTERNS], NOW)
    assert result.error is None


# -- tweet embeds from oEmbed ------------------------------------------------------------

def oembed_html(native_id: str) -> str:
    return (f'<blockquote class="twitter-tweet"><p>tweet {native_id}</p></blockquote>\n'
            '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8">'
            '</script>\n')


def test_shown_tweets_get_their_oembed_once_and_it_is_cached(engine, httpserver):
    live_day(engine)
    httpserver.expect_request("/oembed", query_string={
        "url": "https://twitter.com/u1/status/1", "dnt": "true"}).respond_with_json(
        {"html": oembed_html("1")})
    for gone in ("2", "5"):
        httpserver.expect_request("/oembed", query_string={
            "url": f"https://twitter.com/u{gone}/status/{gone}", "dnt": "true"}
        ).respond_with_data("gone", status=404)
    settings = Settings(x_oembed_url=httpserver.url_for("/oembed"), source_interval=0,
                        http_retries=0)
    embed = TweetEmbeds(settings, clock=FakeClock()).embed
    post = write_post(engine, DAY, settings, T2, embed=embed)
    shown = {m.native_id: m.embed_html for e in post.entries for m in e.shown}
    assert shown["1"] == oembed_html("1")
    assert shown["2"].startswith('<blockquote class="twitter-tweet"><a href=')  # 404: bare
    with engine.connect() as conn:
        cached = load_embeds(conn, [("x", "1"), ("x", "2")])
    assert cached == {("x", "1"): ("https://twitter.com/u1/status/1", oembed_html("1")),
                      ("x", "2"): ("https://twitter.com/u2/status/2", None)}
    asked = len(httpserver.log)
    write_post(engine, DAY, settings, T2, embed=embed)
    assert len(httpserver.log) == asked + 2  # only the tweets without an embed are asked again


def test_an_oembed_failure_warns_once_and_leaves_bare_links(engine, httpserver):
    live_day(engine)
    httpserver.expect_request("/oembed").respond_with_data("down", status=500)
    settings = Settings(x_oembed_url=httpserver.url_for("/oembed"), source_interval=0,
                        http_retries=0)
    warnings: list[str] = []
    post = write_post(engine, DAY, settings, T2,
                      embed=TweetEmbeds(settings, clock=FakeClock()).embed,
                      warn=warnings.append)
    assert len(httpserver.log) == 1 and len(warnings) == 1
    assert "HTTP 500" in warnings[0]
    assert all(m.embed_html.startswith('<blockquote class="twitter-tweet"><a href=')
               for e in post.entries for m in e.shown)


def test_a_tweet_deleted_after_publishing_leaves_the_post(engine):
    live_day(engine)
    before = render_lumen(write_post(engine, DAY, Settings(), T2, keep=True))
    with engine.begin() as conn:
        assert mark_deleted(conn, "x", ["1"], T2) == 1
    after = rendered(engine, DAY)
    assert "https://twitter.com/u1/status/1" in before
    assert "https://twitter.com/u1/status/1" not in after
    assert "https://twitter.com/u2/status/2" in after
    assert "- retweets: 230, favorites: 230" in after  # the totals stay as published
