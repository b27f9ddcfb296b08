"""A day's post as Hugo, Jekyll or plain markdown: the lumen post's content, clean and safe.

Front matter is written by PyYAML's safe dumper (`yaml.SafeDumper`: plain data only), never
by string formatting, with every scalar on one line: strings holding line breaks or control
characters are double-quoted with escapes, so no value can put a `---` or `...` line into the
front matter, and a title comes back from `yaml.safe_load` exactly as it went in.

- `hugo`: `title`, `date` (ISO 8601 with offset, `2021-01-19T08:57:46+00:00`; Hugo ignores
  the lumen post's `...46.Z`), `draft`, `slug`, `categories`, `tags`, `description`, and
  `papers` (id, title, authors of each ranked paper, as `.Params.papers`).
  File `{date}-hot-papers.md` (for `content/posts/`).
- `jekyll`: `layout: post`, `title`, `date` (Jekyll's `2021-01-19 08:57:46 +0000`), `slug`,
  `categories`, `tags`, `excerpt`, `papers`; the body is wrapped in `{% raw %}`...
  `{% endraw %}` so that Liquid leaves it alone (the explicit `excerpt` keeps Jekyll from
  cutting the body's first paragraph, `{% raw %}` alone, for an excerpt: Jekyll 3 fails on
  that unclosed tag). File `{date}-hot-papers.md` (Jekyll's `_posts/YYYY-MM-DD-title.md`).
- `markdown`: a `# Hot Papers {date}` heading, no front matter. File `{date}---Hot-Papers.md`
  (the lumen post's name).

`{date}` is day D (a date range is written `start-end`); front matter dates are the post's
`generated_at` to the second (a naive time is taken as UTC).

The body has the lumen post's content: per ranked paper a numbered `##` heading with its
title, the authors, the counts line (classic: retweets and favorites; hot and trending: the
score, then people, posts and counts per source), the abs/pdf and category links, the
abstract and the shown mentions. Text from paper fields is escaped for markdown and HTML
(render/md_text.py): it can neither start markdown constructs nor carry raw HTML, Hugo
shortcodes (`{{< >}}`, `{{% %}}`) or Liquid tags. Every mention, X included, is a plain
markdown card (render/cards.py: a blockquote with author, text, date, counts and link), so
the posts show them with Hugo's and Jekyll's default (safe) settings, which drop raw HTML;
the lumen format keeps the original's X embeds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import yaml

from hotpapers.models import Post, PostEntry
from hotpapers.render.cards import mention_card, score_line, summary_line
from hotpapers.render.lumen import STAMP, label_of
from hotpapers.render.md_text import escape_text, link, paragraphs, text_line

__all__ = ["FLAVORS", "dump_front_matter", "escape_text", "file_name_for", "render_markdown"]

FLAVORS = ("hugo", "jekyll", "markdown")
NAMES = {"hugo": "{date}-hot-papers.md", "jekyll": "{date}-hot-papers.md",
         "markdown": "{date}---Hot-Papers.md"}
TAGS = ["arXiv", "Twitter", "Machine Learning", "Computer Science"]

# -- front matter ------------------------------------------------------------------------

# Line breaks (for YAML 1.1 and 1.2 readers alike), controls, BOM, surrogates: escaped.
_NEEDS_ESCAPES = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")


class _FrontMatterDumper(yaml.SafeDumper):
    """The safe dumper with one-line scalars and ISO 8601 (`T`) timestamps."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = '"' if _NEEDS_ESCAPES.search(data) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _represent_datetime(dumper: yaml.SafeDumper, data: datetime) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp",
                                   data.isoformat(timespec="seconds"))


_FrontMatterDumper.add_representer(str, _represent_str)
_FrontMatterDumper.add_representer(datetime, _represent_datetime)


def dump_front_matter(data: dict) -> str:
    """`---`, the YAML of `data` (keys in order, UTF-8 text as is), `---`."""
    text = yaml.dump(data, Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=float("inf"))
    if any(line.startswith(("---", "...")) for line in text.split("\n")):
        raise ValueError("front matter would hold a document marker")  # cannot happen
    return f"---\n{text}---\n"


def _moment(post: Post) -> datetime:
    moment = post.generated_at.replace(microsecond=0)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _papers(post: Post) -> list[dict]:
    return [{"id": e.paper.id, "title": e.paper.title, "authors": list(e.paper.authors)}
            for e in post.entries]


def front_matter(post: Post, flavor: str) -> dict:
    label = label_of(post)
    if flavor == "hugo":
        return {"title": f"Hot Papers {label}", "date": _moment(post), "draft": False,
                "slug": f"hot-papers-{label}", "categories": ["arXiv"], "tags": list(TAGS),
                "description": f"Hot papers {label}", "papers": _papers(post)}
    return {"layout": "post", "title": f"Hot Papers {label}",
            "date": f"{_moment(post):%Y-%m-%d %H:%M:%S %z}", "slug": f"hot-papers-{label}",
            "categories": ["arXiv"], "tags": list(TAGS), "excerpt": f"Hot papers {label}",
            "papers": _papers(post)}


def _facts(entry: PostEntry, method: str) -> list[str]:
    """The counts line(s): classic totals, or the score and one line per source."""
    if method == "classic" or entry.score is None:
        return [f"- retweets: {entry.reposts}, favorites: {entry.likes} "
                f"({entry.written_at:{STAMP}})"]
    head = f"- {score_line(method, entry.score, entry.sources)} ({entry.written_at:{STAMP}})"
    return [head, *(f"- {summary_line(s)}" for s in entry.sources)]


def render_entry(number: int, entry: PostEntry, flavor: str, method: str = "classic") -> str:
    paper = entry.paper
    abs_url = paper.abs_url or f"https://arxiv.org/abs/{paper.id}"
    links = [one for one in (link("abs", abs_url), link("pdf", paper.pdf_url)) if one]
    categories = [one for one in (link(c, f"https://arxiv.org/list/{quote(c, safe='')}/recent")
                                  for c in paper.categories) if one]
    facts = _facts(entry, method)
    if links:
        facts.append("- links: " + " \\| ".join(links))
    if categories:
        facts.append("- " + " \\| ".join(categories))
    blocks = [f"## {number}. {text_line(paper.title)}".rstrip(),
              text_line(", ".join(paper.authors)), "\n".join(facts), paragraphs(paper.abstract)]
    blocks += [mention_card(m) for m in entry.shown]
    return "\n\n".join(block for block in blocks if block) + "\n"


def render_markdown(post: Post, flavor: str) -> str:
    """The post in `flavor` ("hugo", "jekyll" or "markdown")."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown markdown flavor {flavor!r}; expected one of {FLAVORS}")
    body = "\n".join(render_entry(n, e, flavor, post.method)
                     for n, e in enumerate(post.entries, start=1))
    if flavor == "markdown":
        head = f"# Hot Papers {text_line(label_of(post))}\n"
        return head + ("\n" + body if body else "")
    head = dump_front_matter(front_matter(post, flavor))
    if flavor == "jekyll":
        if "{%" in body:
            raise ValueError("a Liquid tag in a Jekyll body")  # cannot happen: escaped above
        return head + "{% raw %}\n\n" + body + "{% endraw %}\n"
    return head + "\n" + body


def file_name_for(post: Post, flavor: str) -> str:
    """The post's file name in `flavor`: `{date}-hot-papers.md` for Hugo and Jekyll (a name
    Jekyll's `_posts` accepts), `{date}---Hot-Papers.md` for plain markdown."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown markdown flavor {flavor!r}; expected one of {FLAVORS}")
    return NAMES[flavor].format(date=label_of(post).replace(" - ", "-"))
