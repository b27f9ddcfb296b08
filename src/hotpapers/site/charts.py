"""A paper's attention as its page shows it: per source, its posts and their counts as last
observed (a table, each source with a small bar of its share); and, for each source whose
counts were observed at least CHART_MIN times, a chart of them over time. Fewer
observations draw no chart: one or two points make a flat or straight line that says
nothing the table does not.

Pure and deterministic: made from the store's mentions and totals alone, never the clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hotpapers.models import Mention
from hotpapers.render.cards import COUNTS, SOURCE_LABELS, count_text

__all__ = ["CHART_MIN", "Attention", "SourceAttention", "Sparkline", "attention_of",
           "counts_series", "mentions_series", "sparkline", "total_series"]

CHART_MIN = 3  # observations a source needs for a chart over time
BAR_WIDTH = 80  # px: the widest bar, the source with the most counts
CHART_SIZE = (320, 72)  # px: width, height
MAX_DOTS = 60
# An imported post's X posts were counted in the totals it was published with ("legacy").
_PUBLISHED_AS = {"x": "legacy"}


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _day(moment: datetime) -> str:
    return _aware(moment).date().isoformat()


@dataclass
class Sparkline:
    width: int
    height: int
    points: str  # "x,y x,y ..." for a polyline
    first: str
    last: str
    low: int
    high: int
    count: int

    @property
    def dots(self) -> list[tuple[str, str]]:
        """A dot per observation, unless there are too many to tell apart."""
        if self.count > MAX_DOTS:
            return []
        return [tuple(xy.split(",", 1)) for xy in self.points.split()]  # type: ignore[misc]


def total_series(series: Iterable[Sequence[tuple[datetime, int]]]) -> list[tuple[datetime, int]]:
    """The sum over step series (each the running totals of one mention or source) at every
    time any of them changes: each contributes its last value at or before that time."""
    events = sorted((_aware(t), i, v) for i, s in enumerate(series) for t, v in s)
    current: dict[int, int] = {}
    out: list[tuple[datetime, int]] = []
    for t, i, v in events:
        current[i] = v
        total = sum(current.values())
        if out and out[-1][0] == t:
            out[-1] = (t, total)
        else:
            out.append((t, total))
    return out


def sparkline(points: Sequence[tuple[datetime, int]], width: int = 160, height: int = 32,
              pad: int = 2, from_zero: bool = False) -> Sparkline | None:
    """A polyline of totals over time scaled into a width x height box (its bottom the
    lowest value, or 0 when `from_zero`), or None."""
    if not points:
        return None
    times = [_aware(t).timestamp() for t, _ in points]
    values = [v for _, v in points]
    t0, t1 = min(times), max(times)
    low, high = min(values), max(values)
    bottom = min(0, low) if from_zero else low
    span_t = (t1 - t0) or 1.0
    span_v = (high - bottom) or 1
    coords = []
    for t, v in zip(times, values, strict=True):
        x = pad + (t - t0) / span_t * (width - 2 * pad) if t1 > t0 else width / 2
        y = height - pad - ((v - bottom) / span_v * (height - 2 * pad) if high > bottom else
                            (height - 2 * pad) / 2)
        coords.append(f"{x:.1f},{y:.1f}")
    if len(coords) == 1:  # a flat line, so a single observation still shows
        y = coords[0].split(",")[1]
        coords = [f"{pad:.1f},{y}", f"{width - pad:.1f},{y}"]
    return Sparkline(width=width, height=height, points=" ".join(coords),
                     first=_day(points[0][0]), last=_day(points[-1][0]),
                     low=low, high=high, count=len(points))


@dataclass
class SourceAttention:
    """One source's row of the table, and its chart when it has one."""

    source: str
    label: str
    posts: int | None  # None: not known (totals published without it)
    counts: list[tuple[str, int]]  # as last observed, summed over its posts (COUNTS order)
    total: int  # those counts summed
    observations: int  # distinct times the counts were observed
    first: str = ""  # the day of the first and last observation
    last: str = ""
    published: bool = False  # counts as published with a day (imported), not observed here
    bar: int = 0  # px, of BAR_WIDTH
    chart: Sparkline | None = None

    @property
    def count_line(self) -> str:
        """`80 likes, 20 reposts` (zeros left out), or `none` when none is known."""
        return count_text(self.counts, self.source) or "none"

    @property
    def observed(self) -> str:
        """`never`, `once, 2024-03-10`, `3 times, 2024-03-10 to 2024-03-12`; totals
        published with a day say so: `as published, 2021-01-19`."""
        if not self.observations:
            return "never"
        if self.observations == 1:
            return f"{'as published' if self.published else 'once'}, {self.first}"
        span = self.first if self.first == self.last else f"{self.first} to {self.last}"
        return f"{self.observations} times, {span}"


@dataclass
class Attention:
    sources: list[SourceAttention] = field(default_factory=list)  # most counts first
    bar_width: int = BAR_WIDTH
    chart_min: int = CHART_MIN

    @property
    def charted(self) -> list[SourceAttention]:
        return [s for s in self.sources if s.chart is not None]


@dataclass
class _Tally:
    """What one source adds up to before it becomes a row."""

    series: list[tuple[datetime, int]]
    counts: dict[str, int]
    posts: int | None
    published: bool = False


def _from_mentions(mentions: Sequence[Mention]) -> _Tally:
    """A source's posts: the sum of their counts over time, and each count as last seen."""
    runs, counts = [], {}
    for mention in mentions:
        seen = sorted(mention.observations, key=lambda o: _aware(o.observed_at))
        if not seen:
            continue
        runs.append([(o.observed_at, sum(getattr(o, c) or 0 for c in COUNTS)) for o in seen])
        for name in COUNTS:
            value = getattr(seen[-1], name)
            if value is not None:
                counts[name] = counts.get(name, 0) + int(value)
    return _Tally(total_series(runs), counts, len(mentions))


def mentions_series(mentions: Sequence[Mention], until: datetime | None = None
                    ) -> list[tuple[datetime, int]]:
    """The summed counts of `mentions` over time, every source together (observations at or
    before `until`, when given): what a board row's sparkline draws."""
    limit = _aware(until) if until is not None else None
    return counts_series([(i, o.observed_at, sum(getattr(o, c) or 0 for c in COUNTS))
                          for i, mention in enumerate(mentions)
                          for o in mention.observations
                          if limit is None or _aware(o.observed_at) <= limit])


def counts_series(observed: Iterable[tuple[Hashable, datetime, int]]
                  ) -> list[tuple[datetime, int]]:
    """(mention, time, its summed counts then) rows into the total over time: the same sums
    as `total_series` over each mention's run, from the changes of each run, sorted once (a
    hot paper has thousands of mentions)."""
    runs: dict[Hashable, list[tuple[datetime, int]]] = {}
    for mention, moment, value in observed:
        runs.setdefault(mention, []).append((_aware(moment), value))
    changes: list[tuple[datetime, int]] = []
    for seen in runs.values():
        before = 0
        for moment, value in sorted(seen):
            changes.append((moment, value - before))
            before = value
    changes.sort(key=lambda change: change[0])
    out: list[tuple[datetime, int]] = []
    total = 0
    for moment, change in changes:
        total += change
        if out and out[-1][0] == moment:
            out[-1] = (moment, total)
        else:
            out.append((moment, total))
    return out


def _from_totals(rows: Sequence[Mapping], posts: int) -> _Tally:
    """A source's paper-level totals as stored with imported days, oldest first."""
    rows = sorted(rows, key=lambda r: _aware(r["observed_at"]))
    series = total_series([[(r["observed_at"], sum(r.get(c) or 0 for c in COUNTS))
                            for r in rows]])
    last = rows[-1]
    counts = {c: int(last[c]) for c in COUNTS if last.get(c) is not None}
    known = last.get("mentions")
    return _Tally(series, counts, known if known is not None else (posts or None), True)


def attention_of(mentions: Sequence[Mention], totals: Sequence[Mapping]) -> Attention:
    """The paper's attention per source: from its mentions' observations; a source none of
    whose mentions was observed takes the paper-level totals stored for it, if any."""
    by_source: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        by_source[mention.source].append(mention)
    stored: dict[str, list[Mapping]] = defaultdict(list)
    for row in totals:
        stored[row["source"]].append(row)
    tallies = {}
    for source in sorted(set(by_source) | set(stored)):
        tally = _from_mentions(by_source.get(source, []))
        if not tally.series and stored.get(source):
            tally = _from_totals(stored[source], len(by_source.get(source, [])))
        tallies[source] = tally
    for source, published in _PUBLISHED_AS.items():  # posts counted in published totals
        tally, holder = tallies.get(source), tallies.get(published)
        if tally and holder and not tally.series and holder.published:
            del tallies[source]
            holder.posts = holder.posts or tally.posts
    return _table(tallies)


def _table(tallies: dict[str, _Tally]) -> Attention:
    rows = []
    for source, tally in tallies.items():
        series = tally.series
        chart = sparkline(series, *CHART_SIZE, pad=4, from_zero=True) \
            if len(series) >= CHART_MIN else None
        rows.append(SourceAttention(
            source=source, label=SOURCE_LABELS.get(source, source), posts=tally.posts,
            counts=[(c, tally.counts[c]) for c in COUNTS if c in tally.counts],
            total=sum(tally.counts.values()),
            observations=len(series), first=_day(series[0][0]) if series else "",
            last=_day(series[-1][0]) if series else "", published=tally.published,
            chart=chart))
    most = max((r.total for r in rows), default=0)
    for row in rows:
        row.bar = round(BAR_WIDTH * row.total / most) if most else 0
    rows.sort(key=lambda r: (-r.total, r.label, r.source))
    return Attention(rows)
