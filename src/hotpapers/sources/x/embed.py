"""Tweet embed HTML built from what the search already returned: the same blockquote that
X's oEmbed endpoint serves (text, author, dated permalink, widgets script), so a post can
show its tweets without one more request per tweet. Pure."""

from __future__ import annotations

import html
import re
from datetime import datetime

__all__ = ["WIDGET", "local_embed"]

WIDGET = ('<script async src="https://platform.twitter.com/widgets.js" charset="utf-8">'
          "</script>")
_SHORT_LINK = re.compile(r"https://t\.co/[A-Za-z0-9]+")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def _body(text: str) -> str:
    """The post's text as HTML: escaped once (X sends &amp; &lt; &gt; escaped), its t.co
    links as anchors, line breaks as <br>."""
    escaped = html.escape(html.unescape(text), quote=False)
    linked = _SHORT_LINK.sub(lambda m: f'<a href="{m[0]}">{m[0]}</a>', escaped)
    return linked.replace("\n", "<br>")


def local_embed(text: str, permalink: str, created_at: datetime | None,
                name: str | None = None, handle: str | None = None) -> str:
    """`<blockquote class="twitter-tweet">` with the text, `&mdash; NAME (@handle)` and
    the permalink dated like X's own embeds ("July 12, 2023"), then the widgets script."""
    author = ""
    if handle:
        author = f"&mdash; {html.escape(name or handle)} (@{html.escape(handle)}) "
    when = (f"{_MONTHS[created_at.month - 1]} {created_at.day}, {created_at.year}"
            if created_at else permalink)
    return (f'<blockquote class="twitter-tweet"><p>{_body(text)}</p>{author}'
            f'<a href="{html.escape(permalink)}">{html.escape(when)}</a></blockquote>\n'
            f"{WIDGET}\n")
