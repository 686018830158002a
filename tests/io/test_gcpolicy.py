"""The collector policy (server/io/gcpolicy.py): in force after start-up and
after an import, and frozen objects released once their sockets are gone.

Deleting a point closes its sockets for good: their objects were frozen
while connected, and become garbage that only a refreeze can release.
Deleting a whole event does the same for all of its sockets and its state:
tests/io/http/test_event_delete.py."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import aiohttp

from server.io import gcpolicy
from server.io.http.auth import STORE_KEY
from tests.utils import Api, tree_csv, wait_until


def frozen(obj: Any) -> bool:
    """Tracked by the collector, but in none of its generations: frozen."""
    assert gc.is_tracked(obj)
    return not any(o is obj for o in gc.get_objects())


def policy(server) -> gcpolicy.GcPolicy:
    found = gcpolicy.policy_of(server.app[STORE_KEY])
    assert found is not None
    return found


async def test_in_force_after_startup_and_after_an_import(server) -> None:
    p = policy(server)
    assert (p.last_reason, p.freezes) == ("startup", 1)
    assert gc.get_freeze_count() > 0
    api: Api = server.api
    eid = await api.event()
    rt = server.app[STORE_KEY].event(eid)
    assert not frozen(rt.state)  # created after the start-up freeze
    before = gc.get_freeze_count()
    await api.import_csv(eid, tree_csv(2, 3, 1)[0])
    assert (p.last_reason, p.freezes) == ("import", 2)
    assert gc.get_freeze_count() > before
    point = rt.state.points["D0-C0"]
    assert frozen(point) and frozen(rt.state.points) and frozen(rt.state)


async def test_frozen_socket_objects_released_when_their_point_is_deleted(server) -> None:
    p = policy(server)
    p.settle_s, p.settle_min = 0.05, 1  # a test has one socket, not thousands
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    tokens = {x["code"]: x["token"] for x in await api.points(eid)}
    rt = server.app[STORE_KEY].event(eid)
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C1']}")
        await ws.receive_json()
        await wait_until(lambda: p.last_reason == "connections", 10, "the freeze once connections settle")
        server_ws = next(iter(rt.room.points["D0-C1"])).ws
        assert frozen(server_ws)
        ref = weakref.ref(server_ws)
        del server_ws
        await api.call("DELETE", f"/api/events/{eid}/points/D0-C1", 204)
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4404
        await wait_until(lambda: "D0-C1" not in rt.room.points, 5, "the server to drop the socket")
    gc.collect()
    assert ref() is not None, "frozen: a collection alone does not release it (the policy's memory cost)"
    await wait_until(lambda: ref() is None, 10, "the refreeze to release the deleted point's socket objects")
    assert p.refreezes == 1 and p.last_reason is not None


async def test_no_collection_and_no_refreeze_in_a_launch_window(server) -> None:
    p = policy(server)
    p._task.cancel()  # type: ignore[union-attr]  # stepped by hand here
    p.settle_s = 0.0
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    base = f"/api/events/{eid}/launch"
    await api.call("POST", f"{base}/arm", 200, json={"countdown_ms": 3000})
    p.request_refreeze("test")
    p.step()
    assert p.refreezes == 0  # armed: a press may come any moment
    assert not gc.isenabled() and p.last_reason == "launch window"  # and no automatic collection either
    await api.call("POST", f"{base}/press", 200, json={"key": "A"})
    p.step()
    assert p.refreezes == 0 and not gc.isenabled()  # counting down
    await api.call("POST", f"{base}/abort", 200)
    p.step()
    assert gc.isenabled() and p.held_windows == 1
    p.step()
    assert p.refreezes == 1 and p.refreeze_wanted is None


async def test_refreeze_waits_for_few_sockets_open(server, monkeypatch) -> None:
    """A refreeze walks every object: not while thousands of sockets are open
    (it took 1.6 s of CPU at 10,000), unless frozen garbage passes the cap."""
    p = policy(server)
    p._task.cancel()  # type: ignore[union-attr]  # stepped by hand here
    p.settle_s = 0.0
    open_now = [10_000]
    monkeypatch.setattr(gcpolicy, "connections", lambda store: open_now[0])
    p.step()
    open_now[0] = 4_000  # 6,000 closed: past REFREEZE_CLOSED, but 4,000 still open
    p.step()
    p.step()
    assert p.refreeze_wanted == "connections closed" and p.refreezes == 0
    open_now[0] = 300  # 3 % of the peak: few enough
    p.step()
    p.step()
    assert p.refreezes == 1 and p.closed_since_refreeze == 0
    monkeypatch.setattr(gcpolicy, "REFREEZE_CLOSED_MAX", 6_000)
    open_now[0] = 10_000
    p.step()
    open_now[0] = 3_500  # 6,500 closed, past a (lowered) cap: refreezes with many still open
    p.step()
    p.step()
    assert p.refreezes == 2
