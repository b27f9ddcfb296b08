"""The site's Jinja2 environment: templates compiled once and kept in the user's cache, and
the parts many pages share (head, header, footer, mention cards, list lines) rendered once
per process."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import platformdirs
from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from hotpapers.site.context import MentionCard, PaperView
from hotpapers.site.embeds import widget_scripts

__all__ = ["environment", "prepare"]

TEMPLATES = Path(__file__).with_name("templates")


def environment(site: dict):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False,
                      bytecode_cache=_bytecode_cache())
    env.globals["fragments"] = _Fragments(env, site["embeds"])
    env.globals["chrome"] = _Chrome(env, site)
    env.globals["widget_scripts"] = lambda cards: Markup(widget_scripts(cards))
    return env


def _bytecode_cache():
    """The compiled templates, kept in the user's cache folder between builds (compiling
    them costs a fifth of a second); Jinja checks each against its template's source."""
    class Cache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket) -> None:
            try:
                Path(self.directory).mkdir(parents=True, exist_ok=True)
                super().dump_bytecode(bucket)
            except OSError:  # a read-only home: compile every time, as without a cache
                pass

        def load_bytecode(self, bucket) -> None:
            with contextlib.suppress(OSError):
                super().load_bytecode(bucket)

    return Cache(str(Path(platformdirs.user_cache_dir("hotpapers")) / "templates"))


class _Chrome:
    """The head, header and footer every page shares, rendered once (`_chrome.html`)."""

    def __init__(self, env, site: dict):
        module = env.get_template("_chrome.html").make_module({"site": site})
        self.head, self.feeds, self.script, self.footer = (
            macro().rstrip("\n") for macro in (module.head, module.feeds, module.script,
                                                module.footer))
        self._header = module.header
        self._current = {f"{site['base']}{p}" for p in ("/", "/archive/", "/categories/")}
        self._headers: dict[str, object] = {}

    def header(self, page: str):
        key = page if page in self._current else ""  # the page marked as current, if any
        found = self._headers.get(key)
        if found is None:
            found = self._headers[key] = self._header(key).rstrip("\n")
        return found


class _Fragments:
    """Parts that several pages show, rendered once: a mention's card (a day's page and the
    paper's page), a paper's line in a category's list (every category it is in)."""

    def __init__(self, env, embeds: str):
        self._env = env
        self._embeds = embeds
        self._cards: dict[str, object] = {}
        self._lines: dict[int, object] = {}

    @functools.cached_property
    def _macros(self):
        return self._env.get_template("_macros.html").module

    def prepare(self) -> None:
        self._macros  # noqa: B018 (made before the processes part)

    def card(self, card: MentionCard):
        # every field the macro shows (its paragraphs are made from text and source)
        key = (card.source, card.source_label, card.name, card.handle, card.date, card.text,
               tuple(card.counts), card.url, card.embed_html, card.widget, card.profile)
        found = self._cards.get(key)
        if found is None:
            found = self._cards[key] = self._macros.mention(card, self._embeds)
        return found

    def listing(self, paper: PaperView):
        found = self._lines.get(id(paper))  # the views live as long as the build
        if found is None:
            found = self._lines[id(paper)] = self._macros.listing(paper)
        return found


def prepare(env) -> None:
    """Load every template and the macros, before the rendering processes part."""
    for name in env.list_templates():
        env.get_template(name)
    env.globals["fragments"].prepare()
