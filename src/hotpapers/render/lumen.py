"""The original Hot Papers post format (Gatsby "lumen" front matter), byte for byte.

Layout facts (`Post.layout`), each only when it differs from the usual: `label` (the date
text of the title when it is not day D), `extra_lead_blank_lines` (an early variant wrote
one more blank line after the front matter), `date_zone` (the zone name the generator put
before the final `Z`, usually empty) and `social_image` (early posts used another image).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import quote

from hotpapers.models import Post, PostEntry, ShownMention
from hotpapers.render.cards import mention_card, score_line, summary_line
from hotpapers.render.md_text import link, paragraphs, text_line

__all__ = ["FRONT_MATTER", "file_name", "render_lumen", "render_ranked_entry", "tweet_embed"]

FRONT_MATTER = """---
title: Hot Papers {label}
date: {date}
template: "post"
draft: false
slug: "hot-papers-{label}"
category: "arXiv"
tags:
  - "arXiv"
  - "Twitter"
  - "Machine Learning"
  - "Computer Science"
description: "Hot papers {label}"
socialImage: "{image}"

---
"""
SOCIAL_IMAGE = "/media/flying-marine.jpg"

STAMP = "%m/%d/%Y %H:%M:%S"
WIDGET = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'


def tweet_embed(mention: ShownMention) -> str:
    """The stored oEmbed HTML, or else the bare blockquote that Twitter's widget expands."""
    if mention.embed_html:
        return mention.embed_html
    link = f'<a href="{escape(mention.permalink)}"></a>' if mention.permalink else ""
    return f'<blockquote class="twitter-tweet">{link}</blockquote>\n{WIDGET}\n'


def label_of(post: Post) -> str:
    return post.layout.get("label") or post.day.isoformat()


def front_matter_date(moment: datetime, zone: str = "") -> str:
    """The generator's `%Y-%m-%dT%H:%M:%S.%ZZ` of a naive UTC time: `2021-01-19T08:57:46.Z`."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{zone}Z"


def file_name(post: Post, pattern: str = "{date}---Hot-Papers.md") -> str:
    """The post's file name; `{date}` is day D (a date range is written `start-end`)."""
    return pattern.format(date=label_of(post).replace(" - ", "-"))


def render_entry(number: int, entry: PostEntry) -> str:
    paper = entry.paper
    links = f"- links: [abs]({paper.abs_url})"
    if paper.pdf_url:
        links += f" | [pdf]({paper.pdf_url})"
    categories = " | ".join(f"[{c}](https://arxiv.org/list/{c}/recent)" for c in paper.categories)
    tweets = "".join(tweet_embed(m) + "\n" for m in entry.shown)
    return (
        f"\n# {number}. {paper.title}\n\n"
        f"{', '.join(paper.authors)}\n\n"
        f"- retweets: {entry.reposts}, favorites: {entry.likes} ({entry.written_at:{STAMP}})\n\n"
        f"{links}\n"
        f"- {categories}\n\n"
        f"{paper.abstract}\n\n"
        f"{tweets}\n\n"
    )


def render_ranked_entry(number: int, entry: PostEntry, method: str) -> str:
    """A paper of a hot or trending post in the original's layout, its text escaped (it is
    new, so no published byte to keep): the score and one line per source where the totals
    were; X posts as the original's embeds, other mentions as markdown cards."""
    paper = entry.paper
    links = [one for one in (link("abs", paper.abs_url or f"https://arxiv.org/abs/{paper.id}"),
                             link("pdf", paper.pdf_url)) if one]
    categories = [one for one in (link(c, f"https://arxiv.org/list/{quote(c, safe='')}/recent")
                                  for c in paper.categories) if one]
    facts = [f"- {score_line(method, entry.score or 0.0, entry.sources)} "
             f"({entry.written_at:{STAMP}})", *(f"- {summary_line(s)}" for s in entry.sources)]
    shown = "".join((tweet_embed(m).rstrip("\n") if m.source == "x" else mention_card(m))
                    + "\n\n" for m in entry.shown)
    return (
        f"\n# {number}. {text_line(paper.title)}\n\n"
        f"{text_line(', '.join(paper.authors))}\n\n"
        + "\n".join(facts) + "\n\n"
        f"- links: {' | '.join(links)}\n"
        f"- {' | '.join(categories)}\n\n"
        f"{paragraphs(paper.abstract)}\n\n"
        f"{shown}\n\n"
    )


def render_lumen(post: Post) -> str:
    """The post as the original generator wrote it."""
    label = label_of(post)
    head = FRONT_MATTER.format(
        label=label, date=front_matter_date(post.generated_at, post.layout.get("date_zone", "")),
        image=post.layout.get("social_image", SOCIAL_IMAGE),
    )
    head += "\n" * post.layout.get("extra_lead_blank_lines", 0)
    if post.method != "classic":
        return head + "".join(render_ranked_entry(n, e, post.method)
                              for n, e in enumerate(post.entries, start=1))
    return head + "".join(render_entry(n, e) for n, e in enumerate(post.entries, start=1))
