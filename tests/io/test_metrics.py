"""The server's own side of the figures a client measures, on /metrics."""

from __future__ import annotations

import aiohttp

from server.io import metrics
from server.io.http.auth import STORE_KEY
from tests.io.ws.test_point import connect, request, setup_points
from tests.utils import Api, timeout, wait_until


def _count(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


async def test_each_ack_is_timed_from_arrival_to_write(server) -> None:
    """Catches an ack that is not counted (n of the server-side percentile)."""
    _eid, tokens = await setup_points(server)
    before = _count("launchday_ack_seconds_count", kind="checkin"), _count("launchday_ack_seconds_count",
                                                                           kind="attendees")
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, next(iter(tokens.values())))
        assert (await request(ws, {"type": "checkin", "id": "a1", "attendees": 5}))["type"] == "ack"
        assert (await request(ws, {"type": "attendees", "id": "a2", "count": 6}))["type"] == "ack"
        assert (await request(ws, {"type": "attendees", "id": "a3", "count": -1}))["type"] == "error"
        await ws.close()
    after = _count("launchday_ack_seconds_count", kind="checkin"), _count("launchday_ack_seconds_count",
                                                                          kind="attendees")
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)  # the refused one is not an ack
    api: Api = server.api
    _status, text = await api.call("GET", "/metrics")
    assert b'launchday_ack_seconds_bucket{kind="checkin",le="0.001"}' in text


async def test_the_launch_decision_to_the_last_write_is_timed(server) -> None:
    """Catches a countdown fan-out whose end is not measured (or measured for
    an arm or an abort, which start no countdown)."""
    api: Api = server.api
    eid, tokens = await setup_points(server)
    base = f"/api/events/{eid}/launch"
    before = _count("launchday_launch_written_seconds_count")
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, next(iter(tokens.values())))
        await api.call("POST", f"{base}/arm", 200, json={"countdown_ms": 3000, "keys_required": 1})
        assert _count("launchday_launch_written_seconds_count") == before
        await api.call("POST", f"{base}/press", 200, json={"key": "Chủ tịch"})
        await wait_until(lambda: _count("launchday_launch_written_seconds_count") == before + 1,
                         timeout(5), "the countdown's last write measured")
        while (frame := await ws.receive_json(timeout=timeout(5)))["type"] != "launch" or \
                frame["launch"]["state"] != "countdown":
            pass
        await api.call("POST", f"{base}/abort", 200)
        await ws.close()
    assert _count("launchday_launch_written_seconds_count") == before + 1
    assert 0 <= (metrics.REGISTRY.get_sample_value("launchday_launch_written_last_seconds") or -1) < 5


async def test_journal_up_follows_the_journals_health_at_each_scrape(server, monkeypatch) -> None:
    """Catches a journal_up gauge that is not refreshed at scrape time (an
    unreachable Redis would then never show on /metrics, and the
    LaunchdayJournalDown alert of deploy/prometheus/alerts.yml never fires)."""
    api: Api = server.api
    journal = server.app[STORE_KEY].journal
    _status, text = await api.call("GET", "/metrics")
    assert b"\nlaunchday_journal_up 1.0\n" in text
    monkeypatch.setattr(journal, "health", lambda: "Redis unreachable: ConnectionError: refused")
    _status, text = await api.call("GET", "/metrics")
    assert b"\nlaunchday_journal_up 0.0\n" in text
    monkeypatch.undo()
    _status, text = await api.call("GET", "/metrics")
    assert b"\nlaunchday_journal_up 1.0\n" in text
