"""Read a tweet's oEmbed HTML (`publish.twitter.com/oembed`) back into a mention: the
status id, permalink, author, date and plain text it shows. Pure; no I/O."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import UTC, datetime

from hotpapers.models import Account, Mention

__all__ = ["parse_tweet_embed"]

_STATUS_LINK = re.compile(
    r'<a href="(?P<url>https?://(?:mobile\.|www\.)?(?:twitter|x)\.com/(?P<handle>[^/"]+)'
    r'/status(?:es)?/(?P<id>\d+))[^"]*">(?P<date>[^<]*)</a>\s*</blockquote>'
)
_AUTHOR = re.compile(r"&mdash; (?P<name>.*?) \(@(?P<handle>[^)\s]+)\) <a href=")
_PARAGRAPH = re.compile(r"<p\b[^>]*>(?P<text>.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>", re.I)


def _plain_text(fragment: str) -> str:
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", fragment))).strip()


def _embed_date(text: str) -> datetime | None:
    try:
        return datetime.strptime(html.unescape(text).strip(), "%B %d, %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_tweet_embed(embed_html: str) -> Mention:
    """The mention an oEmbed blockquote shows. Paper ids are left for the caller to fill.

    An embed without a status link still becomes a mention, keyed by a digest of its HTML,
    so that nothing published is lost.
    """
    link = _STATUS_LINK.search(embed_html)
    author = _AUTHOR.search(embed_html)
    paragraph = _PARAGRAPH.search(embed_html)
    handle = (author and author["handle"]) or (link and link["handle"]) or None
    account = None
    if handle:
        name = html.unescape(author["name"]) if author else None
        account = Account(source="x", native_id=f"@{handle.lower()}", handle=handle, name=name)
    if link:
        native_id, permalink = link["id"], link["url"]
        created = _embed_date(link["date"])
    else:
        native_id = "embed-" + hashlib.sha256(embed_html.encode()).hexdigest()[:20]
        permalink, created = None, None
    return Mention(
        source="x",
        native_id=native_id,
        paper_ids=[],
        permalink=permalink,
        account=account,
        text=_plain_text(paragraph["text"]) if paragraph else None,
        created_at=created,
        embed_html=embed_html,
    )
