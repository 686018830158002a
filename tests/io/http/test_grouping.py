"""Grouping over HTTP (docs/protocol.md#grouping): group= on every route that
takes it, notices to a group, group_level on create and edit; bad input is a
coded error that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from server.io.http.auth import STORE_KEY
from tests.utils import Api, tree_csv


async def _event(server: Any, **over: Any) -> tuple[Api, str]:
    api: Api = server.api
    eid = await api.event(**over)
    await api.import_csv(eid, tree_csv(2, 2, 1)[0])
    return api, eid


async def test_group_level_on_create_shows_in_event_totals_and_points(server: Any) -> None:
    """Catches a group_level stored but not applied to totals or point views."""
    api, eid = await _event(server, group_level="commune")
    event = await api.call("GET", f"/api/events/{eid}", 200)
    assert (event["group_level"], event["group_level_effective"]) == ("commune", "commune")
    totals = await api.totals(eid)
    assert set(totals["by_group"]) == {"D0-C0", "D0-C1", "D1-C0", "D1-C1"}
    assert totals["by_group"]["D0-C1"] == {"name": "Xã 0-1", "level": "commune", "points": 2, "checked_in": 0,
                                           "online": 0, "attendees": 0, "expected": 70}
    assert set(totals["by_district"]) == {"D0", "D1"}  # unchanged beside it
    view = (await api.points(eid, q="Thôn 0-1-0"))[0]
    assert (view["group"], view["group_name"], view["district"]) == ("D0-C1", "Xã 0-1", "D0")
    assert {p["code"] for p in await api.points(eid, group="D0-C1")} == {"D0-C1", "D0-C1-V0"}


@pytest.mark.parametrize("path", ["points?group={g}", "links.csv?group={g}", "links.html?group={g}"])
@pytest.mark.parametrize("group", ["D0-C1", "GHOST", "TH", ""])
async def test_an_unknown_group_is_404_on_every_route(server: Any, path: str, group: str) -> None:
    """Catches a route that answers an empty list (or every point) for a group
    that does not exist: the default level is district, so a commune is none."""
    api, eid = await _event(server)
    err = await api.call("GET", f"/api/events/{eid}/" + path.format(g=group), 404)
    assert err["error"]["code"] == "group_not_found"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"text": "x", "group": "D0-C1"}, 404, "group_not_found"),
    ({"text": "x", "group": 5}, 404, "group_not_found"),
    ({"text": "x", "group": "D0", "district": "D0"}, 400, "validation_error"),
])
async def test_a_bad_notice_group_sends_nothing(server: Any, body: dict[str, Any], status: int, code: str) -> None:
    """Catches a notice broadcast to everyone when its group is wrong."""
    api, eid = await _event(server)
    rt = server.app[STORE_KEY].event(eid)
    seq = rt.state.seq
    err = await api.call("POST", f"/api/events/{eid}/notices", status, json=body)
    assert err["error"]["code"] == code
    assert rt.state.seq == seq  # nothing journaled
    sent = await api.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "x", "group": "D0"})
    assert (sent["group"], sent["district"]) == ("D0", None)


@pytest.mark.parametrize("bad", ["huyen", 3, ["district"], "DISTRICT"])
async def test_an_unknown_group_level_changes_nothing(server: Any, bad: Any) -> None:
    """Catches an edit half-applied (the name saved, the level refused) or a bad level stored."""
    api, eid = await _event(server)
    before = await api.call("GET", f"/api/events/{eid}", 200)
    err = await api.call("PATCH", f"/api/events/{eid}", 400, json={"name": "Mới", "group_level": bad})
    assert err["error"]["code"] == "invalid_group_level"
    assert await api.call("GET", f"/api/events/{eid}", 200) == before
    events = await api.call("GET", "/api/events", 200)
    err = await api.call("POST", "/api/events", 400, json={
        "name": "x", "starts_at": "2025-05-08T08:00:00+07:00", "report_deadline": "2025-05-08T07:30:00+07:00",
        "group_level": bad})
    assert err["error"]["code"] == "invalid_group_level"
    assert await api.call("GET", "/api/events", 200) == events
