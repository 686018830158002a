"""/ws/point against a real server with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import pytest

from tests.utils import Api, thousand_csv, timeout, tree_csv, wait_until


async def setup_points(server, districts: int = 1, communes: int = 3, villages: int = 0):
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(districts, communes, villages)[0])
    return eid, {p["code"]: p["token"] for p in await api.points(eid)}


async def connect(server, session: aiohttp.ClientSession, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{server.ws}/ws/point?token={token}", autoping=True)
    welcome = await ws.receive_json(timeout=timeout(5))
    assert welcome["type"] == "welcome"
    return ws


async def request(ws: aiohttp.ClientWebSocketResponse, frame: dict | str) -> dict:
    await (ws.send_str(frame) if isinstance(frame, str) else ws.send_json(frame))
    return await ws.receive_json(timeout=timeout(5))


async def test_welcome_shape(server) -> None:
    _eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C1']}")
        welcome = await ws.receive_json()
        assert set(welcome) >= {"type", "server_ms", "seq", "point", "status", "agenda", "launch"}
        assert welcome["point"]["code"] == "D0-C1" and welcome["point"]["parent"] == "D0"
        assert welcome["status"] == {"checked_in": False, "attendees": 0, "incidents": []}
        await ws.close()


async def test_bad_token_is_refused_before_upgrade(server) -> None:
    await setup_points(server)
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await s.ws_connect(f"{server.ws}/ws/point?token=not-a-token")
        assert info.value.status == 401


@pytest.mark.parametrize(
    ("frame", "code", "frame_id"),
    [
        ("not json", "invalid_json", None),
        ("[" * 30_000, "invalid_json", None),  # too deep: a decode error, not a RecursionError
        ('{"id": "deep", "x": ' + "[" * 30_000, "invalid_json", None),
        ("[1,2]", "unknown_message", None),
        ({"type": "dance"}, "unknown_message", None),
        ({"id": "x1"}, "unknown_message", "x1"),
        ({"type": "checkin", "attendees": 3}, "validation_error", None),
        ({"type": "checkin", "id": "", "attendees": 3}, "validation_error", None),
        ({"type": "checkin", "id": "x" * 65, "attendees": 3}, "validation_error", None),
        ({"type": "checkin", "id": "c1", "attendees": -1}, "invalid_count", "c1"),
        ({"type": "checkin", "id": "c2", "attendees": "12"}, "invalid_count", "c2"),
        ({"type": "checkin", "id": "c3", "attendees": 1.5}, "invalid_count", "c3"),
        ({"type": "checkin", "id": "c4", "attendees": True}, "invalid_count", "c4"),
        ({"type": "attendees", "id": "a1", "count": 4}, "not_checked_in", "a1"),
        ({"type": "incident", "id": "i1", "kind": "fire"}, "invalid_kind", "i1"),
        ({"type": "incident.resolve", "id": "r1", "incident": "inc-none"}, "incident_not_found", "r1"),
        ({"type": "time.ping"}, "validation_error", None),
        ({"type": "time.sync", "offset_ms": "a", "rtt_ms": 1}, "validation_error", None),
    ],
)
async def test_bad_frames_get_coded_errors_and_change_nothing(server, frame, code, frame_id) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        answer = await request(ws, frame if isinstance(frame, str) else json.dumps(frame))
        assert answer == {"type": "error", "id": frame_id, "code": code, "message": answer["message"]}
        # the connection stays open and still works
        assert (await request(ws, {"type": "checkin", "id": "ok", "attendees": 1}))["type"] == "ack"
        await ws.close()
    totals = await server.api.totals(eid)
    assert (totals["checked_in"], totals["attendees"], totals["incidents_open"]) == (1, 1, 0)


async def test_oversized_frame_closes_with_1009(server) -> None:
    _, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        await ws.send_str(json.dumps({"type": "checkin", "id": "big", "attendees": 1, "pad": "x" * 70_000}))
        msg = await ws.receive(timeout=timeout(5))
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 1009


async def test_time_pong_stamps(server) -> None:
    _, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        pong = await request(ws, {"type": "time.ping", "t0": 123.5})
        assert pong["type"] == "time.pong" and pong["t0"] == 123.5
        assert pong["t1"] <= pong["t2"]
        await ws.close()


async def test_checkin_count_incident_flow_and_idempotency(server) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0-C0"])
        assert await request(ws, {"type": "checkin", "id": "m1", "attendees": 40}) == {"type": "ack", "id": "m1"}
        assert (await request(ws, {"type": "attendees", "id": "m2", "count": 45}))["type"] == "ack"
        # a retry of m1 (the same id) is acknowledged and not applied again
        assert (await request(ws, {"type": "checkin", "id": "m1", "attendees": 40}))["type"] == "ack"
        opened = await request(ws, {"type": "incident", "id": "m3", "kind": "audio", "note": "Mất tiếng"})
        again = await request(ws, {"type": "incident", "id": "m3", "kind": "audio", "note": "Mất tiếng"})
        assert opened["incident"] == again["incident"]
        totals = await server.api.totals(eid)
        assert (totals["attendees"], totals["incidents_open"], totals["online"]) == (45, 1, 1)
        done = await request(ws, {"type": "incident.resolve", "id": "m4", "incident": opened["incident"]})
        assert done["type"] == "ack"
        again = await request(ws, {"type": "incident.resolve", "id": "m5", "incident": opened["incident"]})
        assert again["code"] == "incident_closed"
        await ws.close()
    await wait_until(lambda: server.api.totals(eid), what="totals")
    totals = await server.api.totals(eid)
    assert (totals["attendees"], totals["incidents_open"]) == (45, 0)
    await wait_until(lambda: _online(server, eid, 0), what="offline after close")


async def _online(server, eid: str, n: int) -> bool:
    return (await server.api.totals(eid))["online"] == n


async def test_rotated_token_closes_sockets_and_is_refused(server) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        rotated = await server.api.call("POST", f"/api/events/{eid}/points/D0/token", 200)
        assert rotated["token"] != tokens["D0"]
        msg = await ws.receive(timeout=timeout(5))
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        assert ws.close_code == 4403
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
        ws = await connect(server, s, rotated["token"])
        await ws.close()


async def test_thousand_points_check_in_some_retrying(server) -> None:
    """1,000 points connect and check in concurrently; a third resend the same
    id (as after a lost ack); the totals are exact."""
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, thousand_csv())
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    assert len(tokens) == 1000
    rng = random.Random(7)
    counts = {code: rng.randint(5, 90) for code in tokens}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as s:

        async def point(code: str) -> None:
            ws = await connect(server, s, tokens[code])
            frame = {"type": "checkin", "id": f"{code}-1", "attendees": counts[code]}
            assert (await request(ws, frame))["type"] == "ack"
            if hash(code) % 3 == 0:
                assert (await request(ws, frame))["type"] == "ack"  # the same id again
                ws2 = await connect(server, s, tokens[code])  # and over a new connection
                assert (await request(ws2, frame))["type"] == "ack"
                await ws2.close()
            await ws.close()

        await asyncio.wait_for(asyncio.gather(*(point(c) for c in tokens)), timeout(60))
    totals = await api.totals(eid)
    assert totals["points"] == totals["checked_in"] == 1000
    assert totals["attendees"] == sum(counts.values())
    assert sum(b["attendees"] for b in totals["by_level"].values()) == totals["attendees"]
