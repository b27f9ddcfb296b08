"""Stored embed HTML made safe for the site's `oembed` mode: an allowlist (nh3) of the
platforms' blockquote markup, and the widget script each platform's blockquotes need.

The stored bytes are never changed (lumen posts re-render them exactly); only what the site
writes is cleaned. Mastodon's embed script is served by each instance, so a Mastodon
blockquote is shown as it is, without a script from a host a post names."""

from __future__ import annotations

import functools
import re

import nh3

__all__ = ["WIDGETS", "clean_embed", "widget_of", "widget_scripts"]

# The class a platform gives its blockquote -> the platform's own widget script.
WIDGETS = {
    "twitter-tweet": "https://platform.twitter.com/widgets.js",
    "bluesky-embed": "https://embed.bsky.app/static/embed.js",
}
BLOCKQUOTE_CLASSES = {*WIDGETS, "twitter-video", "mastodon-embed"}
_TAGS = {"blockquote", "p", "a", "br"}
_DROPPED_WITH_CONTENT = {"script", "style", "iframe", "svg", "math", "object", "embed",
                         "noscript", "template", "textarea", "select", "title", "xmp",
                         "noembed", "noframes", "frame", "frameset", "applet"}
_CLASS = re.compile(r'<blockquote\b[^>]*\bclass="([^"]*)"')


@functools.lru_cache(maxsize=4096)
def clean_embed(html: str) -> str:
    """`html` with only the platforms' blockquote markup left: blockquote (their classes),
    p, a with an http(s) href, br, `lang`/`dir` and `data-` attributes; nothing that runs."""
    return nh3.clean(
        html, tags=_TAGS, clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes={"blockquote": {"lang", "dir", "cite"}, "p": {"lang", "dir"},
                    "a": {"href", "lang", "dir"}},
        generic_attribute_prefixes={"data-"},
        allowed_classes={"blockquote": BLOCKQUOTE_CLASSES},
        url_schemes={"http", "https"}, url_relative="deny", link_rel="noopener noreferrer nofollow",
        strip_comments=True).strip()


def widget_of(cleaned: str) -> str | None:
    """The widget script a cleaned embed needs (its first platform blockquote's), if any."""
    for classes in _CLASS.findall(cleaned):
        for name in classes.split():
            if name in WIDGETS:
                return WIDGETS[name]
    return None


def widget_scripts(cards) -> str:
    """The script elements of the widgets some of `cards` (mention cards) need, each once,
    in the order of first need."""
    needed = dict.fromkeys(card.widget for card in cards if card.widget)
    return "".join(f'<script async src="{url}" charset="utf-8"></script>\n' for url in needed)
