"""Durability: kill -9 the server between an ack and the next read, restart,
and nothing acknowledged is lost; replayed ids still apply once."""

from __future__ import annotations

import signal
import sqlite3

import aiohttp
import orjson

from tests.utils import Api, ServerProcess, timeout, tree_csv


async def test_kill_9_after_acks_then_restart(tmp_path) -> None:
    data = tmp_path / "data"
    srv = await ServerProcess(data).start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid = await api.event()
            await api.import_csv(eid, tree_csv(2, 5, 3)[0])
            tokens = {p["code"]: p["token"] for p in await api.points(eid)}
            acked: dict[str, int] = {}
            for i, (code, token) in enumerate(tokens.items()):
                ws = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={token}")
                await ws.receive_json(timeout=timeout(5))
                await ws.send_json({"type": "checkin", "id": f"{code}-a", "attendees": i + 1})
                assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
                acked[code] = i + 1
                if i % 4 == 0:
                    await ws.send_json({"type": "incident", "id": f"{code}-inc", "kind": "video", "note": ""})
                    assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
                await ws.close()
            before = await api.totals(eid)
            before_points = await api.points(eid)
        # The last ack has been read; kill at once, before any further read.
        assert srv.kill(signal.SIGKILL) == -signal.SIGKILL

        srv = await ServerProcess(data, srv.port).start()
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            after = await api.totals(eid)
            strip = ("as_of_ms", "online")
            assert {k: v for k, v in after.items() if k not in strip} == {
                k: v for k, v in before.items() if k not in strip}
            assert after["attendees"] == sum(acked.values())
            assert [p["token"] for p in await api.points(eid)] == [p["token"] for p in before_points]
            # Replayed ids (a device that never saw its ack) apply once.
            code, token = next(iter(tokens.items()))
            ws = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={token}")
            await ws.receive_json(timeout=timeout(5))
            await ws.send_json({"type": "checkin", "id": f"{code}-a", "attendees": 999})
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
            await ws.send_json({"type": "incident", "id": f"{code}-inc", "kind": "video", "note": ""})
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
            await ws.close()
            again = await api.totals(eid)
            assert again["attendees"] == after["attendees"]
            assert again["incidents_open"] == after["incidents_open"]
    finally:
        srv.stop()


async def test_sigterm_is_graceful_and_snapshots(tmp_path) -> None:
    data = tmp_path / "data"
    srv = await ServerProcess(data).start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid = await api.event()
            await api.import_csv(eid, tree_csv(1, 3, 0)[0])
            token = (await api.points(eid))[0]["token"]
            ws = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={token}")
            await ws.receive_json(timeout=timeout(5))
            assert srv.kill(signal.SIGTERM) == 0
            msg = await ws.receive(timeout=timeout(5))
            assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 1001
        # The graceful stop wrote a snapshot of the event at its last fact.
        db = sqlite3.connect(data / "journal.sqlite3")
        try:
            last = db.execute("SELECT MAX(seq) FROM facts WHERE stream = ?", (eid,)).fetchone()[0]
            snap = db.execute("SELECT seq, data FROM snapshots WHERE stream = ?", (eid,)).fetchone()
        finally:
            db.close()
        assert last >= 2 and snap is not None and snap[0] == last
        assert len(orjson.loads(snap[1])["points"]) == 5
        srv = await ServerProcess(data, srv.port).start()
        async with aiohttp.ClientSession() as s:
            assert (await Api(srv.base, s).totals(eid))["points"] == 5
    finally:
        srv.stop()
