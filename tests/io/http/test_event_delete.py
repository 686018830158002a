"""DELETE /api/events/{eid}: gone from the lists, its links closed, still gone
after a restart, refused while the ceremony is under way; and the collector's
frozen objects of the event released (issue 10's policy)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import aiohttp

from server.io import gcpolicy
from server.io.http.auth import STORE_KEY
from tests.utils import ADMIN, Api, ServerProcess, tree_csv, wait_until


async def test_a_deleted_event_is_gone_its_links_closed_and_its_objects_released(server: Any) -> None:
    api: Api = server.api
    store = server.app[STORE_KEY]
    policy = gcpolicy.policy_of(store)
    assert policy is not None
    policy.settle_s, policy.settle_min = 0.05, 1  # a test has one socket, not thousands
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    token = (await api.points(eid))[0]["token"]
    rt = store.event(eid)
    rt_ref = weakref.ref(rt)
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={token}")
        assert (await ws.receive_json())["type"] == "welcome"
        await wait_until(lambda: policy.last_reason == "connections", 10, "the freeze once connections settle")
        # The socket's objects (reference cycles) are frozen now: only a
        # refreeze can release them once the event is gone.
        server_ws = next(iter(next(iter(rt.room.points.values())))).ws
        ws_ref = weakref.ref(server_ws)
        assert not any(o is server_ws for o in gc.get_objects()), "frozen"
        del server_ws, rt
        await api.call("DELETE", f"/api/events/{eid}", 204)
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4404
        await ws.close()
        # The link no longer opens anything.
        refused = await s.get(f"{server.base}/p/{token}")
        assert "hiệu lực" in await refused.text()
    assert eid not in {e["id"] for e in await api.call("GET", "/api/events", 200)}
    gone = await api.call("GET", f"/api/events/{eid}/totals", 404)
    assert gone["error"]["code"] == "event_not_found"
    await wait_until(lambda: ws_ref() is None and rt_ref() is None, 15,
                     "the deleted event's frozen objects released by the refreeze it asked for")
    assert policy.refreezes == 1 and policy.last_reason == "refreeze:event deleted"
    assert gc.isenabled()


async def test_deleting_is_refused_while_a_launch_is_armed(server: Any) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 5000})
    refused = await api.call("DELETE", f"/api/events/{eid}", 409)
    assert refused["error"]["code"] == "event_in_progress"
    assert eid in {e["id"] for e in await api.call("GET", "/api/events", 200)}
    viewer = await api.call("POST", "/api/tokens", 201, json={"name": "Xem", "role": "viewer"})
    as_viewer = Api(server.base, api.session, token=viewer["token"])
    assert (await as_viewer.call("DELETE", f"/api/events/{eid}", 403))["error"]["code"] == "forbidden"


async def test_a_deleted_event_stays_deleted_after_a_restart(tmp_path: Path) -> None:
    srv = await ServerProcess(tmp_path / "data").start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            keep, gone = await api.event(name="Giữ lại"), await api.event(name="Xóa đi")
            await api.call("DELETE", f"/api/events/{gone}", 204)
        srv.kill()
        srv = await ServerProcess(tmp_path / "data", srv.port).start()
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s, token=ADMIN)
            ids = {e["id"] for e in await api.call("GET", "/api/events", 200)}
            assert keep in ids and gone not in ids
            await api.call("GET", f"/api/events/{gone}", 404)
    finally:
        srv.stop()
