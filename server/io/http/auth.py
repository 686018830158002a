"""Who is calling: organizer bearer tokens and session cookies; JSON errors.

Missing or wrong credentials are 401, right credentials with the wrong role
(or a point's token on an organizer route) are 403 (docs/protocol.md#authentication).

The session cookie carries a random session id, never a token; the server
keeps its hash in the ``_org`` stream with the token it stands for and its
expiry, so a session survives a restart, is seen by every process, ends at
logout, after 12 h, or when its token is revoked. A mutation authenticated
by the cookie must come from our own origin (``Origin``), and an address
or a wrong token presented again and again, is slowed down (429,
``Retry-After``); a valid token never is.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog
from aiohttp import web

from server.core import keyholders as kh
from server.core import org as orgs
from server.core.errors import (
    BadRequest,
    Forbidden,
    LaunchdayError,
    NotFound,
    PayloadTooLarge,
    TooMany,
    Unauthorized,
)
from server.core.fields import known_fields
from server.core.scope import Scope, Visible
from server.io import clock, metrics
from server.io.limits import MAX_JSON_BODY, guard_of

log = structlog.get_logger("launchday.http")

SESSION_COOKIE = "launchday_session"
STORE_KEY: web.AppKey[Any] = web.AppKey("store", object)
# The route table's role of a (method, path): set by server/io/http/routes.py, read by the OpenAPI document.
ROLE_OF_KEY: web.AppKey[Any] = web.AppKey("role_of", object)


def store_of(request: web.Request) -> Any:
    return request.app[STORE_KEY]


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WHO: web.RequestKey[Any] = web.RequestKey("organizer", object)


def _now_ms() -> float:
    return clock.now_ms()  # looked up on each call: a test moves the clock


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return ""


def client_address(request: web.Request) -> str:
    """The caller's address: the peer's, or, when the peer is a trusted proxy
    (``--trusted-proxy``), the address it forwards (server/io/http/proxy.py).
    Behind a proxy that is not configured as trusted every caller shares the
    proxy's address: wrong tokens from anyone slow everyone behind it."""
    return request.remote or "?"


def failed_auth(request: web.Request, credential: object, message: str) -> LaunchdayError:
    """The answer to a wrong credential (docs/protocol.md#limits): 401, or 429
    once this credential, or this address, has failed too often.

    Called only after the credential was looked up and found wrong: a valid
    credential is never refused by the limit, whoever shares its address (a
    hall's devices sit behind one NAT, and one stale tablet polling with a
    revoked token must not lock the control room out). Failures are counted
    per wrong credential (its hash: a stale token is slowed on its own) and
    per address (many different guesses are slowed too); a failure refused
    with 429 counts against neither, so a stale token that keeps polling
    does not drain its address's bucket."""
    now = _now_ms()
    guard = guard_of(request)
    key = orgs.token_hash(credential) if isinstance(credential, str) else f"not text: {type(credential).__name__}"
    address = client_address(request)
    wait = max(guard.credential_failures.wait_ms(key, now), guard.auth_failures.wait_ms(address, now))
    if wait > 0:
        return TooMany("this credential, or this address, failed too often; wait", code="rate_limited",
                       retry_after_ms=wait)
    guard.credential_failures.take(key, now)
    guard.auth_failures.take(address, now)
    return Unauthorized(message, code="unauthorized")


def session_organizer(request: web.Request) -> orgs.Holder | None:
    """Who a live session cookie stands for, else None."""
    sid = request.cookies.get(SESSION_COOKIE, "")
    if not sid:
        return None
    store = store_of(request)
    holder = orgs.session_holder(store.org, sid, _now_ms())
    if holder is None:
        return None
    if orgs.same_secret(holder, orgs.token_hash(store.admin_token)):
        return orgs.Holder("admin", "admin", holder)
    found = orgs.holder_of_hash(store.org, holder)
    if found is None:
        return None
    store.last_used[holder[:12]] = _now_ms()  # in memory, per process (see Store.last_used)
    return orgs.Holder(found.name, found.role, holder, found.scope)


@dataclass(frozen=True, slots=True)
class Who:
    """The organizer calling: name, role, whether by the session cookie, the
    hash of the token they hold, and a desk's scope (None: the whole province)."""

    name: str
    role: str
    by_cookie: bool
    holder: str
    scope: Scope | None = None


def identify(request: web.Request) -> Who:
    """The caller; 401/403/429 if none. Remembered on the request."""
    known: Who | None = request.get(_WHO)
    if known is not None:
        return known
    store = store_of(request)
    token = bearer(request)
    if token:
        who = store.organizer(token) if token.isascii() else None  # tokens are URL-safe base64
        if who is None:
            if store.point_by_token(token) is not None:
                raise Forbidden("a point's token cannot use organizer routes", code="forbidden")
            if _is_keyholder(store, token):
                raise Forbidden("a key holder's link can only press its own key", code="forbidden")
            raise failed_auth(request, token, "unknown or revoked token")
        result = Who(who.name, who.role, False, who.token_hash, who.scope)
    else:
        found = session_organizer(request)
        if found is None:
            raise Unauthorized("an organizer token is required (Authorization: Bearer …)"
                               if SESSION_COOKIE not in request.cookies
                               else "the session has ended; log in again", code="unauthorized")
        result = Who(found.name, found.role, True, found.token_hash, found.scope)
    request[_WHO] = result
    return result


_ACTOR: web.RequestKey[str] = web.RequestKey("actor", str)


def authorize(request: web.Request, role: str, socket: bool = False) -> None:
    """The route table's rule for an organizer route (server/io/http/routes.py),
    applied before its handler: the caller holds ``role`` (else 401/403), and
    a socket opened with the session cookie comes from our own origin."""
    if socket:
        check_origin(request)  # a page of another site cannot open it with the cookie (403 before the upgrade)
    request[_ACTOR] = need(request, role)


_VISIBLE: web.RequestKey[Any] = web.RequestKey("visible", object)


def desk_rule(request: web.Request, scope: Scope, reach: str, role: str, socket: bool = False) -> None:
    """A desk on a route (server/io/http/routes.py ``DeskRule``): refused where
    it may not act, kept to its event, and to its subtree where the path names
    a point or an incident; the subtree it may see is remembered on the request
    (``visible_of``) for the handler's answer."""
    if reach == "forbidden":
        raise Forbidden("a desk cannot do this; ask the province's control room", code="forbidden")
    authorize(request, role, socket)
    if reach == "self":
        return
    eid = request.match_info.get("eid") or (request.query.get("event") if socket else None)
    if eid is not None and eid != scope.event:
        raise Forbidden("this event is outside the desk's scope", code="out_of_scope")
    if reach != "subtree":
        return
    rt = store_of(request).events.get(scope.event)
    if rt is None:
        raise NotFound(f"no event {scope.event!r}", code="event_not_found")
    visible = Visible(rt.state, scope.point)
    code = request.match_info.get("code")
    if code is not None and code not in visible:
        raise Forbidden(f"point {code!r} is outside the desk's scope", code="out_of_scope")
    iid = request.match_info.get("iid")
    if iid is not None:
        incident = rt.state.incidents.get(iid)
        if incident is None or incident.point not in visible:
            raise Forbidden(f"incident {iid!r} is outside the desk's scope", code="out_of_scope")
    request[_VISIBLE] = visible


def visible_of(request: web.Request) -> Visible | None:
    """The points a desk may see on this request (None: everything, an unscoped caller)."""
    found: Visible | None = request.get(_VISIBLE)
    return found


def actor_of(request: web.Request) -> str:
    """The organizer calling, as the route table's rule found it."""
    try:
        return request[_ACTOR]
    except KeyError:  # a programming error: the route's table entry is not an organizer role
        raise RuntimeError(f"{request.method} {request.path}: no organizer role in the route table") from None


def scope_of(request: web.Request) -> Scope | None:
    """A desk's scope (after the route's rule has identified the caller); None: unscoped."""
    who: Who | None = request.get(_WHO)
    return who.scope if who is not None else None


def role_of(request: web.Request) -> str | None:
    try:
        return identify(request).role
    except LaunchdayError:
        return None


def need(request: web.Request, role: str) -> str:
    """The organizer's name if the caller holds ``role`` (or more); else 401/403.
    A cookie-authenticated mutation must come from our own origin."""
    who = identify(request)
    name, have = who.name, who.role
    if who.by_cookie and request.method not in _SAFE_METHODS:
        check_origin(request)
    if not orgs.role_allows(have, role):
        raise Forbidden(f"this needs the {role} role; you are {have}", code="forbidden")
    return name


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return "?"
    return host if port is None or port == default else f"{host}:{port}"


def check_origin(request: web.Request) -> None:
    """Refuse (403 ``forbidden_origin``) a browser request from another site.

    ``Origin`` must name this server (the ``Host`` it was reached at, or
    ``LAUNCHDAY_PUBLIC_URL``). A request without ``Origin`` is let through
    unless ``Sec-Fetch-Site`` says it is cross-site: browsers send ``Origin``
    on every mutation and every WebSocket, and a client that is not a
    browser is not being tricked into sending a cookie.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        if request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none"):
            return
        raise Forbidden("a cross-site request cannot use the session", code="forbidden_origin")
    allowed = {_netloc(f"{request.scheme}://{request.host}")}
    public = os.environ.get("LAUNCHDAY_PUBLIC_URL", "").strip()
    if public:
        allowed.add(_netloc(public))
    if origin == "null" or _netloc(origin) not in allowed:
        raise Forbidden("requests from another site cannot use the session", code="forbidden_origin")


def new_session_id() -> str:
    """256 random bits; only its hash is stored."""
    return secrets.token_urlsafe(32)


def _is_keyholder(store: Any, token: str) -> bool:
    return any(kh.find_by_token(rt.state, token) is not None for rt in store.events.values())


def error_response(err: LaunchdayError) -> web.Response:
    metrics.ERRORS.labels(err.code).inc()
    headers = {}
    if isinstance(err, TooMany) and err.retry_after_ms is not None:
        headers["Retry-After"] = str(max(1, math.ceil(err.retry_after_ms / 1000)))
    return web.json_response(err.to_body(), status=err.status, headers=headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 400: "bad_request"}


@web.middleware
async def errors_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every refusal becomes the coded JSON error; nothing escapes as a crash.

    In a cluster, a request about an event is answered only after this
    process has folded what the other processes wrote to it until now: the
    request may follow a write made through another process (one round trip
    to Redis; nothing with the embedded journal)."""
    try:
        eid = request.match_info.get("eid")
        if eid is not None:
            await store_of(request).catch_up(eid)
        return await handler(request)
    except LaunchdayError as err:
        return error_response(err)
    except web.HTTPRequestEntityTooLarge:
        return error_response(PayloadTooLarge("the request body is too large", code="too_large"))
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


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refused (413 ``too_large``) past ``limit`` bytes without
    reading more than that: a declared length is checked before reading."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is over {limit:,} bytes", code="too_large")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit:,} bytes", code="too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: web.Request, allowed: Iterable[str]) -> dict[str, Any]:
    """The JSON object body naming only ``allowed`` fields, else 400
    ``unknown_field`` (server/core/fields.py); no body at all is ``{}``. A
    route that takes no body passes ``()``: a body with a field is refused."""
    if not request.can_read_body:
        return {}
    return known_fields(await json_body(request), allowed)


async def json_body(request: web.Request) -> Any:
    """The JSON body (at most 64 KiB)."""
    data = await read_body(request, MAX_JSON_BODY)
    try:
        # orjson, strict: invalid UTF-8, lone surrogates ("\ud800", which no
        # journal could store) and nesting past 1,024 levels are refused.
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not valid JSON", code="invalid_json") from None
