"""The attention sources by name, built from settings and secrets; a source that lacks its
credentials comes back as Skipped, so a run of several sources can go on and say why."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

import httpx

from hotpapers.config import Secrets, Settings
from hotpapers.errors import InputError, MissingCredentials
from hotpapers.http import Clock
from hotpapers.sources.base import MentionSource

__all__ = ["SOURCES", "Skipped", "build_source", "build_sources"]


@dataclass(frozen=True)
class Skipped:
    """A source that was asked for but cannot run, and why."""

    name: str
    reason: str

SOURCES: dict[str, tuple[str, str]] = {
    "x": ("hotpapers.sources.x.search", "XSource"),
    "bluesky": ("hotpapers.sources.bluesky.search", "BlueskySource"),
    "hn": ("hotpapers.sources.hn", "HackerNewsSource"),
    "hf": ("hotpapers.sources.hf", "HuggingFaceSource"),
    "mastodon": ("hotpapers.sources.mastodon", "MastodonSource"),
    "reddit": ("hotpapers.sources.reddit", "RedditSource"),
}


def build_source(name: str, settings: Settings, secrets: Secrets, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None) -> MentionSource:
    """The source called `name`; InputError for an unknown name, MissingCredentials when
    it needs a secret that is not set."""
    if name not in SOURCES:
        raise InputError(f"--source {name}: unknown source (known: {', '.join(SOURCES)}, all)")
    module, cls = SOURCES[name]
    return getattr(import_module(module), cls)(settings, secrets, clock=clock,
                                               transport=transport)


def build_sources(names: list[str], settings: Settings, secrets: Secrets,
                  clock: Clock | None = None, transport: httpx.BaseTransport | None = None
                  ) -> list[MentionSource | Skipped]:
    """The sources called `names` ("all": the mention_sources setting); one lacking its
    credentials is returned as Skipped when several were asked for, and refused
    (MissingCredentials, exit 2) when it is the only one."""
    if "all" in names:
        names = list(settings.mention_sources)
    built: list[MentionSource | Skipped] = []
    for name in dict.fromkeys(names):
        try:
            built.append(build_source(name, settings, secrets, clock, transport))
        except MissingCredentials as exc:
            if len(names) == 1:
                raise
            built.append(Skipped(name, str(exc)))
    return built
