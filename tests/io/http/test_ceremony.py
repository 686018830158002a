"""Agenda and launch over REST, pushed at once to points, displays and consoles."""

from __future__ import annotations

import aiohttp
import pytest

from server.demo.data_2025 import SEED_AGENDA
from tests.utils import Api, H, timeout, tree_csv


async def _event(server) -> tuple[str, dict[str, str]]:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    return eid, {p["code"]: p["token"] for p in await api.points(eid)}


async def _next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict:
    while True:
        frame = await ws.receive_json(timeout=timeout(5))
        if frame["type"] == kind:
            return frame


async def test_agenda_flow_and_pushes(server) -> None:
    api: Api = server.api
    eid, tokens = await _event(server)
    items = [{**item, "location": "D0" if item["location"] else None} for item in SEED_AGENDA]
    agenda = await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": items})
    assert agenda["state"] == "not_started" and len(agenda["items"]) == 7
    async with aiohttp.ClientSession() as s:
        point = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C0']}")
        welcome = await point.receive_json()
        assert welcome["agenda"]["state"] == "not_started"
        console = await s.ws_connect(f"{server.ws}/ws/console?event={eid}", headers=H)
        assert (await console.receive_json())["agenda"]["items"][0]["title"] == items[0]["title"]
        display = await s.ws_connect(f"{server.ws}/ws/display?event={eid}")
        assert (await display.receive_json())["type"] == "welcome"
        await api.call("POST", f"/api/events/{eid}/agenda/start", 200)
        for ws in (point, console, display):
            frame = await _next_of(ws, "agenda")
            assert (frame["agenda"]["state"], frame["agenda"]["current"]) == ("running", 0)
        await api.call("POST", f"/api/events/{eid}/agenda/next", 200)
        assert (await _next_of(point, "agenda"))["agenda"]["current"] == 1
        for ws in (point, console, display):
            await ws.close()
    status, body = await api.call("POST", f"/api/events/{eid}/agenda/jump")
    assert status == 400
    await api.call("POST", f"/api/events/{eid}/agenda/pause", 200)
    status, body = await api.call("POST", f"/api/events/{eid}/agenda/pause")
    assert status == 409 and body["error"]["code"] == "agenda_paused"
    report = await api.call("GET", f"/api/events/{eid}/report.json", 200)
    assert "offset_s" in report["agenda"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"countdown_ms": 100}, "invalid_countdown"),
        ({"countdown_ms": 61_000}, "invalid_countdown"),
        ({"countdown_ms": 5000, "keys_required": 0}, "invalid_keys"),
    ],
)
async def test_arm_bounds(server, body, code) -> None:
    eid, _ = await _event(server)
    status, data = await server.api.call("POST", f"/api/events/{eid}/launch/arm", json=body)
    assert status == 400 and data["error"]["code"] == code


async def test_two_keys_then_countdown_pushed_and_late_joiner_sees_fired(server) -> None:
    api: Api = server.api
    eid, tokens = await _event(server)
    base = f"/api/events/{eid}/launch"
    status, body = await api.call("POST", f"{base}/press", json={"key": "A"})
    assert status == 409 and body["error"]["code"] == "launch_not_armed"
    launch = await api.call("POST", f"{base}/arm", 200, json={"countdown_ms": 3000, "keys_required": 2})
    assert launch["state"] == "armed"
    async with aiohttp.ClientSession() as s:
        point = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
        assert (await point.receive_json())["launch"]["state"] == "armed"
        await api.call("POST", f"{base}/press", 200, json={"key": "Chủ tịch"})
        status, body = await api.call("POST", f"{base}/press", json={"key": "Chủ tịch"})
        assert status == 409 and body["error"]["code"] == "key_already_pressed"
        after = await api.call("POST", f"{base}/press", 200, json={"key": "Bí thư"})
        assert after["state"] == "countdown" and after["fire_at_ms"] is not None
        frame = await _next_of(point, "launch")
        while frame["launch"]["state"] != "countdown":
            frame = await _next_of(point, "launch")
        assert frame["launch"]["fire_at_ms"] == after["fire_at_ms"]
        # the server pushes "fired" at the fire time
        fired = await _next_of(point, "launch")
        assert fired["launch"]["state"] == "fired"
        ack_id = "fired-1"
        await point.send_json({"type": "launch.fired", "id": ack_id, "fired_ms": after["fire_at_ms"] + 1.5,
                               "offset_ms": 12.0, "rtt_ms": 4.0})
        assert (await point.receive_json(timeout=timeout(5)))["type"] == "ack"
        late = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C1']}")
        assert (await late.receive_json())["launch"]["state"] == "fired"
        await point.close()
        await late.close()
    status, body = await api.call("POST", f"{base}/abort")
    assert status == 409 and body["error"]["code"] == "launch_already_fired"
    state = await api.call("GET", base, 200)
    assert state["fired_stats"]["count"] == 1
    report = await api.call("GET", f"/api/events/{eid}/report.json", 200)
    assert report["launch"] is not None


async def test_abort_in_countdown(server) -> None:
    api: Api = server.api
    eid, _ = await _event(server)
    base = f"/api/events/{eid}/launch"
    await api.call("POST", f"{base}/arm", 200, json={"countdown_ms": 30_000, "keys_required": 1})
    await api.call("POST", f"{base}/press", 200, json={"key": "A"})
    aborted = await api.call("POST", f"{base}/abort", 200)
    assert aborted["state"] == "aborted"
    status, _body = await api.call("POST", f"{base}/abort")
    assert status == 409


async def test_viewer_cannot_control(server) -> None:
    api: Api = server.api
    eid, _ = await _event(server)
    viewer = (await api.call("POST", "/api/tokens", 201, json={"name": "V", "role": "viewer"}))["token"]
    v = Api(server.base, api.session, viewer)
    for path, body in [("launch/arm", {}), ("launch/press", {"key": "x"}), ("agenda/start", None)]:
        status, data = await v.call("POST", f"/api/events/{eid}/{path}", json=body)
        assert status == 403 and data["error"]["code"] == "forbidden"
    assert (await v.call("GET", f"/api/events/{eid}/launch", 200))["state"] == "idle"
