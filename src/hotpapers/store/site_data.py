"""Everything the static site reads from the store, in a fixed number of plain SQL queries over
a DB-API connection (no SQLAlchemy), equal to what the store's loaders give one post at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime
from typing import Any

from hotpapers.models import (
    Account,
    Mention,
    Observation,
    Paper,
    Post,
    PostEntry,
    ShownMention,
    SiteData,
    Version,
    WindowEntry,
    WindowRanking,
)
from hotpapers.store.columns import SCALARS

__all__ = ["SiteData", "load_site_data"]

_COUNTS = ("likes", "reposts", "quotes", "replies", "points")
_ATTENTION = ("paper_id", "source", "observed_at", "likes", "reposts", "quotes", "replies",
              "points", "mentions")

# The papers the posts of the format show, and the mentions naming them.
_SHOWN = ("SELECT e.paper_id FROM post_entries e JOIN posts p ON p.id = e.post_id "
          "WHERE p.format = {0}")
_LINKED = f"SELECT mention_id FROM mention_papers WHERE paper_id IN ({_SHOWN})"


def _utc(value: Any) -> datetime | None:
    """A UtcDateTime column as SQLAlchemy reads it: SQLite keeps ISO text without a zone."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _json(value: Any) -> Any:
    # The JSON columns read here hold objects or null, so text is always JSON not yet parsed
    # (SQLite); psycopg parses it itself. A stored JSON 'null' reads as None.
    return json.loads(value) if isinstance(value, str | bytes) else value


@contextmanager
def _snapshot(store: Any) -> Iterator[Any]:
    """A cursor reading in one transaction, so that every query sees the same store even
    while a daily run writes (SQLite's WAL and PostgreSQL's repeatable read allow that)."""
    with closing(store.connection.cursor()) as cursor:
        if store.dialect == "postgresql":  # psycopg opens the transaction itself
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        elif not getattr(store.connection, "in_transaction", False):
            cursor.execute("BEGIN")
        try:
            yield cursor
        finally:
            store.connection.rollback()


def load_site_data(store: Any, fmt: str = "lumen") -> SiteData:
    """Every post of format `fmt`, and the live mentions and paper-level totals of the papers
    they show. `store` has a DB-API `connection`, its `placeholder` and its `dialect`."""
    with _snapshot(store) as cursor:
        rows = {}
        for name, sql in _queries(store.placeholder).items():
            cursor.execute(sql, (fmt,))
            rows[name] = cursor.fetchall()
        for name, sql in _WINDOW_QUERIES.items():
            cursor.execute(sql)
            rows[name] = cursor.fetchall()
    papers = _paper_fields(rows["papers"], rows["authors"], rows["categories"],
                           rows["versions"])
    posts = _posts(rows["posts"], rows["entries"], _shown(rows["shown"]),
                   lambda paper_id, pinned: _paper(papers[paper_id], paper_id, pinned))
    mentions = _mentions(rows["mentions"], rows["links"], rows["observations"])
    return SiteData(posts, _by_paper(mentions, papers), _totals(rows["attention"]),
                    _windows(rows))


# The newest day's week and month rankings (hot, trending), their entries and papers.
_NEWEST_WINDOWS = (
    'SELECT r.id FROM rankings r WHERE r."window" IN (\'week\', \'month\') AND r.day = '
    '(SELECT max(n.day) FROM rankings n WHERE n."window" = r."window" AND n.method = r.method)')
_WINDOW_PAPERS = f"SELECT paper_id FROM ranking_entries WHERE ranking_id IN ({_NEWEST_WINDOWS})"
_WINDOW_QUERIES = {
    "w_heads": 'SELECT id, "window", method, day, as_of, settings FROM rankings '
               f"WHERE id IN ({_NEWEST_WINDOWS}) ORDER BY \"window\" DESC, method",
    "w_entries": "SELECT ranking_id, paper_id, score, parts FROM ranking_entries "
                 f"WHERE ranking_id IN ({_NEWEST_WINDOWS}) ORDER BY ranking_id, position",
    "w_papers": f"SELECT id, {', '.join(SCALARS)} FROM papers WHERE id IN ({_WINDOW_PAPERS})",
    "w_authors": "SELECT paper_id, name FROM paper_authors "
                 f"WHERE paper_id IN ({_WINDOW_PAPERS}) ORDER BY paper_id, position",
    "w_categories": "SELECT paper_id, category FROM paper_categories "
                    f"WHERE paper_id IN ({_WINDOW_PAPERS}) ORDER BY paper_id, position",
    "w_versions": "SELECT paper_id, version, submitted_at, size FROM paper_versions "
                  f"WHERE paper_id IN ({_WINDOW_PAPERS}) ORDER BY paper_id, version",
}


def _windows(rows: dict[str, list[tuple]]) -> list[WindowRanking]:
    """The newest week and month rankings, week first, hot before trending."""
    papers = _paper_fields(rows["w_papers"], rows["w_authors"], rows["w_categories"],
                           rows["w_versions"])
    heads = {}
    for ranking_id, window, method, day, as_of, settings in rows["w_heads"]:
        start = (_json(settings) or {}).get("from")
        heads[ranking_id] = WindowRanking(window, method, _date(day),
                                          date.fromisoformat(start) if start else None,
                                          _utc(as_of))
    for ranking_id, paper_id, score, parts in rows["w_entries"]:
        heads[ranking_id].entries.append(
            WindowEntry(_paper(papers[paper_id], paper_id, None), score, _json(parts) or {}))
    return list(heads.values())


def _queries(ph: str) -> dict[str, str]:
    """The queries the site reads, by what they read; each takes the format as its one
    parameter (`ph` is the driver's placeholder)."""
    shown, linked = _SHOWN.format(ph), _LINKED.format(ph)
    return {
        "posts": f"SELECT id, day, generated_at, layout FROM posts WHERE format = {ph} "
                 "ORDER BY day DESC",
        "entries": "SELECT e.post_id, e.position, e.paper_id, e.written_at, e.paper_shown, "
                   "e.reposts, e.likes FROM post_entries e JOIN posts p ON p.id = e.post_id "
                   f"WHERE p.format = {ph} ORDER BY e.post_id, e.position",
        "shown": "SELECT pm.post_id, pm.position, m.source, m.native_id, pm.embed_html, "
                 "pm.permalink FROM post_entry_mentions pm JOIN posts p ON p.id = pm.post_id "
                 "JOIN mentions m ON m.id = pm.mention_id "
                 f"WHERE p.format = {ph} AND m.deleted_at IS NULL "
                 "ORDER BY pm.post_id, pm.position, pm.rank",
        "papers": f"SELECT id, {', '.join(SCALARS)} FROM papers WHERE id IN ({shown})",
        "authors": f"SELECT paper_id, name FROM paper_authors WHERE paper_id IN ({shown}) "
                   "ORDER BY paper_id, position",
        "categories": f"SELECT paper_id, category FROM paper_categories "
                      f"WHERE paper_id IN ({shown}) ORDER BY paper_id, position",
        "versions": "SELECT paper_id, version, submitted_at, size FROM paper_versions "
                    f"WHERE paper_id IN ({shown}) ORDER BY paper_id, version",
        "mentions": "SELECT m.id, m.source, m.native_id, m.permalink, m.text, m.created_at, "
                    "m.kind, m.embed_html, m.parent_native_id, a.source, a.native_id, "
                    "a.handle, a.name, a.created_at FROM mentions m "
                    "LEFT JOIN accounts a ON a.id = m.account_id "
                    f"WHERE m.deleted_at IS NULL AND m.id IN ({linked}) ORDER BY m.id",
        "links": f"SELECT mention_id, paper_id FROM mention_papers "
                 f"WHERE mention_id IN ({linked}) ORDER BY mention_id, paper_id",
        "observations": f"SELECT mention_id, observed_at, {', '.join(_COUNTS)}, via "
                        f"FROM observations WHERE mention_id IN ({linked}) "
                        "ORDER BY mention_id, observed_at",
        "attention": f"SELECT {', '.join(_ATTENTION)} FROM paper_attention "
                     f"WHERE paper_id IN ({shown}) ORDER BY paper_id, source, observed_at",
    }


def _paper_fields(rows: list[tuple], authors: list[tuple], categories: list[tuple],
                  versions: list[tuple]) -> dict[str, dict]:
    """Each shown paper's fields, by id, as Paper takes them (versions as tuples)."""
    papers: dict[str, dict] = {}
    for paper_id, *values in rows:
        fields = dict(zip(SCALARS, values, strict=True))
        fields.update(submitted_at=_utc(fields["submitted_at"]),
                      updated_at=_utc(fields["updated_at"]),
                      announced_on=_date(fields["announced_on"]),
                      withdrawn=bool(fields["withdrawn"]), authors=[], categories=[], versions=[])
        papers[paper_id] = fields
    for name, pairs in (("authors", authors), ("categories", categories)):
        for paper_id, value in pairs:
            papers[paper_id][name].append(value)
    for paper_id, number, submitted_at, size in versions:
        papers[paper_id]["versions"].append((number, _utc(submitted_at), size))
    return papers


def _paper(fields: dict, paper_id: str, pinned: Any) -> Paper:
    """A new one for every entry, as load_post reads each post's papers afresh."""
    return Paper(id=paper_id, **{
        **fields, "authors": list(fields["authors"]), "categories": list(fields["categories"]),
        "versions": [Version(*v) for v in fields["versions"]], **(_json(pinned) or {})})


def _shown(rows: list[tuple]) -> dict[tuple[int, int], list[ShownMention]]:
    """The mentions each post entry showed, by (post id, position)."""
    shown: dict[tuple[int, int], list[ShownMention]] = {}
    for post_id, position, source, native_id, embed_html, permalink in rows:
        shown.setdefault((post_id, position), []).append(
            ShownMention(native_id, embed_html, permalink, source))
    return shown


def _posts(heads: list[tuple], entries: list[tuple],
           shown: dict[tuple[int, int], list[ShownMention]],
           paper_of: Callable[[str, Any], Paper]) -> list[Post]:
    """The posts, newest day first, with their entries; `paper_of(id, pinned)` makes each
    entry's paper."""
    posts = {post_id: Post(day=_date(day), generated_at=_utc(generated_at),
                           layout=_json(layout) or {})
             for post_id, day, generated_at, layout in heads}
    times: dict[Any, datetime | None] = {}  # a post's entries were mostly written at once
    for post_id, position, paper_id, written_at, pinned, reposts, likes in entries:
        when = times.get(written_at, times)
        if when is times:
            when = times[written_at] = _utc(written_at)
        posts[post_id].entries.append(PostEntry(
            paper_of(paper_id, pinned), reposts, likes, when,
            shown.get((post_id, position), [])))
    return list(posts.values())


def _mentions(rows: list[tuple], links: list[tuple], observed: list[tuple]
              ) -> dict[int, Mention]:
    """The live mentions, by row id, with the papers they name and their observations."""
    by_id: dict[int, Mention] = {}
    for (mention_id, source, native_id, permalink, text, created_at, kind, embed_html,
         parent_native_id, a_source, a_id, handle, name, a_created) in rows:
        account = (Account(a_source, a_id, handle, name, _utc(a_created))
                   if a_id is not None else None)
        by_id[mention_id] = Mention(
            source=source, native_id=native_id, paper_ids=[], permalink=permalink,
            account=account, text=text, created_at=_utc(created_at), kind=kind,
            embed_html=embed_html, parent_native_id=parent_native_id)
    for mention_id, paper_id in links:
        if mention_id in by_id:  # not deleted
            by_id[mention_id].paper_ids.append(paper_id)
    for mention_id, observed_at, *counts, via in observed:
        if mention_id in by_id:
            by_id[mention_id].observations.append(
                Observation(_utc(observed_at), *counts, via=via))
    return by_id


def _by_paper(by_id: dict[int, Mention], papers: dict[str, dict]) -> dict[str, list[Mention]]:
    mentions: dict[str, list[Mention]] = {}
    for mention in by_id.values():
        for paper_id in mention.paper_ids:
            if paper_id in papers:  # shown by a post, not only named with one
                mentions.setdefault(paper_id, []).append(mention)
    return mentions


def _totals(rows: list[tuple]) -> dict[str, list[dict]]:
    """The paper-level totals (paper_attention rows), by paper."""
    totals: dict[str, list[dict]] = {}
    for row in rows:
        total = dict(zip(_ATTENTION, row, strict=True))
        total["observed_at"] = _utc(total["observed_at"])
        totals.setdefault(total["paper_id"], []).append(total)
    return totals
