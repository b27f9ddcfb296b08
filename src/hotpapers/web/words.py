"""The explain panel in words: why a paper ranks where it does, as sentences a reader
understands (what `hotpapers explain` prints as a table). Pure."""

from __future__ import annotations

from hotpapers.jobs.ranking import Explanation, Window
from hotpapers.site.charts import SOURCE_LABELS

__all__ = ["explained", "span_words"]


def _n(value: float) -> str:
    return f"{value:,.4g}" if not float(value).is_integer() else f"{int(value):,}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def span_words(window: Window, start: str, day: str) -> str:
    if window is Window.day:
        return f"the day {day}"
    return f"the {window.value} from {start} to {day}"


def explained(found: Explanation) -> list[str]:
    """Sentences, first the rank, then the parts of the score."""
    span = span_words(found.window, found.start.isoformat(), found.day.isoformat())
    as_of = f"{found.as_of:%Y-%m-%d %H:%M} UTC"
    if found.row is None:
        return [f"No attention was counted for this paper in {span} (as of {as_of}), so "
                f"{found.method.value} does not rank it."]
    lines = [f"Ranked #{found.rank} of {found.of} papers by {found.method.value} for {span}, "
             f"as of {as_of}, with a score of {_n(found.score)}."]
    if not found.listed:
        lines.append("That is below the thresholds of this method, so its list does not "
                     "show the paper.")
    parts = found.row.parts
    if not hasattr(parts, "sources"):  # classic: retweets and favorites on X
        shown = "" if parts.tweets_shown is None else \
            f"; {_plural(parts.tweets_shown, 'tweet')} shown under it"
        return [*lines, f"Classic counts retweets plus favorites on X: "
                        f"{_plural(parts.reposts, 'retweet')} and "
                        f"{_plural(parts.likes, 'favorite')}{shown}."]
    if hasattr(parts, "hot"):
        lines.append(f"Trending divides the hot score, {_n(parts.hot)}, by the hours since "
                     f"the first mention ({_n(parts.hours)}) plus 2, raised to the power "
                     f"{_n(parts.gravity)}: attention that keeps coming counts more than "
                     "attention that came once.")
    lines.append("The hot score adds up what each source gives:")
    ranked = sorted(parts.sources.items(), key=lambda item: -item[1].contribution)
    return lines + [_source_words(name, part) for name, part in ranked]


def _source_words(name: str, part) -> str:
    label = SOURCE_LABELS.get(name, name)
    text = (f"{label} gives {_n(part.contribution)}: {_plural(part.people, 'person', 'people')}"
            f" in {_plural(part.posts, 'post')}, worth {_n(part.raw)} together, measured "
            f"against {_n(part.scale)}, what a much-discussed paper gets on {label} "
            f"(ln(1 + {_n(part.raw)} / {_n(part.scale)}) = {_n(part.normalised)}, times the "
            f"source's weight {_n(part.weight)}).")
    damped = []
    if part.reposts_capped:
        damped.append(f"{_plural(part.reposts_capped, 'repost')} beyond the cap of reposts "
                      "per like did not count")
    if part.new_accounts:
        damped.append(f"{_plural(part.new_accounts, 'new account')} counted for less")
    if damped:
        text += " Damped: " + "; ".join(damped) + "."
    if part.top_accounts:
        text += " Most engaged: " + ", ".join(
            f"{a.account} ({_plural(a.posts, 'post')}, {_n(a.value)})"
            for a in part.top_accounts) + "."
    return text
