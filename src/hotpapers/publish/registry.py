"""The publishers by name, built from settings and secrets."""

from __future__ import annotations

from importlib import import_module

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError
from hotpapers.publish.base import Publisher
from hotpapers.sources.http import Clock

__all__ = ["TARGETS", "build_publisher"]

TARGETS: dict[str, tuple[str, str]] = {
    "git": ("hotpapers.publish.git", "GitPublisher"),
    "bluesky": ("hotpapers.publish.bluesky", "BlueskyPublisher"),
    "mastodon": ("hotpapers.publish.mastodon", "MastodonPublisher"),
    "email": ("hotpapers.publish.email", "EmailPublisher"),
    "webhook": ("hotpapers.publish.webhook", "WebhookPublisher"),
}


def build_publisher(name: str, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                    transport: httpx.BaseTransport | None = None) -> Publisher:
    """The publisher called `name`; InputError for an unknown one, MissingCredentials or
    InputError when its secrets or settings are missing."""
    if name not in TARGETS:
        raise InputError(f"--to {name}: unknown target (known: {', '.join(TARGETS)})")
    module, cls = TARGETS[name]
    return getattr(import_module(module), cls)(settings, secrets, clock=clock,
                                               transport=transport)
