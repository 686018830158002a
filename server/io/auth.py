"""Who is calling: organizer bearer tokens and session cookies; JSON errors.

Missing or wrong credentials are 401, right credentials with the wrong role
(or a point's token on an organizer route) are 403 (docs/protocol.md#authentication).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from server.core import keyholders as kh
from server.core import org as orgs
from server.core.errors import BadRequest, Forbidden, LaunchdayError, PayloadTooLarge, Unauthorized
from server.io import metrics

log = structlog.get_logger("launchday.http")

SESSION_COOKIE = "launchday_session"
STORE_KEY: web.AppKey[Any] = web.AppKey("store", object)


def store_of(request: web.Request) -> Any:
    return request.app[STORE_KEY]


def credential(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(SESSION_COOKIE, "")


def role_of(request: web.Request) -> str | None:
    who = store_of(request).organizer(credential(request))
    return who[1] if who else None


def need(request: web.Request, role: str) -> str:
    """The organizer's name if the caller holds ``role`` (or more); else 401/403."""
    store = store_of(request)
    token = credential(request)
    who = store.organizer(token)
    if who is None:
        if token and store.point_by_token(token) is not None:
            raise Forbidden("a point's token cannot use organizer routes", code="forbidden")
        if token and _is_keyholder(store, token):
            raise Forbidden("a key holder's link can only press its own key", code="forbidden")
        raise Unauthorized("an organizer token is required (Authorization: Bearer …)" if not token
                           else "unknown or revoked token", code="unauthorized")
    name, have = who
    if not orgs.role_allows(have, role):
        raise Forbidden(f"this needs the {role} role; you are {have}", code="forbidden")
    return str(name)


def _is_keyholder(store: Any, token: str) -> bool:
    return any(kh.find_by_token(rt.state, token) is not None for rt in store.events.values())


def error_response(err: LaunchdayError) -> web.Response:
    metrics.ERRORS.labels(err.code).inc()
    return web.json_response(err.to_body(), status=err.status)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 400: "bad_request"}


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every refusal becomes the coded JSON error; nothing escapes as a crash."""
    try:
        return await handler(request)
    except LaunchdayError as err:
        return error_response(err)
    except web.HTTPRequestEntityTooLarge:
        return error_response(PayloadTooLarge("the request body is too large", code="payload_too_large"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        return web.json_response({"error": {"code": code, "message": exc.reason}}, status=exc.status,
                                 headers={k: v for k, v in exc.headers.items() if k == "Allow"})
    except Exception:
        log.exception("handler_failed", path=request.path, method=request.method)
        return web.json_response({"error": {"code": "internal", "message": "internal error"}}, status=500)


def event_of(request: web.Request) -> Any:
    """The runtime of the event named by the route's ``{eid}`` (404 if none)."""
    return store_of(request).event(request.match_info["eid"])


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with Vietnamese left readable (no \\u escapes)."""
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except web.HTTPRequestEntityTooLarge:
        raise
    except ValueError:
        raise BadRequest("the body is not valid JSON", code="invalid_json") from None
