"""The board's sparklines: each row draws its paper's counts over time (every source summed,
as of the ranking) as a small server-side SVG named for screen readers; a paper without
observed counts has none."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotpapers.config import Settings
from hotpapers.models import Mention, Observation
from hotpapers.site.charts import mentions_series, total_series
from hotpapers.web.app import create_app
from web_support import NOW, fresh_url, get, load_demo, paper_links

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SPARK = re.compile(r'<p class="spark"><svg role="img" aria-label="Counts over time, all '
                   r'sources: (\d+) observations? from [^"]+, lowest (\d+), highest (\d+)"'
                   r'[^>]*><polyline [^>]*points="([^"]+)"/></svg></p>')


def _mention(native_id: str, *counts: tuple[int, int]) -> Mention:
    return Mention("bluesky", native_id, ["2601.00001"], observations=[
        Observation(T0 + timedelta(hours=h), likes=likes, reposts=1) for h, likes in counts])


def test_the_series_sums_mentions_at_each_change_and_stops_at_the_ranking_time():
    mentions = [_mention("a", (0, 4), (5, 9)), _mention("b", (2, 10), (9, 30))]
    assert mentions_series(mentions) == [(T0, 5), (T0 + timedelta(hours=2), 16),
                                         (T0 + timedelta(hours=5), 21),
                                         (T0 + timedelta(hours=9), 41)]
    assert mentions_series(mentions, until=T0 + timedelta(hours=5)) == [
        (T0, 5), (T0 + timedelta(hours=2), 16), (T0 + timedelta(hours=5), 21)]
    assert mentions_series(mentions, until=T0 - timedelta(hours=1)) == []
    assert mentions_series([]) == []


RUNS = st.lists(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 500)), max_size=6),
                max_size=6)


@given(RUNS, st.one_of(st.none(), st.integers(0, 30)))
def test_the_series_is_total_series_over_each_mentions_run(runs, until):
    """The fast sum (from each run's changes) equals `total_series` over the runs."""
    mentions = [_mention(str(i), *run) for i, run in enumerate(runs)]
    limit = None if until is None else T0 + timedelta(hours=until)
    expected = total_series([
        sorted((o.observed_at, o.likes + o.reposts) for o in m.observations
               if limit is None or o.observed_at <= limit) for m in mentions])
    assert mentions_series(mentions, limit) == expected


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with fresh_url(tmp_path_factory.mktemp("web-sparks"), "sparks") as url:
        load_demo(url)
        made = create_app(url, Settings(), now=lambda: NOW, access=lambda _: None)
        yield made
        made.state.reader.engine.dispose()


def test_every_row_of_the_newest_board_has_its_sparkline(app):
    board = get(app, "/?method=hot&limit=5").text
    rows = board.split('<li value="')[1:]
    assert len(rows) == len(paper_links(board)) == 5
    for row in rows:
        found = SPARK.search(row)
        assert found is not None, row
        count, low, high, points = found.groups()
        assert int(low) <= int(high) and int(high) > 0
        assert len(points.split()) == max(int(count), 2)  # one observation: a flat line
        for point in points.split():
            x, y = map(float, point.split(","))
            assert 0 <= x <= 96 and 0 <= y <= 20
    first = paper_links(board)[0]
    attention = get(app, f"/api/v1/papers/{first}/attention").json()
    as_of = get(app, "/api/v1/rankings?method=hot&limit=1").json()["as_of"]
    assert SPARK.search(rows[0]).group(3) == str(_highest(attention, as_of))
    assert _highest(attention, "9999") > _highest(attention, as_of)  # later counts left out


def _highest(attention: dict, as_of: str) -> int:
    """The sum over sources of each one's last total at or before `as_of` in the API's
    attention series: the top of the sparkline when counts only grow, as in the demo."""
    return sum(next((v for t, v in reversed(source["series"]) if t <= as_of), 0)
               for source in attention["sources"])
