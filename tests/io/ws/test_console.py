"""/ws/console: snapshot, then coalesced deltas."""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
import pytest

from tests.utils import H, timeout, tree_csv, wait_until


async def test_console_needs_a_viewer(server) -> None:
    await server.api.event()
    async with aiohttp.ClientSession() as s:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await s.ws_connect(f"{server.ws}/ws/console")
        assert info.value.status == 401


async def test_snapshot_then_coalesced_deltas(server) -> None:
    api = server.api
    eid = await api.event()
    text, n = tree_csv(3, 10, 2)
    await api.import_csv(eid, text)
    tokens = [p["token"] for p in await api.points(eid)]
    async with aiohttp.ClientSession() as s:
        console = await s.ws_connect(f"{server.ws}/ws/console?event={eid}", headers=H)
        snap = await console.receive_json(timeout=timeout(5))
        assert snap["type"] == "snapshot" and len(snap["points"]) == n
        assert set(snap) >= {"seq", "event", "totals", "points", "agenda", "launch", "incidents"}
        frames: list[tuple[float, dict]] = []

        async def read() -> None:
            while True:
                frames.append((time.monotonic(), await console.receive_json()))

        reader = asyncio.create_task(read())
        points = [await s.ws_connect(f"{server.ws}/ws/point?token={t}") for t in tokens]
        for ws in points:
            await ws.receive_json()
        for i, ws in enumerate(points):
            await ws.send_json({"type": "checkin", "id": "c", "attendees": i})
        for ws in points:
            assert (await ws.receive_json())["type"] == "ack"
        total = sum(range(len(points)))
        await wait_until(lambda: frames and frames[-1][1]["totals"]["attendees"] == total, 5,
                         "the console to show the last check-in")
        reader.cancel()
        deltas = [f for f in frames if f[1]["type"] == "delta"]
        assert len(deltas) >= 1
        seen = {p["code"] for _, d in deltas for p in d["points"]}
        assert len(seen) == n
        # coalesced: never two deltas closer than the 200 ms tick (allow jitter)
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(deltas)]
        assert all(g > 0.1 for g in gaps), gaps
        for ws in points:
            await ws.close()
        await console.close()
