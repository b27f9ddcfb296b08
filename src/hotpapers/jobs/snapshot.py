"""The project's own JSON-lines snapshot of days: one record a line, each with a `type`.

A header line comes first (`{"type": "snapshot", "format": "hotpapers-snapshot",
"version": 1, "days": [...]}`), then `paper`, `listing`, `mention`, `attention`, `ranking`
and `post` records; see docs/snapshot.md. Times are ISO 8601 in UTC.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hotpapers.errors import InputError, NothingToDo
from hotpapers.models import (
    Account,
    Mention,
    Observation,
    Paper,
    Post,
    PostEntry,
    ShownMention,
    Version,
    strip_controls,
)
from hotpapers.rank.rows import ClassicParts
from hotpapers.render.write import write_atomic
from hotpapers.store.counting import count_mentions
from hotpapers.store.listings import load_listing, save_listing
from hotpapers.store.mentions import load_mentions, mention_ids, save_mention
from hotpapers.store.papers import load_attention, load_papers, save_attention, save_paper
from hotpapers.store.posts import (
    RankingRow,
    StoredRanking,
    load_post,
    load_ranking,
    save_post,
    save_ranking,
)
from hotpapers.store.runs import recorded_run

__all__ = ["FORMAT", "VERSION", "export_days", "import_records", "import_snapshot", "read_snapshot",
           "write_snapshot"]

FORMAT, VERSION = "hotpapers-snapshot", 1
_ORDER = ("paper", "listing", "mention", "attention", "ranking", "post")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


_TEXTS = ("id", "title", "abstract", "abs_url", "pdf_url", "comments", "journal_ref", "doi")


def _checked(values: dict) -> dict:
    """A paper record's values, each of its type (ValueError naming the first that is not):
    JSON gives any, and a list's items or a string's letters would be stored as they come
    (categories "cs.LG" as five categories)."""
    if values.get("abstract", "") is None:
        values["abstract"] = ""
    for name in _TEXTS:
        value = values.get(name)
        if not isinstance(value, str) and (value is not None or name in ("id", "title")):
            raise ValueError(f"{name}: not a text")
    for name in ("authors", "categories"):
        found = values.get(name) or []
        if not isinstance(found, list) or not all(isinstance(v, str) for v in found):
            raise ValueError(f"{name}: not a list of texts")
        values[name] = found
    version = values.get("latest_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise ValueError("latest_version: not a whole number")
    if not isinstance(values.get("withdrawn", False), bool):
        raise ValueError("withdrawn: not true or false")
    return values


def _paper(record: dict) -> Paper:
    for required in ("id", "title"):
        if required not in record:
            raise KeyError(required)
    known = {f.name for f in fields(Paper)}
    values = _checked({k: v for k, v in record.items() if k in known})
    for name in ("submitted_at", "updated_at"):
        values[name] = _when(values.get(name))
    if values.get("announced_on"):
        values["announced_on"] = date.fromisoformat(values["announced_on"])
    values["versions"] = [Version(v["number"], _when(v.get("submitted_at")), v.get("size"))
                          for v in values.get("versions") or []]
    return Paper(**values)


def _mention(record: dict) -> Mention:
    account = None
    if record.get("account"):
        account = Account(**{**record["account"],
                             "created_at": _when(record["account"].get("created_at"))})
    observations = [Observation(**{**o, "observed_at": _when(o["observed_at"])})
                    for o in record.get("observations", [])]
    return Mention(**{**record, "account": account, "observations": observations,
                      "created_at": _when(record.get("created_at"))})


def export_days(conn: Connection, days: Iterable[date], fmt: str = "lumen") -> Iterator[dict]:
    """Every record of the given days: papers, listings, mentions, totals, rankings, posts."""
    days = list(days)
    yield {"type": "snapshot", "format": FORMAT, "version": VERSION,
           "days": [d.isoformat() for d in days]}
    for day in days:
        listing = load_listing(conn, day)
        ranking = load_ranking(conn, day, "classic")
        post = load_post(conn, day, fmt)
        ids = list(dict.fromkeys(
            [p for p, _ in listing] + [r.paper_id for r in (ranking.rows if ranking else [])]
            + [e.paper.id for e in (post.entries if post else [])]))
        for paper in load_papers(conn, ids).values():
            yield {"type": "paper", **_plain(asdict(paper))}
        if listing:
            yield {"type": "listing", "day": day.isoformat(), "papers": listing}
        for mention in load_mentions(conn, ids):
            yield {"type": "mention", **_plain(asdict(mention))}
        for row in load_attention(conn, ids):
            yield {"type": "attention", **_plain(row)}
        if ranking:
            yield {"type": "ranking", **_plain({k: v for k, v in asdict(ranking).items()
                                                if k != "id"})}
        if post:
            yield _post_record(post, fmt)


def _post_record(post: Post, fmt: str) -> dict:
    entries = [{"paper_id": e.paper.id, "paper_shown": _plain(asdict(e.paper)),
                "written_at": e.written_at.isoformat(), "reposts": e.reposts, "likes": e.likes,
                "shown": [asdict(m) for m in e.shown]} for e in post.entries]
    return {"type": "post", "format": fmt, "day": post.day.isoformat(),
            "generated_at": post.generated_at.isoformat(), "layout": post.layout,
            "entries": entries}


def import_records(conn: Connection, records: Iterable[tuple[int, dict] | dict],
                   now: datetime, origin: str = "snapshot") -> dict[str, int]:
    """Upsert snapshot records, given as dicts or (line number, dict), in the caller's
    transaction; returns counts by type. A record that cannot be stored raises InputError
    naming `origin`, its line and the reason."""
    numbered = [r if isinstance(r, tuple) else (i, r) for i, r in enumerate(records, start=2)]
    counts = dict.fromkeys(_ORDER, 0)
    stored: list[int] = []  # the mentions, counted in the attention totals once for all
    for line, record in sorted(numbered, key=lambda r: _ORDER.index(r[1]["type"])):
        kind = record["type"]
        try:
            mention_id = _import_record(conn, kind, {k: v for k, v in record.items()
                                                     if k != "type"}, now)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            raise InputError(f"{origin}:{line}: {kind} record: {reason}") from None
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise InputError(f"{origin}:{line}: {kind} record: {reason}") from None
        counts[kind] += 1
        if mention_id is not None:
            stored.append(mention_id)
    count_mentions(conn, stored)
    return counts


def _import_record(conn: Connection, kind: str, record: dict, now: datetime) -> int | None:
    """Store one record; a mention's row id (it is counted by the caller)."""
    if kind == "paper":
        save_paper(conn, _paper(record), now)
    elif kind == "listing":
        save_listing(conn, date.fromisoformat(record["day"]),
                     [tuple(row) for row in record["papers"]])
    elif kind == "mention":
        return save_mention(conn, _mention(record), now, count=False)
    elif kind == "attention":
        save_attention(conn, record.pop("paper_id"), record.pop("source"),
                       _when(record.pop("observed_at")), **record)
    elif kind == "ranking":
        record.pop("id", None)
        rows = [RankingRow(**row) for row in record.pop("rows")]
        if record.get("method") == "classic":  # refused now rather than when ranked
            for row in rows:
                ClassicParts.from_dict(row.parts)
        save_ranking(conn, StoredRanking(
            **{**record, "day": date.fromisoformat(record["day"]),
               "as_of": _when(record["as_of"]), "rows": rows}), now)
    else:
        _import_post(conn, record)
    return None


def _import_post(conn: Connection, record: dict) -> None:
    record = strip_controls(record)  # its papers and mentions are stripped where saved
    entries = []
    for e in record["entries"]:
        entries.append(PostEntry(paper=_paper(e["paper_shown"]), reposts=e["reposts"],
                                 likes=e["likes"], written_at=_when(e["written_at"]),
                                 shown=[ShownMention(**m) for m in e["shown"]]))
    day = date.fromisoformat(record["day"])
    post = Post(day=day, generated_at=_when(record["generated_at"]), entries=entries,
                layout=record.get("layout") or {})
    ranking = load_ranking(conn, day, "classic")
    ranking_id = ranking.id if ranking else None
    keys = [m.key for e in entries for m in e.shown]
    save_post(conn, post, record["format"], mention_ids(conn, keys), ranking_id)


def read_snapshot(path: Path) -> list[tuple[int, dict]]:
    """(line number, record) of each record of a snapshot file (.gz accepted); InputError
    names the file and line of the first bad one."""
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    if number == 1:
                        raise InputError(f"{path}:1: not a {FORMAT} file") from None
                    raise InputError(f"{path}:{number}: not JSON ({exc.msg})") from None
                if number == 1 and (not isinstance(record, dict)
                                    or record.get("format") != FORMAT):
                    raise InputError(f"{path}:1: not a {FORMAT} file")
                if number == 1 and record.get("version") != VERSION:
                    raise InputError(f"{path}:1: snapshot version {record.get('version')!r}; "
                                     f"this hotpapers reads version {VERSION}")
                if not isinstance(record, dict):
                    raise InputError(f"{path}:{number}: not a JSON object")
                if record.get("type") not in _ORDER and number > 1:
                    raise InputError(f"{path}:{number}: unknown record type "
                                     f"{record.get('type')!r}")
                if number > 1:
                    records.append((number, record))
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    return records


def write_snapshot(engine: Engine, days: Iterable[date], path: Path) -> int:
    """Write the days' records to `path` atomically (.gz compresses); returns the count. The
    store is read first, and the file written once the reading is over."""
    with engine.connect() as conn:
        lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n"
                 for r in export_days(conn, days)]
    if len(lines) == 1:
        raise NothingToDo(f"nothing stored for {', '.join(d.isoformat() for d in days)}")
    data = "".join(lines).encode("utf-8")
    write_atomic(path, gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return len(lines)


def import_snapshot(engine: Engine, records: list[tuple[int, dict]], origin: str,
                    clock: Callable[[], datetime]) -> dict[str, int]:
    """Store records read by `read_snapshot` (from `origin`) in one transaction, all or
    nothing, recorded as a run; returns counts by record type."""
    with recorded_run(engine, "import snapshot", clock) as run, engine.begin() as conn:
        run.counts = counts = import_records(conn, records, clock(), origin=origin)
    return counts
