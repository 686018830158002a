"""Every organizer body refuses a field it does not know (docs/protocol.md#errors):
``400 unknown_field`` naming it, and nothing changes."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.io.http.auth import STORE_KEY
from server.io.http.routes import ROUTES
from tests.io.ws.test_point import connect, request
from tests.utils import ADMIN, EVENT, Api, tree_csv

BODY_METHODS = ("POST", "PUT", "PATCH")
# Body-taking routes of the table that are not an organizer's JSON body.
SKIPPED = {
    ("POST", "/api/events/{eid}/points/import"): "takes a CSV or XLSX file, not JSON",
    ("POST", "/api/keyholder/press"): "a key holder's call: the key is their name and any body is ignored",
}
# A valid body for each route (the "bogus" field is added to it); {eid}, {code}, {iid} are filled in.
CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("POST", "/api/session", "/api/session", {"token": ADMIN}),
    ("POST", "/api/tokens", "/api/tokens", {"name": "Ca trực", "role": "operator"}),
    ("POST", "/api/events/{eid}/desks", "/api/events/{eid}/desks", {"level": "commune"}),
    ("POST", "/api/events", "/api/events", EVENT),
    ("PATCH", "/api/events/{eid}", "/api/events/{eid}", {"name": "Lễ mới"}),
    ("POST", "/api/events/{eid}/points", "/api/events/{eid}/points",
     {"code": "N1", "name": "Xã Mới", "level": "commune", "parent": "D0"}),
    ("PATCH", "/api/events/{eid}/points/{code}", "/api/events/{eid}/points/D0-C0", {"name": "Xã Đổi Tên"}),
    ("POST", "/api/events/{eid}/points/{code}/token", "/api/events/{eid}/points/D0-C0/token", {}),
    ("POST", "/api/events/{eid}/incidents/{iid}/resolve", "/api/events/{eid}/incidents/{iid}/resolve", {}),
    ("POST", "/api/events/{eid}/notices", "/api/events/{eid}/notices", {"text": "Chuẩn bị"}),
    ("POST", "/api/events/{eid}/report/snapshots", "/api/events/{eid}/report/snapshots", {"label": "7 giờ"}),
    ("PUT", "/api/events/{eid}/agenda", "/api/events/{eid}/agenda",
     {"items": [{"title": "Khai mạc", "speaker": "MC", "location": None, "planned_s": 60}]}),
    ("POST", "/api/events/{eid}/agenda/{action}", "/api/events/{eid}/agenda/start", {}),
    ("POST", "/api/events/{eid}/launch/{action}", "/api/events/{eid}/launch/arm",
     {"countdown_ms": 5000, "keys_required": 1, "rehearsal": True}),
    ("POST", "/api/events/{eid}/launch/{action}", "/api/events/{eid}/launch/press", {"key": "Chủ tịch"}),
    ("POST", "/api/events/{eid}/launch/{action}", "/api/events/{eid}/launch/abort", {}),
    ("POST", "/api/events/{eid}/launch/{action}", "/api/events/{eid}/launch/reset", {}),
    ("POST", "/api/events/{eid}/keyholders", "/api/events/{eid}/keyholders", {"name": "Bí thư Tỉnh ủy"}),
]


def test_every_body_taking_route_has_a_case() -> None:
    """Catches a new POST/PUT/PATCH route added without a case here (its
    unknown fields would go untested)."""
    table = {(r.method, r.path) for r in ROUTES if r.method in BODY_METHODS}
    assert table == {(m, p) for m, p, _, _ in CASES} | set(SKIPPED)


async def _setup(server: Any) -> tuple[str, str]:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    token = {p["code"]: p["token"] for p in await api.points(eid)}["D0-C1"]
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, token)
        opened = await request(ws, {"type": "incident", "id": "m1", "kind": "audio", "note": "Mất tiếng"})
        await ws.close()
    return eid, opened["incident"]


def _journal(server: Any) -> tuple[int, dict[str, int]]:
    store = server.app[STORE_KEY]
    return store.org.seq, {eid: rt.state.seq for eid, rt in store.events.items()}


@pytest.mark.parametrize(("method", "route", "path", "body"), CASES, ids=[c[2].split("/api/")[-1] for c in CASES])
async def test_an_unknown_field_is_refused_and_changes_nothing(server, method, route, path, body) -> None:
    """Catches a route that ignores a field it does not know (``"scope"`` on
    POST /api/tokens once made an unscoped token): 400 ``unknown_field``
    naming it, and no fact is written to any stream."""
    eid, iid = await _setup(server)
    before = _journal(server)
    url = path.format(eid=eid, iid=iid)
    status, answer = await server.api.call(method, url, json={**body, "bogus": 1})
    assert status == 400, (status, answer)
    # the two PATCH routes keep the code they answered before unknown_field existed (add, don't rename)
    assert answer["error"]["code"] == ("validation_error" if method == "PATCH" else "unknown_field")
    assert answer["error"]["details"] == [{"field": "bogus", "message": "unknown"}]
    assert _journal(server) == before


async def test_a_scope_on_a_new_token_is_refused_not_ignored(server) -> None:
    """Catches the issue's case: a ``"scope"`` POST /api/tokens did not know
    answered 201 with an unscoped token. Now that desks exist, a scope of
    fields it does not know is refused the same way (docs/protocol.md#desks)."""
    api: Api = server.api
    status, answer = await api.call("POST", "/api/tokens", json={"name": "Bàn A", "role": "operator",
                                                                 "scope": {"districts": ["D0"]}})
    assert status == 400 and answer["error"]["code"] == "unknown_field"
    assert answer["error"]["details"] == [{"field": "districts", "message": "unknown"}]
    assert await api.call("GET", "/api/tokens", 200) == []


async def test_agenda_items_refuse_unknown_fields_but_take_back_what_they_read(server) -> None:
    """Catches an agenda item's unknown field being ignored, and refusing the
    fields the agenda object itself returned (a client sends back what it read)."""
    api: Api = server.api
    eid = await api.event()
    item = {"title": "Khai mạc", "speaker": "MC", "location": None, "planned_s": 60}
    status, answer = await api.call("PUT", f"/api/events/{eid}/agenda", json={"items": [item, {**item, "colour": 1}]})
    assert status == 400 and answer["error"]["code"] == "unknown_field"
    assert answer["error"]["details"] == [{"item": 1, "field": "colour", "message": "unknown"}]
    read = await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": [item]})
    again = await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": read["items"]})
    assert [i["title"] for i in again["items"]] == ["Khai mạc"]


async def test_a_route_without_a_body_still_takes_none_or_an_empty_one(server) -> None:
    """Catches the check refusing what clients send today: no body at all,
    or ``{}`` (the console's launch and agenda buttons)."""
    api: Api = server.api
    eid = await api.event()
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200)
    await api.call("POST", f"/api/events/{eid}/launch/abort", 200, json={})
    await api.call("POST", f"/api/events/{eid}/report/snapshots", 201)
