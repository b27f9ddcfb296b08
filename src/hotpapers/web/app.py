"""`create_app`: the ASGI app `hotpapers serve` runs: the board and paper pages (the static
site's templates and styles), the JSON API, /healthz and /openapi.json, over a store read
read-only and never migrated."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from hotpapers import __version__
from hotpapers.config import Settings, load_settings
from hotpapers.errors import NothingToDo, StoreError
from hotpapers.jobs.browse import Cache, Reader, open_reader
from hotpapers.site.jinja import environment
from hotpapers.web import api_v1, board, search_page, subscribe
from hotpapers.web.manners import Manners, access_logger
from hotpapers.web.params import BadParameter
from hotpapers.web.respond import HTML, JSON, CachedResponses, json_bytes

__all__ = ["DB_VARIABLE", "QUIET_VARIABLE", "create_app", "from_environment"]

SITE = {"title": "Hot Papers", "base": "", "embeds": "static", "feeds": False,
        "search": False, "live_search": "/search", "windows": ["week", "month"]}
STATIC = Path(__file__).resolve().parents[1] / "site" / "static"
DB_VARIABLE = "HOTPAPERS_DB"  # what the workers of `serve --workers N` read the store from
QUIET_VARIABLE = "HOTPAPERS_SERVE_QUIET"  # non-empty: no access log


def create_app(store_url: str, settings: Settings, *,
               now: Callable[[], datetime] = lambda: datetime.now(UTC),
               access: Callable[[str], None] | None = None, cache: Cache | None = None
               ) -> FastAPI:
    """The app over the store at `store_url` (InputError: missing, or not at this code's
    revision); `access` receives the access-log lines; `now` is the rankings' clock."""
    engine = open_reader(store_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="hotpapers", version=__version__, lifespan=lifespan,
                  description="The arXiv papers researchers are talking about: rankings, "
                  "papers, their mentions and attention, and why each ranks where it does.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.reader = Reader(engine, settings, now, cache or Cache())
    app.state.responses = Cache()
    app.state.env = environment(SITE)
    app.state.site = SITE
    app.include_router(api_v1.router)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/static/{name}", static_file, methods=["GET"], include_in_schema=False)
    app.add_api_route("/favicon.svg", favicon, methods=["GET"], include_in_schema=False)
    app.include_router(subscribe.router)
    app.include_router(search_page.router)  # before the board's /{date}
    app.include_router(board.router)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(BadParameter, _bad_parameter)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(NothingToDo, _nothing)
    app.add_exception_handler(StoreError, _store_error)
    app.add_middleware(CachedResponses)  # inside CORS and manners: their headers apply
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"],
                       expose_headers=["ETag"], max_age=600)
    app.add_middleware(Manners, access=access)  # the outermost: every answer has manners
    return app


def from_environment() -> FastAPI:
    """The app for each worker of `hotpapers serve --workers N` (uvicorn's factory): the
    store from $HOTPAPERS_DB, the settings from $HOTPAPERS_CONFIG as the parent read them."""
    return create_app(os.environ[DB_VARIABLE], load_settings(None, missing_ok=True),
                      access=None if os.environ.get(QUIET_VARIABLE) else access_logger())


def healthz(request: Request) -> Response:
    """200 with the store's change stamp while the store answers."""
    stamp = request.app.state.reader.stamp()
    return Response(json_bytes({"status": "ok", "stamp": stamp}), media_type=JSON,
                    headers={"Cache-Control": "no-store"})


STATIC_FILES = {"style.css": "text/css; charset=utf-8"}


def static_file(name: str) -> Response:
    media = STATIC_FILES.get(name)
    if media is None:
        raise HTTPException(404, "no such file")
    return Response((STATIC / name).read_bytes(), media_type=media,
                    headers={"Cache-Control": "public, max-age=3600"})


def favicon() -> Response:
    return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/healthz", "/openapi", "/feed."))


def _problem(request: Request, status: int, message: str, parameter: str | None = None,
             headers: Mapping[str, str] | None = None) -> Response:
    """The error as JSON under /api/ (`error`, and `parameter` when one is to blame), else
    as a page; with the `headers` the error comes with (a 405's Allow)."""
    if _wants_json(request):
        body = {"error": message, **({"parameter": parameter} if parameter else {})}
        return Response(json_bytes(body), status_code=status, media_type=JSON,
                        headers=headers)
    html = request.app.state.env.get_template("problem.html").render(
        site=request.app.state.site, page=request.url.path, searched=False, status=status,
        message=message)
    return Response(html, status_code=status, media_type=HTML, headers=headers)


async def _invalid(request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
    name = location[0] if location else "request"
    message = str(first.get("msg", "not valid")).removeprefix("Value error, ")  # our own words
    return _problem(request, 422, f"{name}: {message}", name)


async def _bad_parameter(request: Request, exc: BadParameter) -> Response:
    return _problem(request, 422, str(exc), exc.name)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    message = exc.detail if isinstance(exc.detail, str) else "not found"
    if exc.status_code == 404 and message == "Not Found":
        message = f"nothing at {request.url.path[:200]}"
    return _problem(request, exc.status_code, message, headers=exc.headers)


async def _nothing(request: Request, exc: NothingToDo) -> Response:
    return _problem(request, 404, str(exc))


async def _store_error(request: Request, exc: StoreError) -> Response:
    return _problem(request, 500, f"the store: {exc}")
