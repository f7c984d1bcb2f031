"""HTTP edges: error rendering, CORS for WHIP/WHEP/REST, bearer tokens, bounded bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from signaling.errors import SignalingError
from signaling.tokens import Claims, verify_token

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORS_PREFIXES = ("/whip/", "/whep/", "/api/")
TEXT_ERROR_PREFIXES = ("/whip/", "/whep/")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Expose-Headers": "Location, Link, ETag, Accept-Post, Accept-Patch",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, PATCH, OPTIONS",
    "Access-Control-Max-Age": "600",
}


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, indent=1),
                             **kwargs)


def error_response(request: web.Request, exc: SignalingError) -> web.Response:
    """JSON {error, message} for REST; text for WHIP/WHEP, whose tools print the body."""
    headers: dict[str, str] = {}
    status = exc.http_status
    url = exc.extra.get("url")
    if exc.code == "wrong_node":
        if url:
            headers["Location"] = url.rstrip("/") + request.path_qs
        else:
            status = 503
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if request.path.startswith(TEXT_ERROR_PREFIXES):
        return web.Response(status=status, text=f"{exc.code}: {exc.message}\n", headers=headers)
    return json_response(exc.to_json(), status=status, headers=headers)


@web.middleware
async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cors = request.path.startswith(CORS_PREFIXES)
    if cors and request.method == "OPTIONS":
        headers = dict(CORS_HEADERS)
        if request.path.startswith(("/whip/", "/whep/")):
            headers["Accept-Post"] = "application/sdp"
        return web.Response(status=204, headers=headers)
    try:
        response = await handler(request)
    except SignalingError as exc:
        response = error_response(request, exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status, "bad_request")
        response = error_response(request, SignalingError(code, exc.reason))
        response.set_status(exc.status)
        response.headers.update({k: v for k, v in exc.headers.items() if k == "Allow"})
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = error_response(request, SignalingError("internal", "internal server error"))
    if cors:
        response.headers.update({k: v for k, v in CORS_HEADERS.items()
                                 if k.startswith("Access-Control-Allow-Origin")
                                 or k.startswith("Access-Control-Expose")})
    return response


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise SignalingError("auth_failed", "missing 'Authorization: Bearer <token>' header")
    return value.strip()


def room_claims(request: web.Request, secret: str, room_id: str,
                grant: str | None = None) -> Claims:
    """Verify the request's bearer token for `room_id` (and `grant`, if given)."""
    claims = verify_token(secret, bearer(request), room_id)
    if grant is not None and not claims.allows(grant):
        raise SignalingError("forbidden", f"token lacks the {grant!r} grant")
    return claims


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without reading them all."""
    if request.content_length is not None and request.content_length > limit:
        raise SignalingError("too_large", f"body is larger than {limit} bytes")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise SignalingError("too_large", f"body is larger than {limit} bytes")
    return body


async def read_json(request: web.Request, limit: int = 65536) -> dict[str, Any]:
    body = await read_body(request, limit)
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SignalingError("bad_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SignalingError("bad_json", "body must be a JSON object")
    return data
