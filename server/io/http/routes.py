"""Every HTTP route and socket of the server, declared once, with its role.

The application's router is built from this table (``install``), the auth
middleware enforces each route's role from it (``server/io/http/auth.py``),
and the OpenAPI document takes its security from it
(``server/io/http/openapi.py``). ``tests/io/http/test_routes.py`` walks the
aiohttp router and fails on a route that is not here, or an entry here with
no route.

Roles:

- ``public``: no credential (health, metrics, log-in, pages, static files);
- ``point``: a point's own link token, checked by its handler;
- ``keyholder``: a key holder's own token, checked by its handler;
- ``viewer`` ⊂ ``operator`` ⊂ ``admin``: an organizer token or session, checked
  by the middleware before the handler runs. The handler reads the caller's
  name with :func:`server.io.http.auth.actor_of`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiohttp import web

from server.io.http import (
    ceremony,
    desks,
    files,
    links,
    openapi,
    pages,
    people,
    registry,
    reports,
    rest,
)
from server.io.http.auth import ROLE_OF_KEY, authorize, desk_rule, identify
from server.io.ws import console as ws_console
from server.io.ws import point as ws_point

Role = Literal["public", "point", "keyholder", "viewer", "operator", "admin"]
ORGANIZER_ROLES = frozenset({"viewer", "operator", "admin"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class DeskRule:
    """What a desk (a token scoped to one point's subtree, docs/protocol.md#desks) may do on a route:

    - ``self``: its own identity and event list (no event in the path);
    - ``event``: its event only, and the answer is the event's (the agenda: the ceremony is the same
      for every desk);
    - ``subtree``: its event only; a point or incident in the path must be in its subtree, and the
      answer is filtered to the subtree (``auth.visible_of``);
    - ``forbidden``: 403, whatever its role (the launch, the agenda, imports, events, tokens).
    """

    reach: Literal["self", "event", "subtree", "forbidden"]
    role: Role | None = None  # the role a desk needs here, where it differs from the route's


SELF, EVENT, SUB, NO = DeskRule("self"), DeskRule("event"), DeskRule("subtree"), DeskRule("forbidden")
SUB_OP = DeskRule("subtree", "operator")  # e.g. rotating a link: a desk's operator, inside its subtree
SUB_VIEW = DeskRule("subtree", "viewer")  # e.g. its link sheet: any desk hands out its own links


@dataclass(frozen=True)
class Route:
    method: str  # GET (HEAD comes with it), POST, PUT, PATCH, DELETE; WS: a socket (a GET upgraded)
    path: str  # aiohttp's pattern, regular expressions included
    handler: Handler
    role: Role
    desk: DeskRule | None = None  # every organizer route has one (checked below); no other route

    def __post_init__(self) -> None:
        if (self.role in ORGANIZER_ROLES) != (self.desk is not None):
            raise RuntimeError(f"{self.method} {self.path}: an organizer route needs a desk rule, "
                               "no other route has one")

    @property
    def http_method(self) -> str:
        return "GET" if self.method == "WS" else self.method


@dataclass(frozen=True)
class Static:
    prefix: str
    directory: Path


R = Route
ROUTES: tuple[Route, ...] = (
    # -- service ---------------------------------------------------------------------
    R("GET", "/healthz", rest.healthz, "public"),
    R("GET", "/metrics", rest.prometheus, "public"),
    R("GET", "/api/openapi.json", openapi.handle, "public"),
    # -- organizers: sessions and tokens -------------------------------------------------
    R("POST", "/api/session", rest.login, "public"),
    R("DELETE", "/api/session", rest.logout, "public"),
    R("GET", "/api/me", rest.me, "viewer", desk=SELF),
    R("POST", "/api/tokens", rest.issue_token, "admin", desk=NO),
    R("GET", "/api/tokens", rest.list_tokens, "admin", desk=NO),
    R("GET", "/api/tokens/audit", people.org_audit, "admin", desk=NO),
    R("DELETE", "/api/tokens/{tid}", rest.revoke_token, "admin", desk=NO),
    R("GET", "/api/events/{eid}/desks", desks.list_desks, "viewer", desk=NO),
    R("POST", "/api/events/{eid}/desks", desks.create_desks, "admin", desk=NO),
    # -- events ----------------------------------------------------------------------------
    R("POST", "/api/events", rest.create_event, "admin", desk=NO),
    R("GET", "/api/events", rest.list_events, "viewer", desk=SELF),
    R("GET", "/api/events/{eid}", rest.get_event, "viewer", desk=EVENT),
    R("PATCH", "/api/events/{eid}", people.edit_event, "admin", desk=NO),
    R("DELETE", "/api/events/{eid}", people.delete_event, "admin", desk=NO),
    # -- points ----------------------------------------------------------------------------
    R("POST", "/api/events/{eid}/points/import", rest.import_points, "admin", desk=NO),
    R("GET", "/api/events/{eid}/points", rest.list_points, "viewer", desk=SUB),
    R("POST", "/api/events/{eid}/points", rest.create_point, "admin", desk=NO),
    R("GET", "/api/events/{eid}/points/{code}", rest.get_point, "viewer", desk=SUB),
    R("PATCH", "/api/events/{eid}/points/{code}", rest.patch_point, "admin", desk=NO),
    R("DELETE", "/api/events/{eid}/points/{code}", rest.delete_point, "admin", desk=NO),
    R("POST", "/api/events/{eid}/points/{code}/token", rest.rotate_token, "admin", desk=SUB_OP),
    R("GET", "/api/events/{eid}/links.csv", links.links_csv, "admin", desk=SUB_VIEW),
    R("GET", "/api/events/{eid}/links.html", links.links_html, "admin", desk=SUB_VIEW),
    R("GET", "/api/admin-units/registry.csv", registry.registry_csv, "admin", desk=NO),
    # -- the morning -------------------------------------------------------------------------
    R("GET", "/api/events/{eid}/totals", rest.totals, "viewer", desk=SUB),
    R("GET", "/api/events/{eid}/incidents", rest.list_incidents, "viewer", desk=SUB),
    R("POST", "/api/events/{eid}/incidents/{iid}/resolve", rest.resolve_incident, "operator", desk=SUB),
    R("POST", "/api/events/{eid}/notices", rest.send_notice, "operator", desk=SUB),
    # -- reports -------------------------------------------------------------------------------
    R("GET", r"/api/events/{eid}/report.{fmt:json|csv}", rest.report, "viewer", desk=SUB),
    R("GET", r"/api/events/{eid}/report.{fmt:xlsx|html}", reports.report_file, "viewer", desk=SUB),
    R("GET", "/api/events/{eid}/report/snapshots", reports.list_snapshots, "viewer", desk=NO),
    R("POST", "/api/events/{eid}/report/snapshots", reports.take_snapshot, "operator", desk=NO),
    R("GET", r"/api/events/{eid}/report/snapshots/{n:\d+}.{fmt:json|csv|xlsx|html}", reports.get_snapshot,
      "viewer", desk=NO),
    R("GET", "/api/events/{eid}/audit", reports.audit, "viewer", desk=SUB),
    R("GET", "/api/events/{eid}/timeline", reports.timeline, "viewer", desk=SUB),
    # -- the ceremony --------------------------------------------------------------------------
    R("GET", "/api/events/{eid}/agenda", ceremony.get_agenda, "viewer", desk=EVENT),
    R("PUT", "/api/events/{eid}/agenda", ceremony.put_agenda, "operator", desk=NO),
    R("POST", "/api/events/{eid}/agenda/{action}", ceremony.agenda_action, "operator", desk=NO),
    R("GET", "/api/events/{eid}/launch", ceremony.get_launch, "viewer", desk=SUB),
    R("POST", "/api/events/{eid}/launch/{action}", ceremony.launch_action, "operator", desk=NO),
    R("GET", "/api/events/{eid}/keyholders", people.list_keyholders, "viewer", desk=NO),
    R("POST", "/api/events/{eid}/keyholders", people.add_keyholder, "operator", desk=NO),
    R("DELETE", "/api/events/{eid}/keyholders/{kid}", people.revoke_keyholder, "operator", desk=NO),
    R("GET", "/api/keyholder", people.keyholder_me, "keyholder"),
    R("POST", "/api/keyholder/press", people.keyholder_press, "keyholder"),
    # -- sockets ----------------------------------------------------------------------------------
    R("WS", "/ws/point", ws_point.handle, "point"),
    R("WS", "/ws/console", ws_console.handle, "viewer", desk=SUB),
    R("WS", "/ws/display", pages.ws_display, "public"),  # the hall's screen: public by design
    # -- pages --------------------------------------------------------------------------------------
    R("GET", "/", pages.root, "public"),
    R("GET", "/console", pages.root, "public"),
    R("GET", "/console/", pages.console, "public"),
    R("GET", "/hall", pages.hall, "public"),
    R("GET", "/p/{token}", pages.point_page, "point"),
    R("GET", "/k/{token}", people.keyholder_page, "keyholder"),
    R("GET", "/checkin-sw.js", links.service_worker, "public"),
    # Before the static directories, so these paths are the generated module;
    # under /static/checkin/ the point page's service worker caches it too.
    R("GET", "/static/labels.js", pages.labels_js, "public"),
    R("GET", "/static/checkin/labels.js", pages.labels_js, "public"),
)

STATIC: tuple[Static, ...] = (
    Static("/static/console/", files.CONSOLE),
    Static("/static/checkin/", files.CHECKIN),
)

ROUTE_KEY: web.AppKey[dict[web.AbstractRoute, Route]] = web.AppKey("routes", dict)


def install(app: web.Application, routes: Iterable[Route] = ROUTES,
            static: Iterable[Static] = STATIC) -> None:
    """Add every route of the table to ``app``'s router, and remember which
    table entry each aiohttp route came from (for the auth middleware)."""
    of: dict[web.AbstractRoute, Route] = {}
    for r in routes:
        if r.http_method == "GET":
            added = app.router.add_get(r.path, r.handler)  # HEAD too, as aiohttp does
            of[added] = r
            for head in added.resource or ():
                of.setdefault(head, r)
        else:
            of[app.router.add_route(r.http_method, r.path, r.handler)] = r
    for s in static:
        if s.directory.is_dir():
            app.router.add_static(s.prefix, s.directory, append_version=False)
    app[ROUTE_KEY] = of
    app[ROLE_OF_KEY] = lambda method, path: role_for(method, path, tuple(routes))


def _pattern(path: str) -> re.Pattern[str]:
    """An aiohttp path pattern as a regular expression (``{name}``, ``{name:regex}``)."""
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}", path):
        out.append(re.escape(path[pos:m.start()]))
        out.append(f"(?:{m.group(2)})" if m.group(2) else "[^/]+")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return re.compile("".join(out))


def role_for(method: str, path: str, routes: Iterable[Route] = ROUTES) -> Role:
    """The role of the table's route that ``method path`` resolves to (a
    documented path such as ``/api/events/{eid}/launch/arm`` included)."""
    for r in routes:
        if r.http_method == method.upper() and _pattern(r.path).fullmatch(path):
            return r.role
    raise LookupError(f"{method.upper()} {path} is in no route of the table")


def check(app: web.Application) -> None:
    """Raise if ``app``'s router holds a route that is not from the table (a
    route added around it would escape the role rule)."""
    known = app[ROUTE_KEY]
    stray = [f"{r.method} {r.resource.canonical if r.resource else '?'}" for r in app.router.routes()
             if r not in known and not isinstance(r.resource, web.StaticResource)]
    if stray:
        raise RuntimeError(f"routes outside server/io/http/routes.py: {stray}")


def route_of(request: web.Request) -> Route | None:
    """The table's entry for the route that matched ``request``; None for
    aiohttp's own answers (404, 405) and the static directories."""
    return request.app[ROUTE_KEY].get(request.match_info.route)


@web.middleware
def roles_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Each route's role, from the table, before its handler runs.

    Not a coroutine: it hands back the handler's own awaitable, so a socket
    (open for hours) keeps no frame of this middleware alive
    (docs/benchmarks.md, "Leaner sockets"). A refusal raises here, before the
    handler is called, as before."""
    route = route_of(request)
    if route is not None and route.desk is not None:
        scope = identify(request).scope  # 401 before anything else
        if scope is None:
            authorize(request, route.role, socket=route.method == "WS")
        else:
            desk_rule(request, scope, route.desk.reach, route.desk.role or route.role, socket=route.method == "WS")
    return handler(request)
