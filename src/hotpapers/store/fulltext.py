"""Full-text search over the papers' titles, abstracts, authors and ids, in the database:
SQLite's FTS5 table `paper_search` (kept current by every write of papers), PostgreSQL's GIN
indexes over the papers' generated `search_vector` column and over `to_tsvector` of their
authors (current by themselves). A large bulk load drops them (drop_search) and makes them
again at its end (make_search): while they are gone, writes skip them, and searches find
nothing (SQLite) or read every paper (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable

import regex
from sqlalchemy import Connection, bindparam, text

__all__ = ["SEARCH_TABLE", "drop_search", "index_papers", "make_search", "match_query",
           "reindex_all", "search_papers", "search_ready"]

SEARCH_TABLE = "paper_search"  # SQLite only (a virtual table, not in the schema's metadata)
MAX_TERMS = 12  # words of a query used: more only makes a slower, emptier search
_CHUNK = 200  # ids a statement (an FTS5 query of 200 phrases)
_WORD = regex.compile(r"[\p{L}\p{N}]+")
# one row per paper: its id (so that ids can be searched), title, abstract, authors
_DOCUMENTS = (
    "SELECT p.id, coalesce(p.title, ''), coalesce(p.abstract, ''), coalesce(("
    "SELECT group_concat(name, ', ') FROM (SELECT name FROM paper_authors a "
    "WHERE a.paper_id = p.id ORDER BY a.position)), '') FROM papers p")
_VECTOR = "search_vector"  # PostgreSQL: the papers' title and abstract vector (0008)
_SQLITE_TABLE = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5(paper_id, title, "
                 "abstract, authors, tokenize = 'porter unicode61 remove_diacritics 2')")
_PG_INDEXES = {  # name: definition (as migrations 0007 and 0008 made them)
    "ix_papers_search": f"papers USING gin ({_VECTOR})",
    "ix_paper_authors_search": "paper_authors USING gin "
                               "(to_tsvector('simple'::regconfig, name))"}

# A common word matches a good part of arXiv: at most CANDIDATES matches are ranked (every
# match ranked took 0.7 s on SQLite and a minute on PostgreSQL over 200,000 papers).
CANDIDATES = 1000
# SQLite: the CANDIDATES matches indexed last (the newest papers, and those changed lately),
# from the rowid of the oldest of them (FTS5 walks a word's rowids in either direction)
_SQLITE_FIRST = text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :query "
                     "ORDER BY rowid DESC LIMIT 1 OFFSET :skip")
_SQLITE_SEARCH = text(
    f"SELECT paper_id, bm25({SEARCH_TABLE}, 20.0, 10.0, 1.0, 5.0) AS rank FROM {SEARCH_TABLE} "
    f"WHERE {SEARCH_TABLE} MATCH :query AND rowid >= :first "
    "ORDER BY rank, paper_id LIMIT :limit OFFSET :offset")
# PostgreSQL: the papers matching by title and abstract, by id, or by an author, each found
# through its own index (one OR of the three would read every paper), the CANDIDATES newest
# of each (by announcement day then id; by an author, the highest ids: ordering those by day
# too cost a join of every match), then ranked by their stored text vectors
_ENGLISH, _SIMPLE = ("websearch_to_tsquery('english', :words)",
                     "websearch_to_tsquery('simple', :words)")
_AUTHOR = f"to_tsvector('simple'::regconfig, name) @@ {_SIMPLE}"
_NEWEST = f"ORDER BY p.announced_on DESC NULLS LAST, p.id DESC LIMIT {CANDIDATES}"
_PG_SEARCH = text(
    f"WITH hits AS ((SELECT p.id FROM papers p WHERE p.{_VECTOR} @@ {_ENGLISH} {_NEWEST}) "
    "UNION (SELECT id FROM papers WHERE id = :id) "
    f"UNION (SELECT paper_id FROM paper_authors WHERE {_AUTHOR} "
    f"ORDER BY paper_id DESC LIMIT {CANDIDATES})) "
    f"SELECT p.id, ts_rank(p.{_VECTOR}, {_ENGLISH}) + CASE WHEN EXISTS (SELECT 1 FROM "
    f"paper_authors a WHERE a.paper_id = p.id AND {_AUTHOR}) THEN 1 ELSE 0 END AS rank "
    "FROM hits JOIN papers p ON p.id = hits.id "
    "ORDER BY rank DESC, p.id LIMIT :limit OFFSET :offset")


def _present(conn: Connection) -> bool:
    """Whether SQLite's search table exists (a large load that was stopped may have left
    it dropped)."""
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
                        {"n": SEARCH_TABLE}).first() is not None


def search_ready(conn: Connection) -> bool:
    """Whether the search table (SQLite) or both search indexes (PostgreSQL) are there."""
    if conn.dialect.name == "sqlite":
        return _present(conn)
    found = conn.execute(text("SELECT count(*) FROM pg_indexes WHERE schemaname = "
                              "current_schema() AND indexname IN :names").bindparams(
        bindparam("names", expanding=True)), {"names": list(_PG_INDEXES)}).scalar()
    return found == len(_PG_INDEXES)


def drop_search(conn: Connection) -> None:
    """Drop the search table (SQLite) or indexes (PostgreSQL) for a large load: filling
    them once at the end is several times cheaper than keeping them current row by row."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"DROP TABLE IF EXISTS {SEARCH_TABLE}"))
        return
    for name in _PG_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))


def make_search(conn: Connection) -> None:
    """Make the search table or indexes again if they are missing, from every stored paper;
    nothing when they are there."""
    if conn.dialect.name != "sqlite":
        for name, definition in _PG_INDEXES.items():
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}"))
        return
    if not _present(conn):
        conn.execute(text(_SQLITE_TABLE))
        conn.execute(text(f"INSERT INTO {SEARCH_TABLE} (paper_id, title, abstract, authors) "
                          f"{_DOCUMENTS}"))


def match_query(words: str) -> str | None:
    """An FTS5 query of the user's words, each one quoted (so no character of theirs is
    query syntax), all of them required, the last one also as a prefix; None: no word."""
    terms = _WORD.findall(words.casefold())[:MAX_TERMS]
    if not terms:
        return None
    quoted = [f'"{term}"' for term in terms]
    quoted[-1] = f"({quoted[-1]} OR {quoted[-1]}*)"
    return " AND ".join(quoted)


def _id_phrase(paper_id: str) -> str:
    return '"' + paper_id.replace('"', '""') + '"'


def index_papers(conn: Connection, paper_ids: Iterable[str]) -> None:
    """Bring these papers' search rows up to date (SQLite; PostgreSQL's indexes need
    nothing). Call it in the transaction that wrote them. Their old rows are found through
    the index of the id column (a phrase of its words), then checked to be theirs."""
    if conn.dialect.name != "sqlite" or not _present(conn):
        return
    ids = list(dict.fromkeys(paper_ids))
    for i in range(0, len(ids), _CHUNK):
        part = ids[i:i + _CHUNK]
        found = " OR ".join(_id_phrase(paper_id) for paper_id in part)
        conn.execute(text(
            f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN (SELECT rowid FROM {SEARCH_TABLE} "
            f"WHERE {SEARCH_TABLE} MATCH :found) AND paper_id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"found": f"paper_id : ({found})", "ids": part})
        conn.execute(text(
            f"INSERT INTO {SEARCH_TABLE} (paper_id, title, abstract, authors) {_DOCUMENTS} "
            "WHERE p.id IN :ids").bindparams(bindparam("ids", expanding=True)), {"ids": part})


def reindex_all(conn: Connection) -> None:
    """Make SQLite's search rows again from every stored paper (after a copy of the store,
    whose tables it is not among)."""
    if conn.dialect.name == "sqlite":
        drop_search(conn)
        make_search(conn)


def search_papers(conn: Connection, words: str, limit: int, offset: int = 0
                  ) -> list[tuple[str, float]]:
    """The papers matching every word (the last one also as a prefix on SQLite), best
    first: (paper id, relevance, higher is better). Title and authors weigh more than
    abstracts. Words matching more than CANDIDATES papers rank CANDIDATES of them: on SQLite
    those indexed last (the newest), on PostgreSQL the newest by announcement day."""
    if conn.dialect.name == "sqlite":
        query = match_query(words)
        if query is None or not _present(conn):
            return []
        first = conn.execute(_SQLITE_FIRST, {"query": query, "skip": CANDIDATES - 1}).scalar()
        rows = conn.execute(_SQLITE_SEARCH, {"query": query, "first": first or 0,
                                             "limit": limit, "offset": offset})
        return [(paper_id, -rank) for paper_id, rank in rows]
    terms = _WORD.findall(words.casefold())[:MAX_TERMS]
    if not terms:
        return []
    # a plan for these words: the driver prepares a statement run often, and PostgreSQL's
    # generic plan for it (any words) walked every paper by day for a rare word (0.4 s)
    conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = conn.execute(_PG_SEARCH, {"words": " ".join(terms), "id": words.strip(),
                                     "limit": limit, "offset": offset})
    return [(paper_id, float(rank)) for paper_id, rank in rows]
