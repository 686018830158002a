"""The route table (server/io/http/routes.py) against the real router and the
real server: every route is declared once with its role, and the role is
what the server enforces."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web

from server.io.app import create_app
from server.io.http import routes
from tests.utils import ADMIN, Api, tree_csv


def _router_routes(app: web.Application) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.resource is not None and not isinstance(r.resource, web.StaticResource)}


def _table_routes() -> set[tuple[str, str]]:
    out = set()
    for r in routes.ROUTES:
        canonical = web.DynamicResource(r.path).canonical if "{" in r.path else r.path
        out.add((r.http_method, canonical))
        if r.http_method == "GET":
            out.add(("HEAD", canonical))
    return out


def test_every_route_is_in_the_table_and_every_entry_is_a_route(tmp_path: Path) -> None:
    """Catches a handler added with app.router.add_* (no role rule), or a table
    entry whose route was lost."""
    app = create_app(tmp_path / "data", token=ADMIN)
    assert _router_routes(app) == _table_routes()
    routes.check(app)


def test_a_route_outside_the_table_fails_the_start(tmp_path: Path) -> None:
    """Catches a route added around the table: the start-up check refuses it."""
    app = create_app(tmp_path / "data", token=ADMIN)

    async def sneaky(request: web.Request) -> web.Response:
        return web.Response(text="no role rule here")

    app.router.add_get("/api/events/{eid}/sneaky", sneaky)
    with pytest.raises(RuntimeError, match="sneaky"):
        routes.check(app)


async def test_a_route_outside_the_table_stops_the_server(tmp_path: Path) -> None:
    """The same, through the application's own start-up."""
    app = create_app(tmp_path / "data", token=ADMIN)

    async def sneaky(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/sneaky", sneaky)
    runner = web.AppRunner(app, handle_signals=False)
    with pytest.raises(RuntimeError, match="sneaky"):
        await runner.setup()
    await runner.cleanup()


def test_no_route_is_declared_twice() -> None:
    keys = [(r.http_method, r.path) for r in routes.ROUTES]
    assert len(keys) == len(set(keys))


def _concrete(path: str, eid: str) -> str:
    """A table path with its parameters filled in (the role check runs before
    anything looks at them)."""
    filled = {"{eid}": eid, "{code}": "NOPE", "{iid}": "NOPE", "{kid}": "NOPE", "{tid}": "NOPE",
              "{action}": "start", r"{fmt:json|csv}": "json", r"{fmt:xlsx|html}": "html",
              r"{n:\d+}.{fmt:json|csv|xlsx|html}": "1.json"}
    for k, v in filled.items():
        path = path.replace(k, v)
    assert "{" not in path, path
    return path


ORGANIZER = [r for r in routes.ROUTES if r.role in routes.ORGANIZER_ROLES]


@pytest.mark.parametrize("route", ORGANIZER, ids=lambda r: f"{r.method} {r.path}")
async def test_every_organizer_route_enforces_its_role(server, route: routes.Route) -> None:
    """Catches a role rule removed or weakened in the table: no credential is
    401, and a role below the route's is 403, before the handler runs."""
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    path = _concrete(route.path, eid)
    anonymous = Api(server.base, api.session, "")
    anonymous.headers = {}
    status, body = await anonymous.call(route.http_method, path)
    assert status == 401, (status, body)
    below = {"viewer": None, "operator": "viewer", "admin": "operator"}[route.role]
    if below is not None:
        token = (await api.call("POST", "/api/tokens", 201, json={"name": "lower", "role": below}))["token"]
        status, body = await Api(server.base, api.session, token).call(route.http_method, path)
        assert status == 403 and body["error"]["code"] == "forbidden", (status, body)


def test_only_these_routes_take_no_organizer_credential() -> None:
    """Catches an organizer route turned public (or to a point's or key
    holder's own token) in the table: this list changes only on purpose."""
    others = {(r.method, r.path, r.role) for r in routes.ROUTES if r.role not in routes.ORGANIZER_ROLES}
    assert others == {
        ("GET", "/healthz", "public"), ("GET", "/metrics", "public"), ("GET", "/api/openapi.json", "public"),
        ("POST", "/api/session", "public"), ("DELETE", "/api/session", "public"),
        ("GET", "/api/keyholder", "keyholder"), ("POST", "/api/keyholder/press", "keyholder"),
        ("WS", "/ws/point", "point"), ("WS", "/ws/display", "public"),
        ("GET", "/", "public"), ("GET", "/console", "public"), ("GET", "/console/", "public"),
        ("GET", "/hall", "public"), ("GET", "/p/{token}", "point"), ("GET", "/k/{token}", "keyholder"),
        ("GET", "/checkin-sw.js", "public"), ("GET", "/static/labels.js", "public"),
        ("GET", "/static/checkin/labels.js", "public"),
    }
