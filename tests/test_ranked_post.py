"""Hot and trending posts: after `hotpapers demo`, `post --method hot` lists the papers of
`rank --method hot` in its order, with its per-source summaries and mentions from several
sources (X as embeds in lumen, cards elsewhere); a published hot day renders the same
bytes later; the seed day stays classic and byte-identical."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import yaml
from werkzeug import Request, Response

from conftest import shared_path
from hotpapers.config import Settings
from hotpapers.jobs.demo import SYNTHETIC_DAY
from hotpapers.jobs.digest import make_digest
from hotpapers.jobs.post import render_post
from hotpapers.jobs.ranked_post import make_ranked_post, post_method
from hotpapers.jobs.ranking import Method
from hotpapers.models import Account, Mention, Observation
from hotpapers.store.db import connect
from hotpapers.store.mentions import load_mentions, mark_deleted, save_mention
from hotpapers.store.posts import load_ranking

DAY = SYNTHETIC_DAY.isoformat()
LABELS = {"X": "x", "Bluesky": "bluesky", "Mastodon": "mastodon", "Hacker News": "hn",
          "Reddit": "reddit", "Hugging Face": "hf"}
CARD_BYLINE = re.compile(r"^> (?:.* )?on (X|Bluesky|Mastodon|Hacker News|Reddit|Hugging Face)"
                         r"(?:, \d{4}-\d\d-\d\d)?$", re.M)


@pytest.fixture
def oembed(httpserver):
    """X's oEmbed endpoint on loopback: a blockquote naming the asked URL."""
    def answer(request: Request) -> Response:
        url = request.args["url"]
        html = (f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Embedded '
                f'{url.rsplit("/", 1)[-1]}</p>&mdash; Someone (@someone) <a href="{url}">'
                f'January 5, 2026</a></blockquote>\n')
        return Response(json.dumps({"html": html}), content_type="application/json")

    httpserver.expect_request("/oembed").respond_with_handler(answer)
    return httpserver


@pytest.fixture
def demo_store(cli, tmp_path, monkeypatch, oembed):
    """The store `hotpapers demo` leaves, as the default (SQLite) database of the CLI."""
    assert cli("-q", "demo", "--out", tmp_path / "demo").code == 0
    db = tmp_path / "demo" / "hotpapers.sqlite3"
    monkeypatch.setenv("HOTPAPERS_DB", f"sqlite:///{db}")
    monkeypatch.setenv("HOTPAPERS_X_OEMBED_URL", oembed.url_for("/oembed"))
    monkeypatch.setenv("HOTPAPERS_SOURCE_INTERVAL", "0")  # no real pacing between embeds
    return db


def ranked_ids(cli, method: str) -> list[str]:
    result = cli("rank", "--date", DAY, "--method", method, "--json")
    assert result.code == 0, result.err
    return [row["id"] for row in json.loads(result.out)["papers"]]


def front_matter(text: str) -> dict:
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.parametrize("method", ["hot", "trending"])
def test_the_post_lists_the_ranking_in_order(cli, demo_store, method):
    ranked = ranked_ids(cli, method)
    assert len(ranked) >= 5
    hugo = cli("post", "--date", DAY, "--method", method, "--format", "hugo")
    assert hugo.code == 0, hugo.err
    assert [p["id"] for p in front_matter(hugo.out)["papers"]] == ranked
    lumen = cli("post", "--date", DAY, "--method", method)
    headings = re.findall(r"^# (\d+)\. ", lumen.out, re.M)
    assert headings == [str(n) for n in range(1, len(ranked) + 1)]
    for n, paper in enumerate(ranked, start=1):  # each block links its own paper
        block = lumen.out.split(f"\n# {n}. ")[1].split("\n# ")[0]
        assert f"(https://arxiv.org/abs/{paper})" in block
        assert re.search(rf"^- {method} score [\d.e+-]+: \d+ pe(?:rson|ople) on \d+ sources?",
                         block, re.M)


def test_a_hot_post_shows_mentions_from_several_sources(cli, demo_store, oembed):
    lumen = cli("post", "--date", DAY, "--method", "hot").out
    first = lumen.split("\n# 1. ")[1].split("\n# 2. ")[0]
    summaries = re.findall(r"^- (X|Bluesky|Mastodon|Hacker News|Reddit|Hugging Face): "
                           r"(\d+) pe(?:rson|ople), (\d+) posts?", first, re.M)
    carded = {LABELS[name] for name in CARD_BYLINE.findall(first)}
    embedded = first.count('<blockquote class="twitter-tweet">')
    assert embedded and "x" not in carded  # X as the original's embeds, fetched (oEmbed)
    assert "Embedded " in first and oembed.log
    assert len(carded | {"x"}) >= 3
    assert {LABELS[s[0]] for s in summaries} >= carded
    hugo = cli("post", "--date", DAY, "--method", "hot", "--format", "hugo").out
    assert "<blockquote" not in hugo and "<script" not in hugo  # safe defaults keep it all
    hugo_first = hugo.split("\n## 1. ")[1].split("\n## 2. ")[0]
    hugo_carded = {LABELS[name] for name in CARD_BYLINE.findall(hugo_first)}
    assert hugo_carded == carded | {"x"}  # X as cards too: the stored text and author
    assert re.search(r"^> \*\*Synthetic User \d+\*\* @synthetic\\_user\\_\d+ on X, 2026-",
                     hugo_first, re.M)
    assert "Embedded " not in hugo_first


def test_the_seed_day_stays_classic_and_byte_identical(cli, demo_store):
    seed = shared_path("seed", "000_10bfd103cf2760b6.txt")
    assert cli("post", "--date", "2021-01-18").out == seed.read_text(encoding="utf-8")
    hot = cli("post", "--date", "2021-01-18", "--method", "hot")
    assert hot.code == 0 and hot.out != seed.read_text(encoding="utf-8")


def test_a_published_hot_day_renders_the_same_bytes_later(cli, demo_store):
    settings = Settings(x_oembed_url="")
    published_at = datetime(2026, 1, 8, 12, tzinfo=UTC)  # after the synthetic day's data
    engine = connect(f"sqlite:///{demo_store}", create=False)
    try:
        made = make_ranked_post(engine, SYNTHETIC_DAY, Method.hot, settings, published_at,
                                keep=True)
        published = render_post(made.post, "lumen", settings).text
        with engine.connect() as conn:
            stored = load_ranking(conn, SYNTHETIC_DAY, "hot")
        assert made.kept and stored.as_of == published_at
        last = stored.rows[-1].paper_id  # attention after publishing lifts the last paper
        late = datetime(2026, 2, 1, tzinfo=UTC)
        with engine.begin() as conn:
            for i in range(40):
                save_mention(conn, Mention(
                    "hn", f"late-{i}", [last], f"https://news.ycombinator.com/item?id={i}",
                    Account("hn", f"late{i}", f"late{i}"), "Late story", late,
                    observations=[Observation(late, points=900)]), late)
            # what a re-fetch learns later: a shown author renamed, a shown text edited,
            # an unshown post of the top paper deleted
            shown = made.post.entries[0].shown[0]
            conn.exec_driver_sql("UPDATE accounts SET name = 'Renamed' WHERE id = (SELECT "
                                 "account_id FROM mentions WHERE source = ? AND native_id = ?)",
                                 shown.key)
            conn.exec_driver_sql("UPDATE mentions SET text = 'Edited' WHERE source = ? AND "
                                 "native_id = ?", shown.key)
            top = made.post.entries[0].paper.id
            keys = {m.key for m in made.post.entries[0].shown}
            unshown = next(m for m in load_mentions(conn, [top])
                           if top in m.paper_ids and (m.source, m.native_id) not in keys
                           and m.source == "x")
            mark_deleted(conn, "x", [unshown.native_id], late)
        again = make_ranked_post(engine, SYNTHETIC_DAY, Method.hot, settings,
                                 datetime(2026, 3, 1, tzinfo=UTC), keep=True)
    finally:
        engine.dispose()
    live = ranked_ids(cli, "hot")
    assert live.index(last) < len(stored.rows) - 1  # the live ranking moved...
    assert not again.kept and render_post(again.post, "lumen", settings).text == published
    assert cli("post", "--date", DAY).out == published  # ...the published post did not
    assert "Late story" not in published and "Renamed" not in published
    assert "Edited" not in published


def test_the_default_method_is_the_one_a_day_was_published_by(cli, demo_store):
    """daily_method (hot) for a new day; classic for a day published by classic only (the
    seed day, imported); hot once the day's hot post is published."""
    settings = Settings(x_oembed_url="")
    seed_day = SYNTHETIC_DAY.replace(year=2021, month=1, day=18)
    engine = connect(f"sqlite:///{demo_store}", create=False)
    try:
        assert post_method(engine, SYNTHETIC_DAY, settings) is Method.hot
        assert post_method(engine, seed_day, settings) is Method.classic
        seed = make_digest(engine, seed_day, settings, datetime(2026, 2, 1, tzinfo=UTC),
                           keep=False)
        assert seed.method == "classic" and len(seed.papers) == 8
        assert seed.papers[0].summary.startswith("retweets: ")
        make_ranked_post(engine, seed_day, Method.hot, settings,
                         datetime(2026, 2, 1, tzinfo=UTC), keep=True)
        assert post_method(engine, seed_day, settings) is Method.hot
        assert post_method(engine, seed_day, Settings(daily_method="classic")) is Method.classic
        assert post_method(engine, seed_day, Settings(daily_method="trending")) is Method.hot
    finally:
        engine.dispose()


def test_a_damaged_stored_ranking_is_one_line(cli, demo_store, tmp_path):
    assert cli("post", "--date", DAY, "--method", "hot", "--out", tmp_path / "p.md").code == 0
    engine = connect(f"sqlite:///{demo_store}", create=False)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE ranking_entries SET parts = '{\"sources\": 5}' "
                                 "WHERE position = 2 AND ranking_id = (SELECT id FROM rankings "
                                 "WHERE method = 'hot' AND \"window\" = 'day')")
    finally:
        engine.dispose()
    result = cli("post", "--date", DAY, "--method", "hot")
    assert result.code == 1 and result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert result.err.startswith(f"hotpapers: error: the stored hot ranking of {DAY}, paper ")


def test_a_stored_ranking_without_its_post_is_the_published_one(cli, demo_store):
    """E.g. a ranking kept by an older run or a snapshot: the post is made from it, with the
    best mentions, and nothing is stored again."""
    settings = Settings(x_oembed_url="")
    engine = connect(f"sqlite:///{demo_store}", create=False)
    try:
        first = make_ranked_post(engine, SYNTHETIC_DAY, Method.hot, settings,
                                 datetime(2026, 1, 8, tzinfo=UTC), keep=True)
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM posts WHERE format = 'hot'")
        again = make_ranked_post(engine, SYNTHETIC_DAY, Method.hot, settings,
                                 datetime(2026, 3, 1, tzinfo=UTC), keep=True)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM posts WHERE format = 'hot'"
                                        ).scalar() == 0
    finally:
        engine.dispose()
    assert first.kept and not again.kept
    assert render_post(again.post, "lumen", settings) == render_post(first.post, "lumen",
                                                                     settings)
