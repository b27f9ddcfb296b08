"""Tweet embeds from X's public oEmbed endpoint: the blockquote and widgets script that a
published post shows, exactly as served. No credentials."""

from __future__ import annotations

import httpx

from hotpapers.config import Settings
from hotpapers.errors import SourceError
from hotpapers.http import Clock, source_http
from hotpapers.sources.common import json_body

__all__ = ["TweetEmbeds"]


class TweetEmbeds:
    """Embed HTML for tweet URLs from `settings.x_oembed_url`."""

    def __init__(self, settings: Settings, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.http = source_http(settings, clock, transport)

    @property
    def requests(self) -> int:
        return self.http.requests

    def embed(self, tweet_url: str) -> str | None:
        """The `html` of the post's oEmbed (with its widgets <script>), or None when X has
        no embed for it (404: deleted or protected). SourceError on other failures."""
        what = f"X oEmbed of {tweet_url}"
        response = self.http.get(self.settings.x_oembed_url,
                                 params={"url": tweet_url, "dnt": "true"}, what=what,
                                 accept=(404,))
        if response.status_code == 404:
            return None
        body = json_body(response, what, lead="unexpected answer:")
        if not isinstance(body, dict) or not isinstance(body.get("html"), str):
            raise SourceError(f"{what}: unexpected answer: no 'html' text")
        return body["html"]
