"""Reading Bluesky post records and post views: the links a post carries (facets and
external embeds, also inside record-with-media embeds) and its web permalink. Pure."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["post_links", "post_permalink", "rkey_of"]

_LINK = "app.bsky.richtext.facet#link"


def _embed_links(embed: Mapping[str, Any] | None) -> Iterator[str]:
    if not isinstance(embed, Mapping):
        return
    external = embed.get("external")
    if isinstance(external, Mapping) and isinstance(external.get("uri"), str):
        yield external["uri"]
    yield from _embed_links(embed.get("media"))  # app.bsky.embed.recordWithMedia


def post_links(record: Mapping[str, Any], view_embed: Mapping[str, Any] | None = None
               ) -> list[str]:
    """Full URLs of a post: its link facets (the text shows them shortened), its external
    embed (a link card) in the record and, for a post view, in the view's embed."""
    links: list[str] = []
    for facet in record.get("facets") or ():
        for feature in (facet.get("features") or ()) if isinstance(facet, Mapping) else ():
            if isinstance(feature, Mapping) and feature.get("$type") == _LINK \
                    and isinstance(feature.get("uri"), str):
                links.append(feature["uri"])
    links.extend(_embed_links(record.get("embed")))
    links.extend(_embed_links(view_embed))
    return list(dict.fromkeys(links))


def rkey_of(uri: str) -> str:
    """The record key, the last part of an at:// URI."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def post_permalink(uri: str, handle: str | None = None) -> str:
    """The bsky.app address of a post `at://DID/app.bsky.feed.post/RKEY` (by handle when
    known, else by DID)."""
    did = uri.removeprefix("at://").split("/", 1)[0]
    return f"https://bsky.app/profile/{handle or did}/post/{rkey_of(uri)}"
