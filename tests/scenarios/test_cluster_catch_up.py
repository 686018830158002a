"""Read your writes across processes: a lookup that misses first folds what the
other processes wrote (server/io/store.py: catch_up). Two in-process servers on
one real redis-server, so a test can hold one process's followers back and
show the catch-up, not a lucky race."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from server.io.app import create_app
from server.io.http.auth import STORE_KEY
from tests.services import RedisServer
from tests.utils import ADMIN, Api, tree_csv, wait_until


@contextlib.asynccontextmanager
async def serve(data: Path, redis_url: str) -> AsyncIterator[tuple[str, web.Application]]:
    app = create_app(data, token=ADMIN, redis_url=redis_url)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", app
    finally:
        await runner.cleanup()


@pytest.fixture
def redis(tmp_path: Path) -> Any:
    with RedisServer(tmp_path / "redis") as server:
        yield server


def hold_back(app: web.Application) -> None:
    """Stop this process from learning of new events by itself."""
    store = app[STORE_KEY]
    for task in store._tasks:
        if task.get_name() == "follow-streams":
            task.cancel()


@pytest.mark.timeout(60)
async def test_an_event_created_elsewhere_is_found_at_once(tmp_path: Path, redis: Any) -> None:
    async with serve(tmp_path / "a", redis.url) as (a_url, _), serve(tmp_path / "b", redis.url) as (b_url, b_app):
        hold_back(b_app)
        async with aiohttp.ClientSession() as s:
            a, b = Api(a_url, s), Api(b_url, s)
            eid = await a.event()
            assert eid not in b_app[STORE_KEY].events  # B has not followed it...
            text, n = tree_csv(districts=2, communes=2, villages=1)
            result = await b.import_csv(eid, text)  # ...yet answers, not 404
            assert result["created"] == n
            # An event that exists nowhere is still a 404.
            missing = await b.call("GET", "/api/events/ev-00000000/totals", 404)
            assert missing["error"]["code"] == "event_not_found"


@pytest.mark.timeout(60)
async def test_a_point_imported_elsewhere_connects_at_once(tmp_path: Path, redis: Any) -> None:
    async with serve(tmp_path / "a", redis.url) as (a_url, _), serve(tmp_path / "b", redis.url) as (b_url, b_app):
        async with aiohttp.ClientSession() as s:
            a = Api(a_url, s)
            eid = await a.event()
            text, _ = tree_csv(districts=1, communes=1, villages=1)
            store_b = b_app[STORE_KEY]
            await wait_until(lambda: eid in store_b.events, 10, "B to load the event")
            # B's tail of this event stops: it will not fold the import by itself.
            rt = store_b.events[eid]
            assert rt._tail_task is not None
            rt._tail_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(rt._tail_task, 10)  # stopped for sure before the import
            await a.import_csv(eid, text)
            token = (await a.points(eid))[0]["token"]
            assert store_b.point_by_token(token) is None
            tail = asyncio.create_task(rt._tail())  # what a caught-up process would be doing
            async with s.ws_connect(f"{b_url.replace('http', 'ws')}/ws/point?token={token}") as ws:
                assert (await ws.receive_json())["type"] == "welcome"
            # And over REST: a point just imported through A, edited through B.
            code = (await a.points(eid))[-1]["code"]
            rt._tail_task = tail
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(tail, 10)
            b = Api(b_url, s)
            await a.call("POST", f"/api/events/{eid}/points", 201, json={
                "code": "NEW1", "name": "Điểm mới", "level": "village", "parent": code})
            assert "NEW1" not in rt.state.points
            tail = asyncio.create_task(rt._tail())
            edited = await b.call("PATCH", f"/api/events/{eid}/points/NEW1", 200, json={"expected": 42})
            assert edited["expected"] == 42
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tail
            # A token that exists nowhere is still refused.
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await s.ws_connect(f"{b_url.replace('http', 'ws')}/ws/point?token={'x' * 27}")
            assert err.value.status == 401


@pytest.mark.timeout(60)
async def test_an_event_deleted_on_one_process_is_gone_from_the_others(tmp_path: Path, redis: Any) -> None:
    async with serve(tmp_path / "a", redis.url) as (a_url, _), serve(tmp_path / "b", redis.url) as (b_url, b_app):
        async with aiohttp.ClientSession() as s:
            a, b = Api(a_url, s), Api(b_url, s)
            eid = await a.event()
            await b.call("GET", f"/api/events/{eid}", 200)
            await a.call("DELETE", f"/api/events/{eid}", 204)
            await wait_until(lambda: eid not in b_app[STORE_KEY].events, 10, "B to let the deleted event go")
            assert (await b.call("GET", f"/api/events/{eid}", 404))["error"]["code"] == "event_not_found"
