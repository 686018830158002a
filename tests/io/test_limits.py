"""Limits with coded answers (docs/protocol.md#limits), a leaked link and a
flood as an attacker would try them, the journal failing, and the ws
``conflict`` path."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import aiohttp
import pytest

from server.io.http.auth import STORE_KEY
from server.io.limits import MAX_IMPORT_BODY, MAX_JSON_BODY, MAX_POINT_SOCKETS, POINT_BURST
from tests.io.ws.test_point import connect, request, setup_points
from tests.utils import EVENT, H, timeout, wait_until


async def point_view(server, eid: str, code: str) -> dict:
    return await server.api.call("GET", f"/api/events/{eid}/points/{code}", 200)


async def test_a_ninth_socket_is_refused_and_the_console_sees_it(server) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        console = await s.ws_connect(f"{server.ws}/ws/console?event={eid}", headers=H)
        assert (await console.receive_json(timeout=timeout(5)))["type"] == "snapshot"
        socks = [await connect(server, s, tokens["D0"]) for _ in range(MAX_POINT_SOCKETS)]
        for _ in range(3):
            with pytest.raises(aiohttp.WSServerHandshakeError) as info:
                await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
            assert info.value.status == 429
        async with s.get(f"{server.ws.replace('ws', 'http', 1)}/ws/point?token={tokens['D0']}",
                         headers={"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}) as r:
            assert r.status == 429 and (await r.json())["error"]["code"] == "too_many_connections"
        # Another point is not affected.
        other = await connect(server, s, tokens["D0-C0"])
        assert (await point_view(server, eid, "D0"))["too_many_connections"] is True
        assert (await point_view(server, eid, "D0-C0"))["too_many_connections"] is False

        async def console_flags() -> bool:
            while True:
                frame = await console.receive_json(timeout=timeout(5))
                for p in frame.get("points", []):
                    if p["code"] == "D0" and p["too_many_connections"]:
                        return True

        assert await asyncio.wait_for(console_flags(), timeout(5))
        # The sockets already open keep working.
        assert (await request(socks[0], {"type": "checkin", "id": "c", "attendees": 3}))["type"] == "ack"
        for ws in socks:
            await ws.close()
        await wait_until(lambda: _flag(server, eid, "D0", False), what="the flag to clear")
        again = await connect(server, s, tokens["D0"])
        await again.close()
        await other.close()
        await console.close()


async def _flag(server, eid, code, want) -> bool:
    return (await point_view(server, eid, code))["too_many_connections"] is want


async def test_a_mutation_flood_is_rate_limited_and_the_retry_lands(server) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        assert (await request(ws, {"type": "checkin", "id": "c0", "attendees": 1}))["type"] == "ack"
        n = POINT_BURST * 3
        for i in range(n):
            await ws.send_json({"type": "attendees", "id": f"a{i}", "count": i})
        answers = [await ws.receive_json(timeout=timeout(5)) for _ in range(n)]
        limited = [a for a in answers if a["type"] == "error"]
        acked = [a for a in answers if a["type"] == "ack"]
        assert limited, "a flood of 60 frames at once was not limited"
        assert len(acked) < n and len(acked) >= POINT_BURST - 1
        assert {a["code"] for a in limited} == {"rate_limited"}
        assert all(isinstance(a["retry_after_ms"], int) and a["retry_after_ms"] > 0 for a in limited)
        # Nothing refused was applied: the count is the last acknowledged one.
        last_acked = max(int(a["id"][1:]) for a in acked)
        assert (await point_view(server, eid, "D0"))["attendees"] == last_acked
        # A refused frame resent with the same id after retry_after_ms lands.
        first = limited[0]
        await asyncio.sleep(first["retry_after_ms"] / 1000)
        retry = await request(ws, {"type": "attendees", "id": first["id"], "count": 999})
        assert retry == {"type": "ack", "id": first["id"]}
        assert (await point_view(server, eid, "D0"))["attendees"] == 999
        # time.ping is not a mutation: never limited.
        for i in range(50):
            await ws.send_json({"type": "time.ping", "t0": i})
        pongs = [await ws.receive_json(timeout=timeout(5)) for _ in range(50)]
        assert {p["type"] for p in pongs} == {"time.pong"}
        await ws.close()


async def test_open_incidents_per_point_are_capped(server) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        opened = []
        for i in range(5):
            ack = await request(ws, {"type": "incident", "id": f"i{i}", "kind": "audio"})
            assert ack["type"] == "ack"
            opened.append(ack["incident"])
        refused = await request(ws, {"type": "incident", "id": "i5", "kind": "video"})
        assert refused["type"] == "error" and refused["code"] == "too_many_incidents" and refused["id"] == "i5"
        # A retry of an applied one is still acknowledged; resolving one makes room.
        assert (await request(ws, {"type": "incident", "id": "i0", "kind": "audio"}))["incident"] == opened[0]
        assert (await request(ws, {"type": "incident.resolve", "id": "r0", "incident": opened[0]}))["type"] == "ack"
        assert (await request(ws, {"type": "incident", "id": "i5", "kind": "video"}))["type"] == "ack"
        await ws.close()
    assert (await server.api.totals(eid))["incidents_open"] == 5


async def test_json_bodies_over_64_kib_get_413(server) -> None:
    body = json.dumps({**EVENT, "name": "x" * MAX_JSON_BODY}).encode()
    status, data = await server.api.call("POST", "/api/events", data=body,
                                         headers={"Content-Type": "application/json"})
    assert status == 413 and data["error"]["code"] == "too_large"
    # Without a declared length (chunked), the limit holds too.

    async def chunks():
        for i in range(0, len(body), 8192):
            yield body[i:i + 8192]

    status, data = await server.api.call("POST", "/api/events", data=chunks(),
                                         headers={"Content-Type": "application/json"})
    assert status == 413 and data["error"]["code"] == "too_large"
    assert await server.api.call("GET", "/api/events", 200) == []
    # Deep nesting in a small body is a 400, not a crash.
    status, data = await server.api.call("POST", "/api/events", data=b"[" * 30_000,
                                         headers={"Content-Type": "application/json"})
    assert status == 400 and data["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("size", [MAX_IMPORT_BODY + 1, 12 * 1024 * 1024])
async def test_imports_over_5_mb_get_413(server, size) -> None:
    eid = await server.api.event()
    csv = b"code,name,level,parent\n" + b"A,B,province,\n" * (size // 14 + 1)
    csv = csv[:size]
    status, data = await server.api.call("POST", f"/api/events/{eid}/points/import", data=csv,
                                         headers={"Content-Type": "text/csv"})
    assert status == 413 and data["error"]["code"] == "too_large"
    form = aiohttp.FormData()
    form.add_field("file", csv, filename="points.csv", content_type="text/csv")
    status, data = await server.api.call("POST", f"/api/events/{eid}/points/import", data=form)
    assert status == 413 and data["error"]["code"] == "too_large"
    assert await server.api.points(eid) == []


async def test_a_deeply_nested_frame_is_a_coded_error_and_the_socket_stays(server) -> None:
    _, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        for text in ("[" * 30_000, '{"id":' * 10_000, '{"type":"checkin","id":"d","attendees":' + "[" * 20_000):
            answer = await request(ws, text)
            assert answer["type"] == "error" and answer["code"] in ("invalid_json", "validation_error")
        assert (await request(ws, {"type": "checkin", "id": "ok", "attendees": 2}))["type"] == "ack"
        await ws.close()


async def test_a_failed_journal_write_acks_nothing_and_healthz_says_so(server, monkeypatch) -> None:
    eid, tokens = await setup_points(server)
    async with aiohttp.ClientSession() as s:
        async with s.get(server.base + "/healthz") as r:
            assert r.status == 200 and await r.json() == {"status": "ok"}
        ws = await connect(server, s, tokens["D0"])
        journal = server.app[STORE_KEY].journal

        def disk_full(rows):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(journal, "_write", disk_full)
        answer = await request(ws, {"type": "checkin", "id": "lost", "attendees": 7})
        assert answer["type"] == "error" and answer["code"] == "unavailable" and answer["id"] == "lost"
        # The socket is still open; later writes are refused at once, never acked.
        answer = await request(ws, {"type": "checkin", "id": "lost2", "attendees": 8})
        assert answer["code"] == "unavailable"
        status, body = await server.api.call("POST", f"/api/events/{eid}/notices", json={"text": "Xin chào"})
        assert status == 503 and body["error"]["code"] == "unavailable"
        async with s.get(server.base + "/healthz") as r:
            assert r.status == 503
            body = await r.json()
            assert body["status"] == "failing" and "disk is full" in body["reason"]
        await ws.close()
    view = await point_view(server, eid, "D0")
    assert (view["checked_in"], view["attendees"]) == (False, 0)


async def test_ws_conflict_when_the_state_changes_before_the_fold(server, monkeypatch) -> None:
    """A count decided on a checked-in point whose check-in is gone by the
    time the fact is folded (another process, another socket) is not
    applied: the device gets ``conflict`` and nothing changes."""
    eid, tokens = await setup_points(server)
    store = server.app[STORE_KEY]
    rt = store.event(eid)
    journal = store.journal
    original = journal.append

    async def racing_append(stream, facts, expect_seq=None):
        if facts and facts[0].type == "point.attendees":
            rt.state.change_point("D0", lambda p: setattr(p, "checked_in", False))
        return await original(stream, facts, expect_seq)

    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        assert (await request(ws, {"type": "checkin", "id": "c", "attendees": 3}))["type"] == "ack"
        monkeypatch.setattr(journal, "append", racing_append)
        answer = await request(ws, {"type": "attendees", "id": "a", "count": 9})
        assert answer["type"] == "error" and answer["code"] == "conflict" and answer["id"] == "a"
        await ws.close()
    assert "a" not in rt.state.points["D0"].applied
    assert rt.state.points["D0"].attendees == 3


async def test_a_data_directory_that_cannot_open_serves_healthz_503(tmp_path) -> None:
    from aiohttp import web

    from server.io.app import create_app
    from tests.utils import ADMIN

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    runner = web.AppRunner(create_app(blocker / "data", token=ADMIN), handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(base + "/healthz") as r:
                assert r.status == 503 and (await r.json())["status"] == "failing"
            async with s.post(base + "/api/events", json=EVENT, headers=H) as r:
                assert r.status == 503 and (await r.json())["error"]["code"] == "unavailable"
    finally:
        await runner.cleanup()
