"""`load_site_data`: the bulk plain-SQL read of the site equals the SQLAlchemy loaders, value
for value and type for type, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from conftest import FIXTURES, sqlite_only
from hotpapers.config import Settings
from hotpapers.jobs.demo import SYNTHETIC_DAY, demo_snapshot, synthetic_snapshot
from hotpapers.jobs.legacy import import_legacy
from hotpapers.jobs.post import write_post
from hotpapers.jobs.snapshot import import_records, read_snapshot
from hotpapers.models import (
    Account,
    Mention,
    Observation,
    Paper,
    Post,
    PostEntry,
    ShownMention,
    Version,
)
from hotpapers.store import papers as store_papers
from hotpapers.store.mentions import load_mentions, mark_deleted, mention_ids, save_mention
from hotpapers.store.papers import load_attention, save_attention, save_paper
from hotpapers.store.posts import load_post, save_post
from hotpapers.store.schema import posts as posts_table
from hotpapers.store.site_data import SCALARS, SiteData, load_site_data

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
DAY, OTHER_DAY, EMPTY_DAY = date(2024, 3, 12), date(2024, 3, 13), date(2024, 3, 14)
PLUS5 = timezone(timedelta(hours=5, minutes=30))
HOSTILE = ('<script>alert(1)</script> "><img src=x onerror=alert(1)> {{ 7*7 }} \'; DROP '
           "TABLE papers; -- %s ? \\ \u05e9\u05dc\u05d5\u05dd \u202eevil\u202c 🔥📄")
SHOWN, NO_MENTIONS, PINNED, OTHER_FORMAT = "2403.99001", "2403.99002", "2403.99003", "2403.99004"
BLUESKY = "at://did:plc:z/app.bsky.feed.post/1"


@dataclasses.dataclass
class Store:
    connection: Any
    placeholder: str
    dialect: str


@contextmanager
def raw_store(engine, plain: bool = False):
    """The engine's database as a DB-API store: from the engine's pool, or `plain` from the
    driver itself (PostgreSQL then in a session zone other than UTC)."""
    if plain and engine.dialect.name == "sqlite":
        connection = sqlite3.connect(engine.url.database)
    elif plain:
        psycopg = pytest.importorskip("psycopg")
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = psycopg.connect(url, options="-c TimeZone=Asia/Kolkata")
    else:
        connection = engine.raw_connection()
    try:
        yield Store(connection, "?" if engine.dialect.name == "sqlite" else "%s",
                    engine.dialect.name)
    finally:
        connection.close()


def expected(engine, fmt: str = "lumen") -> SiteData:
    """What the SQLAlchemy loaders give: each day's post newest first, and the mentions and
    totals of the papers shown, grouped by paper."""
    with engine.connect() as conn:
        days = conn.execute(select(posts_table.c.day).where(posts_table.c.format == fmt)
                            .order_by(posts_table.c.day.desc())).scalars().all()
        posts = [load_post(conn, day, fmt) for day in days]
        ids = list(dict.fromkeys(e.paper.id for p in posts for e in p.entries))
        mentions: dict[str, list[Mention]] = {}
        for mention in load_mentions(conn, ids):
            for paper_id in mention.paper_ids:
                if paper_id in ids:
                    mentions.setdefault(paper_id, []).append(mention)
        totals: dict[str, list[dict]] = {}
        for row in load_attention(conn, ids):
            totals.setdefault(row["paper_id"], []).append(row)
    return SiteData(posts, mentions, totals)


def assert_same(got: SiteData, want: SiteData) -> None:
    """Equal, and equal in repr too: 1 is not True, and every time is in datetime.UTC."""
    assert got.posts == want.posts
    assert got.mentions == want.mentions
    assert got.totals == want.totals
    assert repr(got.posts) == repr(want.posts)
    for name in ("mentions", "totals"):
        assert repr(sorted(getattr(got, name).items())) == \
            repr(sorted(getattr(want, name).items()))
    for value in walk(got):
        if isinstance(value, datetime):
            assert value.tzinfo is UTC, value


def walk(value: Any):
    yield value
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from walk(item)


class Counting:
    """A DB-API connection that counts the statements run through it."""

    def __init__(self, connection):
        self.connection, self.statements = connection, 0

    def __getattr__(self, name):  # rollback, in_transaction, ...
        return getattr(self.connection, name)

    def cursor(self):
        cursor, outer = self.connection.cursor(), self

        class Cursor:
            def execute(self, sql, params=()):
                outer.statements += 1
                return cursor.execute(sql, params)

            def __getattr__(self, name):
                return getattr(cursor, name)

        return Cursor()


def tweet(native_id: str, paper_ids: list[str], **kw) -> Mention:
    return Mention(source="x", native_id=native_id, paper_ids=paper_ids,
                   permalink=f"https://twitter.com/u/status/{native_id}", **kw)


def fill(engine) -> None:
    """The bundled demo day, the synthetic day ranked and kept, the legacy fixture posts, and
    a hand-made day with hostile strings, pinned papers and a deleted mention."""
    with engine.begin() as conn:
        import_records(conn, read_snapshot(demo_snapshot()), NOW)
        import_records(conn, read_snapshot(synthetic_snapshot()), NOW)
    write_post(engine, SYNTHETIC_DAY, Settings(), datetime(2026, 1, 7, 21, tzinfo=UTC),
               keep=True)
    results = import_legacy(engine, sorted((FIXTURES / "posts").glob("*.md")), NOW)
    assert [r.error for r in results] == [None, None, None]

    stored = Paper(
        id=SHOWN, title=HOSTILE, authors=["Zed Last", HOSTILE, "Amy First"],
        categories=["math.OC", "cs.LG", "cs.AI"], abstract=f"{HOSTILE}\n\n  indented",
        abs_url=f"https://arxiv.org/abs/{SHOWN}", pdf_url=None, latest_version=3,
        comments=HOSTILE, journal_ref="J. Toy 1 (2024)", doi="10.1/x",
        submitted_at=datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC),
        updated_at=datetime(2024, 3, 9, 1, 2, 3, tzinfo=PLUS5), announced_on=date(2024, 3, 4),
        withdrawn=True,
        versions=[Version(3, datetime(2024, 3, 9, tzinfo=UTC), "2MB"), Version(1, None, "zz"),
                  Version(2, datetime(2024, 3, 5, 0, 0, 0, 1, tzinfo=PLUS5))])
    others = [Paper(id=NO_MENTIONS, title="Quiet", categories=["cs.CL"]),
              Paper(id=PINNED, title="Stored title", authors=["A"], categories=["cs.CV"]),
              Paper(id=OTHER_FORMAT, title="Elsewhere")]
    observed = [Observation(NOW + timedelta(hours=5), likes=9, reposts=2, via="stream"),
                Observation(NOW + timedelta(microseconds=7), likes=1, quotes=0, points=None),
                Observation(NOW - timedelta(days=1), replies=3)]
    mentions = [
        tweet("901", [SHOWN, OTHER_FORMAT, "2403.77777"], text=HOSTILE, embed_html=HOSTILE,
              account=Account("x", "u901", HOSTILE, None, datetime(2010, 1, 1, tzinfo=PLUS5)),
              created_at=NOW, kind="quote", parent_native_id="42", observations=observed),
        Mention(source="bluesky", native_id=BLUESKY, paper_ids=[SHOWN]),
        tweet("903", [SHOWN], account=Account("x", "@gone"), observations=observed[:1]),
        Mention(source="hn", native_id="904", paper_ids=[OTHER_FORMAT], kind="story"),
        tweet("905", [PINNED, "2403.88888"], created_at=NOW.astimezone(PLUS5)),
    ]
    with engine.begin() as conn:
        for paper in [stored, *others]:
            save_paper(conn, paper, NOW)
        for mention in mentions:
            save_mention(conn, mention, NOW)
        for paper_id, source, hours in ((SHOWN, "x", 3), (SHOWN, "legacy", 1), (SHOWN, "x", -2),
                                        (OTHER_FORMAT, "x", 0), (PINNED, "hn", 0)):
            save_attention(conn, paper_id, source, NOW + timedelta(hours=hours), likes=hours,
                           mentions=2)
        ids = mention_ids(conn, [(m.source, m.native_id) for m in mentions])
        shown = [ShownMention("903", HOSTILE, None), ShownMention("901", None, HOSTILE),
                 ShownMention(BLUESKY, None, "https://bsky.app/x", "bluesky")]
        hand_made = Post(day=DAY, generated_at=datetime(2024, 3, 12, 23, 59, 59, 999999,
                                                        tzinfo=PLUS5),
                         layout={"title": HOSTILE, "blank": [1, None, {"k": "\u202e"}]},
                         entries=[
            PostEntry(stored, 5, 7, NOW, shown),
            PostEntry(others[0], 0, 0, NOW + timedelta(seconds=1)),
            PostEntry(dataclasses.replace(others[1], title=HOSTILE, authors=["B", "A"]),
                      1, 2, NOW.astimezone(PLUS5)),
            PostEntry(stored, 5, 7, NOW, shown[1:]),  # the same paper twice
        ])
        save_post(conn, hand_made, "lumen", ids)
        save_post(conn, Post(day=OTHER_DAY, generated_at=NOW, entries=[
            PostEntry(others[2], 1, 1, NOW), PostEntry(stored, 0, 0, NOW)]), "markdown", ids)
        save_post(conn, Post(day=EMPTY_DAY, generated_at=NOW, layout=None), "lumen", ids)
        # Changed since published: the posts keep what they showed, the mention is gone.
        save_paper(conn, dataclasses.replace(stored, title="Renamed", versions=[]), NOW)
        assert mark_deleted(conn, "x", ["903"], NOW) == 1


@pytest.fixture
def filled(engine):
    fill(engine)
    return engine


@pytest.mark.parametrize("plain", [False, True], ids=["pooled", "plain"])
def test_equals_the_sqlalchemy_loaders(filled, plain):
    want = expected(filled)
    with raw_store(filled, plain) as store:
        got = load_site_data(store)
    assert_same(got, want)

    # The store is as rich as meant to be.
    days = [p.day for p in got.posts]
    assert days == sorted(days, reverse=True) and len(days) == 7
    by_day = {p.day: p for p in got.posts}
    assert by_day[EMPTY_DAY].entries == [] and by_day[EMPTY_DAY].layout == {}
    entries = by_day[DAY].entries
    assert entries[0].paper.authors == ["Zed Last", HOSTILE, "Amy First"]
    assert entries[0].paper.withdrawn is True
    assert [v.number for v in entries[0].paper.versions] == [1, 2, 3]
    assert [m.native_id for m in entries[0].shown] == ["901", BLUESKY]
    assert entries[2].paper.title == HOSTILE and entries[2].paper.authors == ["B", "A"]
    assert NO_MENTIONS not in got.mentions and NO_MENTIONS not in got.totals
    assert OTHER_FORMAT not in got.mentions and OTHER_FORMAT not in got.totals
    assert "903" not in {m.native_id for ms in got.mentions.values() for m in ms}
    first = got.mentions[SHOWN][0]
    assert first.paper_ids == sorted(first.paper_ids) and len(first.observations) == 3
    assert [o.observed_at for o in first.observations] == \
        sorted(o.observed_at for o in first.observations)
    assert [(r["source"], r["likes"]) for r in got.totals[SHOWN]] == \
        [("legacy", 1), ("x", -2), ("x", 3)]
    assert by_day[SYNTHETIC_DAY].entries[0].shown
    assert any(v.versions for p in got.posts for e in p.entries for v in [e.paper])


def test_other_formats_and_a_constant_number_of_statements(filled):
    with raw_store(filled) as store:
        store.connection = counting = Counting(store.connection)
        other = load_site_data(store, "markdown")
        once = counting.statements
        lumen = load_site_data(store)
        assert counting.statements == 2 * once
    assert_same(other, expected(filled, "markdown"))
    assert [p.day for p in other.posts] == [OTHER_DAY]
    assert set(other.totals) == {SHOWN, OTHER_FORMAT} and OTHER_FORMAT in other.mentions
    assert len(lumen.posts) > len(other.posts)


def test_an_empty_store(engine):
    with raw_store(engine) as store:
        assert load_site_data(store) == SiteData([], {}, {})


@sqlite_only("times are text there; PostgreSQL columns are typed timestamps")
def test_every_time_text_sqlalchemy_reads(filled):
    """Times written by other tools: without fractions or seconds, with a 'T', with a zone."""
    conn = sqlite3.connect(filled.url.database)
    with conn:
        conn.execute("UPDATE posts SET generated_at = '2024-03-12T14:00:00.5+02:00' "
                     "WHERE day = ?", (DAY.isoformat(),))
        conn.execute("UPDATE post_entries SET written_at = '2024-03-12 12:00'")
        conn.execute("UPDATE observations SET observed_at = replace(observed_at, '.000000', '')")
        conn.execute("UPDATE paper_attention SET observed_at = "
                     "replace(observed_at, ' ', 'T') || '+00:00'")
        conn.execute("UPDATE papers SET submitted_at = NULL, updated_at = '2024-03-09'")
    conn.close()
    with raw_store(filled, plain=True) as store:
        got = load_site_data(store)
    assert_same(got, expected(filled))
    generated = next(p for p in got.posts if p.day == DAY).generated_at
    assert generated == datetime(2024, 3, 12, 12, 0, 0, 500000, tzinfo=UTC)


def test_no_sqlalchemy_and_the_same_paper_fields():
    assert SCALARS == store_papers.SCALARS
    code = "import sys, hotpapers.store.site_data; assert 'sqlalchemy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
