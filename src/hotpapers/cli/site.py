"""`hotpapers site build`: the static site of the published days."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hotpapers.cli.common import err, state_of

__all__ = ["site_app"]

site_app = typer.Typer(no_args_is_help=True,
                       help="Build the static site: pages, feeds and a search index (Pagefind).")


class Embeds(StrEnum):
    static = "static"
    oembed = "oembed"


@site_app.command("build")
def build_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", metavar="DIR", help="Where to write the site (default: ./site).")] = Path("site"),
    embeds: Annotated[Embeds, typer.Option(
        help="static: a card per mention, no third-party script; oembed: the stored "
        "embed HTML with the platform's script, as the original did.")] = Embeds.static,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1, metavar="N",
        help="Processes rendering pages (default: one per CPU).")] = None,
) -> None:
    """Build the site from the store; only pages whose data changed are made again, and
    files an earlier build made that are no longer made are removed.

    Links are root-relative under site_url's path: serve DIR over HTTP to browse it
    (e.g. python -m http.server -d DIR). Without site_url there are no feeds and no
    sitemap (they need absolute URLs). Search is Pagefind's index of the day and paper
    pages (the pagefind-bin package's binary, or PAGEFIND_BINARY_PATH); when it cannot run,
    the pages have no search box.

    Example: hotpapers site build --out public --embeds static
    """
    from hotpapers.jobs.build_site import build_site
    from hotpapers.store.raw import open_raw

    state = state_of(ctx)
    settings = state.settings
    with open_raw(state.db_url, create=False) as store:
        summary = build_site(store, out, site_url=settings.site_url, embeds=embeds.value,
                             workers=jobs)
    for warning in summary.warnings:
        err.print(f"hotpapers: warning: {warning}", highlight=False, soft_wrap=True)
    state.say(summary.line())
