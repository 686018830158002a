"""Firing reports batched (server/io/ws/firing.py): thousands of ``launch.fired``
frames in a few durable writes, each ack after the write that holds its report."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from server.io.http.auth import STORE_KEY
from server.io.ws import firing
from tests.utils import Api, timeout, tree_csv, wait_until


async def _fired_event(server) -> tuple[str, dict[str, str], float]:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(3, 6, 0)[0])  # 22 points
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 3000})
    launch = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Chủ tịch"})
    return eid, tokens, float(launch["fire_at_ms"])  # reports are accepted from the countdown on


class Durable:
    """Wraps the journal's append: which firing-report ids have been written durably."""

    def __init__(self, journal: Any) -> None:
        self.ids: set[str] = set()
        self.writes: list[int] = []  # reports per durable batch
        self.fail = False
        self._append = journal.append
        journal.append = self.append

    async def append(self, stream: str, facts: Any, expect_seq: int | None = None) -> int:
        batch = [x for x in facts if x.type == "launch.fired_batch"]
        if batch and self.fail:
            raise RuntimeError("disk full (test)")
        seq = await self._append(stream, facts, expect_seq)
        for b in batch:  # recorded only once the append has returned: durable
            self.ids.update(r.msg_id for r in b.reports)
            self.writes.append(len(b.reports))
        return seq


async def _reply(ws: aiohttp.ClientWebSocketResponse, msg_id: str, seconds: float = 5) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=timeout(seconds))
        if frame.get("id") == msg_id:
            return frame


def _report(code: str, fire_at: float, i: int) -> dict[str, Any]:
    return {"type": "launch.fired", "id": f"fired-{code}", "fired_ms": fire_at + 0.25 * i, "offset_ms": -i,
            "rtt_ms": 2.0 + i}


async def test_many_reports_few_writes_exact_figures_ack_after_durable(server) -> None:
    eid, tokens, fire_at = await _fired_event(server)
    store = server.app[STORE_KEY]
    durable = Durable(store.journal)
    acked_durable: dict[str, bool] = {}
    async with aiohttp.ClientSession() as s:
        socks = {c: await s.ws_connect(f"{server.ws}/ws/point?token={t}") for c, t in tokens.items()}
        for ws in socks.values():
            await ws.receive_json(timeout=timeout(5))  # welcome
        sent = {c: _report(c, fire_at, i) for i, c in enumerate(sorted(socks))}

        async def one(code: str) -> None:
            await socks[code].send_json(sent[code])
            reply = await _reply(socks[code], sent[code]["id"])
            assert reply["type"] == "ack", reply
            acked_durable[code] = sent[code]["id"] in durable.ids  # at the moment the ack arrived

        await asyncio.gather(*(one(c) for c in socks))
        seq_before = await store.journal.last_seq(eid)
        # a retry of an acknowledged id is answered from the state: no new write
        code = sorted(socks)[0]
        await socks[code].send_json(sent[code])
        assert (await _reply(socks[code], sent[code]["id"]))["type"] == "ack"
        assert await store.journal.last_seq(eid) == seq_before
        for ws in socks.values():
            await ws.close()
    assert acked_durable == dict.fromkeys(tokens, True)
    assert sum(durable.writes) == len(tokens) and 1 <= len(durable.writes) <= 2, durable.writes
    journaled = [x.type for _, x in await store.journal.read(eid)]
    assert "launch.fired_reported" not in journaled
    stats = (await server.api.call("GET", f"/api/events/{eid}/launch", 200))["fired_stats"]
    times = [r["fired_ms"] for r in sent.values()]
    assert stats["count"] == len(tokens) and stats["missing"] == 0
    assert stats["spread_ms"] == max(times) - min(times)
    assert stats["worst_bound_ms"] == max(r["rtt_ms"] for r in sent.values()) / 2
    report = await server.api.call("GET", f"/api/events/{eid}/report.json", 200)
    got = {r["code"]: (r["fired_ms"], r["offset_ms"], r["rtt_ms"]) for r in report["launch"]["launch"]["reports"]}
    assert got == {c: (r["fired_ms"], r["offset_ms"], r["rtt_ms"]) for c, r in sent.items()}


async def test_a_failed_write_acknowledges_nothing_and_the_retry_counts_once(server) -> None:
    eid, tokens, fire_at = await _fired_event(server)
    store = server.app[STORE_KEY]
    durable = Durable(store.journal)
    durable.fail = True
    code = sorted(tokens)[0]
    frame = _report(code, fire_at, 1)
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")
        await ws.receive_json(timeout=timeout(5))
        await ws.send_json(frame)
        got: list[Any] = []
        async for msg in ws:  # the write fails: no ack; the server closes this socket
            if msg.type == aiohttp.WSMsgType.TEXT:
                got.append(msg.json())
        assert not [x for x in got if x.get("id") == frame["id"]], got
        durable.fail = False
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")  # the device reconnects, resends
        await ws.receive_json(timeout=timeout(5))
        await ws.send_json(frame)
        assert (await _reply(ws, frame["id"]))["type"] == "ack"
        await ws.close()
    assert durable.writes == [1]
    stats = (await server.api.call("GET", f"/api/events/{eid}/launch", 200))["fired_stats"]
    assert stats["count"] == 1


async def test_same_id_twice_in_one_window_is_one_entry(server) -> None:
    eid, tokens, fire_at = await _fired_event(server)
    durable = Durable(server.app[STORE_KEY].journal)
    code = sorted(tokens)[0]
    frame = _report(code, fire_at, 1)
    async with aiohttp.ClientSession() as s:
        a = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")
        b = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")  # two sockets of one point race
        for ws in (a, b):
            await ws.receive_json(timeout=timeout(5))
        await a.send_json(frame)
        await b.send_json(frame)
        assert [(await _reply(ws, frame["id"]))["type"] for ws in (a, b)] == ["ack", "ack"]
        await a.close()
        await b.close()
    assert durable.writes == [1]
    assert firing.batcher(server.app[STORE_KEY].event(eid)).writes == 1


async def test_the_console_delta_carries_fired_points_and_their_reset(server) -> None:
    """Catches a fired report that reaches the console only as figures (no
    ``fired_ms`` in the delta's compact ``fired`` map: the map cannot flash
    it), or a reset that leaves the console showing points as fired."""
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])  # 4 points
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 3000, "rehearsal": True})
    fire_at = float((await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "A"}))["fire_at_ms"])
    headers = {"Authorization": api.headers["Authorization"]}
    async with aiohttp.ClientSession() as s:
        console = await s.ws_connect(f"{server.ws}/ws/console?event={eid}", headers=headers)
        snap = await console.receive_json(timeout=timeout(5))
        assert snap["type"] == "snapshot" and all(p["fired_ms"] is None for p in snap["points"])

        async def fired_views(want: dict[str, Any]) -> None:
            seen: dict[str, Any] = {}
            while any(seen.get(c, "unset") != v for c, v in want.items()):
                frame = await console.receive_json(timeout=timeout(5))
                if frame["type"] == "delta":
                    seen.update({p["code"]: p["fired_ms"] for p in frame["points"]})
                    seen.update(frame.get("fired", {}))

        point = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C1']}")
        await point.receive_json(timeout=timeout(5))
        report = _report("D0-C1", fire_at, 1)
        await point.send_json(report)
        assert (await _reply(point, report["id"]))["type"] == "ack"
        await fired_views({"D0-C1": report["fired_ms"]})
        await wait_until(lambda: time.time() * 1000 > fire_at + 50, seconds=timeout(10), what="the fire time")
        await api.call("POST", f"/api/events/{eid}/launch/reset", 200)
        await fired_views({"D0-C1": None})
        await point.close()
        await console.close()
