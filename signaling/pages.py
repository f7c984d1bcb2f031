"""The browser client's pages and static files (web/static, owned by the web package)."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from signaling.errors import SignalingError

try:  # the web package says where its files are; fall back to the repository layout
    from web import STATIC_DIR
except ImportError:  # pragma: no cover - only without the web package installed
    STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"

_CODE_RE = re.compile(r"[A-Za-z0-9_-]{4,64}")
NO_CACHE = {"Cache-Control": "no-cache"}


def _page(name: str) -> web.FileResponse:
    path = Path(STATIC_DIR) / name
    if not path.is_file():
        raise SignalingError("not_found", f"the web client has no {name}")
    return web.FileResponse(path, headers=NO_CACHE)


async def landing(request: web.Request) -> web.FileResponse:
    return _page("index.html")


async def join_page(request: web.Request) -> web.FileResponse:
    # The page reads the code from its own path; a malformed one is a plain 404.
    if not _CODE_RE.fullmatch(request.match_info["code"]):
        raise SignalingError("not_found", "malformed join link")
    return _page("join.html")


async def field_page(request: web.Request) -> web.FileResponse:
    """The phone page of field staff: one tap streams the back camera with GPS."""
    if not _CODE_RE.fullmatch(request.match_info["code"]):
        raise SignalingError("not_found", "malformed field link")
    return _page("field.html")


async def wall_page(request: web.Request) -> web.FileResponse:
    # /wall/<share code>, or /wall?room=<id>#token=<token> for operators with a token.
    code = request.match_info.get("code")
    if code is not None and not _CODE_RE.fullmatch(code):
        raise SignalingError("not_found", "malformed wall link")
    return _page("wall.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", landing)
    app.router.add_get("/j/{code}", join_page)
    app.router.add_get("/f/{code}", field_page)
    app.router.add_get("/wall", wall_page)
    app.router.add_get("/wall/{code}", wall_page)
    app.router.add_static("/static/", Path(STATIC_DIR), append_version=False)
