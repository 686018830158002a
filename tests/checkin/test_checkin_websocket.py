"""PointClient over a real socket: a tiny ``websockets`` server on a free port."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from checkin.client import PointClient, TokenInvalid
from tests.checkin.fakes import PRECISION_MS, UNIT

GOOD, REVOKED = "good-token", "revoked-token"


class TinyServer:
    """Plays /ws/point: 403 for unknown tokens, 4403 for a revoked one, else the protocol."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.conns: list[ServerConnection] = []
        self.got = asyncio.Event()

    def process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        self.paths.append(request.path)
        url = urlsplit(request.path)
        token = parse_qs(url.query).get("token", [""])[0]
        if url.path != "/ws/point" or token not in (GOOD, REVOKED):
            return conn.respond(403, '{"error": {"code": "forbidden", "message": "bad token"}}\n')
        return None

    async def handler(self, conn: ServerConnection) -> None:
        self.conns.append(conn)
        if "token=" + REVOKED in conn.request.path:  # type: ignore[union-attr]
            await conn.close(4403, "token rotated")
            return
        now = time.time() * 1000
        await conn.send(json.dumps({
            "type": "welcome", "server_ms": now, "seq": 3,
            "point": {"code": "S1", "name": "Trường Một", "level": "school", "parent": "",
                      "expected": 10},
            "status": {"checked_in": False, "attendees": 0, "incidents": []},
            "agenda": {}, "launch": {"state": "idle"},
        }))
        async for text in conn:
            frame = json.loads(text)
            self.received.append(frame)
            self.got.set()
            if frame["type"] == "time.ping":
                t1 = time.time() * 1000
                await conn.send(json.dumps({"type": "time.pong", "t0": frame["t0"], "t1": t1,
                                            "t2": time.time() * 1000}))
            elif "id" in frame:
                await conn.send(json.dumps({"type": "ack", "id": frame["id"]}))

    async def wait_for_type(self, kind: str) -> dict[str, Any]:
        async with asyncio.timeout(UNIT):
            while True:
                for frame in self.received:
                    if frame["type"] == kind:
                        return frame
                self.got.clear()
                await self.got.wait()


@pytest.fixture
async def tiny() -> AsyncIterator[tuple[TinyServer, str]]:
    srv = TinyServer()
    async with serve(srv.handler, "127.0.0.1", 0, process_request=srv.process_request,
                     compression=None) as ws_server:
        yield srv, base_url(ws_server)


def base_url(ws_server: Server) -> str:
    host, port = next(iter(ws_server.sockets)).getsockname()[:2]
    return f"http://{host}:{port}"


async def test_real_socket_round_trip_and_launch(tiny: tuple[TinyServer, str]) -> None:
    srv, base = tiny
    fired = asyncio.get_running_loop().create_future()
    client = PointClient(base, GOOD, clock_offset_ms=-2_500.0, ping_spacing_s=0.005, report_spread_s=0.05,
                         on_fire=fired.set_result)
    await client.start()
    try:
        await client.wait_synced(UNIT)
        assert srv.paths == [f"/ws/point?token={GOOD}"]
        assert client.point["code"] == "S1" and client.seq == 3
        ack = await asyncio.wait_for(client.checkin(9), UNIT)
        assert ack == {"type": "ack", "id": (await srv.wait_for_type("checkin"))["id"]}
        sync = await srv.wait_for_type("time.sync")
        assert abs(sync["offset_ms"] - 2_500.0) <= sync["rtt_ms"] / 2 + 1.0
        fire_at = time.time() * 1000 + 150
        await srv.conns[0].send(json.dumps(
            {"type": "launch", "launch": {"state": "countdown", "fire_at_ms": fire_at}}))
        await asyncio.wait_for(fired, UNIT)
        assert client.fired_local_wall_ms is not None
        assert abs(client.fired_local_wall_ms - fire_at) < PRECISION_MS
        report = await srv.wait_for_type("launch.fired")
        assert abs(report["fired_ms"] - fire_at) < PRECISION_MS
        await client.drain(UNIT)
    finally:
        await client.stop()


async def test_real_socket_reconnects_after_1013(tiny: tuple[TinyServer, str]) -> None:
    srv, base = tiny
    welcomes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = PointClient(base, GOOD, ping_count=1, backoff_base=0.01, storm_window=0.01, on_welcome=welcomes.put_nowait)
    await client.start()
    try:
        await asyncio.wait_for(welcomes.get(), UNIT)
        await srv.conns[0].close(1013, "too slow")
        await asyncio.wait_for(welcomes.get(), UNIT)  # a fresh welcome on a new connection
        assert len(client.connect_times) == 2 and len(srv.conns) == 2
        assert not client.token_invalid
    finally:
        await client.stop()


@pytest.mark.parametrize(("token", "why"), [("nope", "HTTP 403"), (REVOKED, "close 4403")])
async def test_real_socket_refused_token(tiny: tuple[TinyServer, str], token: str,
                                         why: str) -> None:
    _, base = tiny
    states: list[str] = []
    client = PointClient(base, token, on_state=states.append, backoff_base=0.01, storm_window=0.01)
    fut = client.checkin(1)
    await client.start()
    try:
        with pytest.raises(TokenInvalid, match=why):
            await asyncio.wait_for(fut, UNIT)
        assert client.token_invalid and client.connect_attempts == 1
        assert states[-1] == "token_invalid"
    finally:
        await client.stop()
