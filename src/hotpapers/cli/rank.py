"""`hotpapers rank` and `hotpapers explain`: a ranking as a table or JSON, and why one
paper scores what it does."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from hotpapers.cli.common import DateOption, now, out, parse_day, state_of
from hotpapers.rank.names import Method, Window

if TYPE_CHECKING:
    from hotpapers.jobs.ranking import Explanation, Ranked
    from hotpapers.rank.filters import Filters
    from hotpapers.rank.rows import SourcePart

__all__ = ["explain", "rank"]


MethodOption = Annotated[Method, typer.Option(help="Ranking method.")]
WindowOption = Annotated[Window, typer.Option(
    help="Announcement dates ranked together: the day, or the 7 or 30 days ending with it.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _filters(settings, category, exclude, primary_only, keyword, author) -> Filters:
    """The filters of settings, each replaced by its option when the option is given."""
    from hotpapers.jobs.ranking import filters_from
    from hotpapers.rank.filters import Filters

    base = filters_from(settings)
    return Filters(tuple(category or base.categories),
                   tuple(exclude or base.exclude_categories),
                   primary_only or base.primary_only,
                   tuple(keyword or base.keywords), tuple(author or base.authors))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _json(ranked: Ranked) -> dict:
    return {
        "day": ranked.day.isoformat(), "method": ranked.method.value,
        "window": ranked.window.value, "from": ranked.start.isoformat(),
        "as_of": ranked.as_of.isoformat(), "filters": ranked.filters.describe(),
        "papers": [{"rank": i, "id": r.paper_id, "title": ranked.papers[r.paper_id].title,
                    "score": _number(r.score),
                    **({"parts": r.parts.to_json()} if ranked.method != Method.classic
                       else r.parts.to_json())}
                   for i, r in enumerate(ranked.rows, start=1)],
    }


def _table(ranked: Ranked) -> Table:
    span = (str(ranked.day) if ranked.window == Window.day
            else f"{ranked.start} to {ranked.day}")
    table = Table(title=f"Hot Papers {span} ({ranked.method.value}, "
                        f"as of {ranked.as_of:%Y-%m-%d %H:%M %Z})")
    classic = ranked.method == Method.classic
    extra = ("retweets", "favorites") if classic else ("people", "sources")
    for column in ("#", "arXiv id", "score", *extra, "title"):
        table.add_column(column, justify="right" if column in ("#", "score") else "left")
    for i, r in enumerate(ranked.rows, start=1):
        if classic:
            cells = (str(r.parts.reposts), str(r.parts.likes))
        else:
            cells = (str(r.parts.people), ", ".join(r.parts.sources))
        table.add_row(str(i), r.paper_id, f"{r.score:g}", *cells,
                      ranked.papers[r.paper_id].title)
    return table


def rank(
    ctx: typer.Context,
    day: DateOption,
    method: MethodOption = Method.classic,
    window: WindowOption = Window.day,
    category: Annotated[list[str] | None, typer.Option(
        "--category", metavar="C", help="Only papers in C (repeatable; 'cs' is every cs.*).")
    ] = None,
    exclude_category: Annotated[list[str] | None, typer.Option(
        "--exclude-category", metavar="C", help="Leave out papers whose primary category is "
        "C (repeatable).")] = None,
    primary_only: Annotated[bool, typer.Option(
        "--primary-only", help="--category matches primary categories only.")] = False,
    keyword: Annotated[list[str] | None, typer.Option(
        "--keyword", metavar="WORD", help="Only papers whose title or abstract contains "
        "WORD (repeatable: any).")] = None,
    author: Annotated[list[str] | None, typer.Option(
        "--author", metavar="NAME", help="Only papers with an author whose name contains "
        "NAME (repeatable: any).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Rank a day's (or a window's) papers and print the ranking.

    classic is the original Hot Papers rule; hot counts people across sources; trending is
    hot with time decay (what is rising right now).

    Example: hotpapers rank --date 2021-01-18 --method hot --window week --json
    """
    from hotpapers.jobs import ranking

    state = state_of(ctx)
    settings = state.settings
    filters = _filters(settings, category, exclude_category, primary_only, keyword, author)
    the_day = parse_day(day)
    engine = state.connect(create=False)  # read-only: an existing store
    ranked = ranking.rank_stored(engine, the_day, method, window, settings, now(), filters)
    if as_json:
        print(json.dumps(_json(ranked), indent=2, ensure_ascii=False))
        return
    if not state.quiet:
        out.print(_table(ranked))
    state.say(f"Done: {len(ranked.rows)} papers ranked")


def _source_lines(name: str, part: SourcePart) -> list[str]:
    damping = [f"{part.reposts_capped} reposts over the cap"] * bool(part.reposts_capped) + [
        f"{part.new_accounts} new accounts"] * bool(part.new_accounts)
    lines = [f"  {name}: {part.people} people, {part.posts} posts, raw {part.raw:g} / "
             f"yardstick {part.scale:g} -> ln(1+x) = {part.normalised:g} x weight "
             f"{part.weight:g} = {part.contribution:g}"
             + (f"; damped: {', '.join(damping)}" if damping else "")]
    return lines + [f"      {a.account}: {a.posts} posts, value {a.value:g}"
                    for a in part.top_accounts]


def _explanation_lines(found: Explanation) -> list[str]:
    from hotpapers.rank.rows import HotParts, TrendingParts  # lazy: the models (test_startup)

    head = (f"{found.paper.id} {found.paper.title}\n{found.method.value}, "
            f"{found.window.value} {found.start.isoformat()} to {found.day.isoformat()}, "
            f"as of {found.as_of.isoformat()}")
    if found.row is None:
        return [head, "not ranked: no attention counted for it in this window"]
    lines = [head, f"rank {found.rank} of {found.of}, score {found.score:g}"
             f"{'' if found.listed else ' (below the thresholds: not listed)'}"]
    parts = found.row.parts
    if isinstance(parts, TrendingParts):
        lines.append(f"hot {parts.hot:g} / ({parts.hours:g} h since the first mention "
                     f"+ 2) ^ {parts.gravity:g}")
    if isinstance(parts, HotParts):
        for name, part in parts.sources.items():
            lines += _source_lines(name, part)
    else:
        lines.append(f"  retweets {parts.reposts}, favorites {parts.likes}, "
                     f"tweets shown {parts.tweets_shown}")
    return lines


def explain(
    ctx: typer.Context,
    arxiv_id: Annotated[str, typer.Argument(metavar="ARXIV_ID", help="The paper's arXiv id.")],
    day: Annotated[str | None, typer.Option(
        "--date", metavar="D", help="The day ranked (default: the paper's announcement date).")
    ] = None,
    method: MethodOption = Method.hot,
    window: WindowOption = Window.day,
    as_json: JsonOption = False,
) -> None:
    """Explain a paper's score: its rank, and the parts of its score source by source,
    with the top accounts and the dampings that applied.

    Example: hotpapers explain 2101.06189 --method hot
    """
    from hotpapers.arxiv_ids import normalize
    from hotpapers.errors import InputError
    from hotpapers.jobs import ranking

    state = state_of(ctx)
    try:
        paper_id = normalize(arxiv_id)
    except ValueError as exc:
        raise InputError(f"{arxiv_id}: {exc}") from None
    the_day = parse_day(day) if day else None
    engine = state.connect(create=False)  # read-only: an existing store
    found = ranking.explain_stored(engine, paper_id, the_day, method, window,
                                   state.settings, now())
    if as_json:
        print(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
        return
    out.print("\n".join(_explanation_lines(found)), soft_wrap=True)
