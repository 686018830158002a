"""Desks on three processes on one Redis (docs/protocol.md#desks): a desk
issued through one process works on every other, sees its subtree only
there too, and its revocation closes its consoles on every process."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.io.http.test_desks import REGISTRY
from tests.scenarios.test_cluster import STRICT_TIMING, Cluster, cluster  # noqa: F401 (the fixture)
from tests.utils import Api, timeout, wait_until

REVOKED_WITHIN_S = 1.0 if STRICT_TIMING else 5.0


async def test_a_desk_works_on_every_process_and_is_revoked_on_every_process(cluster: Cluster) -> None:  # noqa: F811
    """Catches a desk known only to the process that issued it, a process that
    serves the whole province to a desk, and a revocation that leaves a desk's
    console open on another process."""
    admin = cluster.apis[0]
    eid = await admin.event(group_level="commune")
    await admin.import_csv(eid, REGISTRY)
    issued = await cluster.apis[1].call("POST", "/api/tokens", 201, json={
        "name": "Bàn Xã Trong", "role": "operator", "scope": {"event": eid, "point": "IN"}})
    desks = [Api(url, admin.session, issued["token"]) for url in cluster.urls]

    async def sees_its_subtree(api: Api) -> bool:
        status, points = await api.call("GET", f"/api/events/{eid}/points")
        return status == 200 and {p["code"] for p in points} == {"IN", "IN-1", "IN-2"}

    for api in desks:
        await wait_until(lambda api=api: sees_its_subtree(api), timeout(10), "the desk on every process")
        status, body = await api.call("GET", f"/api/events/{eid}/points/OUT-1")
        assert status == 403 and body["error"]["code"] == "out_of_scope"
        assert (await api.call("GET", f"/api/events/{eid}/totals", 200))["points"] == 3

    sockets = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {issued['token']}"}) as s:
        for url in cluster.urls:
            ws = await s.ws_connect(url.replace("http", "ws", 1) + f"/ws/console?event={eid}")
            snap = await ws.receive_json(timeout=timeout(10))
            assert snap["type"] == "snapshot" and {p["code"] for p in snap["points"]} == {"IN", "IN-1", "IN-2"}
            sockets.append(ws)
        closed_at: list[float] = []

        async def until_closed(ws: aiohttp.ClientWebSocketResponse) -> None:
            while True:
                msg = await ws.receive(timeout=timeout(10))
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                    closed_at.append(time.monotonic())
                    return

        watchers = [asyncio.create_task(until_closed(ws)) for ws in sockets]
        t0 = time.monotonic()
        await admin.call("DELETE", f"/api/tokens/{issued['id']}", 204)
        await asyncio.wait_for(asyncio.gather(*watchers), timeout(10))
        assert all(ws.close_code == 4403 for ws in sockets), [ws.close_code for ws in sockets]
        slowest = max(closed_at) - t0
        print(f"desk consoles closed on {len(sockets)} processes, the last {slowest * 1000:.0f} ms after the revocation")
        assert slowest <= REVOKED_WITHIN_S
    for api in desks:
        status, _ = await api.call("GET", f"/api/events/{eid}/totals")
        assert status == 401
