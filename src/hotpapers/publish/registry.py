"""The publishers by name, built from settings and secrets (for a preview, the bots
without their credentials: their payloads do not depend on them)."""

from __future__ import annotations

from importlib import import_module

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError
from hotpapers.http import Clock
from hotpapers.publish.base import Publisher

__all__ = ["TARGETS", "build_publisher"]

TARGETS: dict[str, tuple[str, str]] = {
    "git": ("hotpapers.publish.git", "GitPublisher"),
    "bluesky": ("hotpapers.publish.bluesky_bot", "BlueskyPublisher"),
    "mastodon": ("hotpapers.publish.mastodon_bot", "MastodonPublisher"),
    "email": ("hotpapers.publish.email", "EmailPublisher"),
    "webhook": ("hotpapers.publish.webhook", "WebhookPublisher"),
}
PREVIEW_WITHOUT_CREDENTIALS = {"bluesky", "mastodon"}  # `missing` names what a real run needs


def build_publisher(name: str, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                    transport: httpx.BaseTransport | None = None, *,
                    preview: bool = False) -> Publisher:
    """The publisher called `name`; InputError for an unknown one, MissingCredentials or
    InputError when its secrets or settings are missing. With `preview` (a dry run), the
    targets of PREVIEW_WITHOUT_CREDENTIALS are built without their credentials."""
    if name not in TARGETS:
        raise InputError(f"--to {name}: unknown target (known: {', '.join(TARGETS)})")
    module, cls = TARGETS[name]
    extra = {"preview": True} if preview and name in PREVIEW_WITHOUT_CREDENTIALS else {}
    return getattr(import_module(module), cls)(settings, secrets, clock=clock,
                                               transport=transport, **extra)
