"""The launch fires on every screen at the same instant.

1,000 real WebSocket clients in two fleet processes (loadtest/fleet.py), each
device's clock wrong by up to ±5 s, fire by their own offset estimates; the
error is measured against this machine's real clock. And a kill -9 during the
countdown does not move the fire time.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from checkin import PointClient
from tests.utils import (
    ROOT,
    STRICT_TIMING,
    Api,
    ServerProcess,
    thousand_csv,
    timeout,
    wait_until,
)


async def _points(api: Api, n: int) -> tuple[str, list[str]]:
    """The first ``n`` (≤ 1,000) points' tokens of a fresh event."""
    eid = await api.event()
    await api.import_csv(eid, thousand_csv())
    tokens = [p["token"] for p in await api.points(eid)][:n]
    assert len(tokens) == n
    return eid, tokens


class Fleet:
    def __init__(self, server: str, tokens: list[str], workdir: Path, seed: int) -> None:
        self.file = workdir / f"tokens-{seed}.txt"
        self.file.write_text("\n".join(tokens))
        self.server = server
        self.seed = seed
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loadtest.fleet", "--server", self.server, "--tokens", str(self.file),
            "--seed", str(self.seed), cwd=ROOT, stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024)

    async def line(self, seconds: float) -> dict:
        assert self.proc is not None and self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), timeout(seconds))
        assert raw, "the fleet process exited early"
        return json.loads(raw)

    def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


# The ceremony issue's bounds (p99 ≤ 5 ms, max ≤ 20 ms) under `make test-timing`.
P99_MS, MAX_MS = (5.0, 20.0) if STRICT_TIMING else (50.0, 100.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _launch(api: Api, eid: str, countdown_ms: int) -> float:
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200,
                   json={"countdown_ms": countdown_ms, "keys_required": 1})
    launch = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Chủ tịch UBND tỉnh"})
    assert launch["state"] == "countdown"
    return float(launch["fire_at_ms"])


@pytest.mark.timeout(300)
async def test_thousand_clients_in_two_processes_fire_together(tmp_path) -> None:
    srv = await ServerProcess(tmp_path / "data").start()
    fleets: list[Fleet] = []
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid, tokens = await _points(api, 1000)
            fleets = [Fleet(srv.base, tokens[i::2], tmp_path, seed=i + 1) for i in range(2)]
            for fleet in fleets:
                await fleet.start()
            ready = [await fleet.line(120) for fleet in fleets]
            assert all(r["event"] == "ready" for r in ready) and sum(r["n"] for r in ready) == 1000
            fire_at_ms = await _launch(api, eid, countdown_ms=5000)
            results = [await fleet.line(60) for fleet in fleets]
            clients = [c for r in results for c in r["clients"]]
            assert len(clients) == 1000
            assert all(c["fired_local_wall_ms"] is not None for c in clients), "every client fires"
            errors = [abs(c["fired_local_wall_ms"] - fire_at_ms) for c in clients]
            p99, worst = _percentile(errors, 0.99), max(errors)
            print(f"\nfire error vs real clock over {len(errors)} clients: "
                  f"p50 {_percentile(errors, 0.5):.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms; "
                  f"simulated offsets up to {max(abs(c['simulated_offset_ms']) for c in clients):.0f} ms")
            estimate = [abs(c["offset_ms"] + c["simulated_offset_ms"]) for c in clients]
            print(f"offset estimate error: p99 {_percentile(estimate, 0.99):.2f} ms, max {max(estimate):.2f} ms")
            assert p99 <= P99_MS and worst <= MAX_MS, (p99, worst)
            # The console's telemetry counts the reports (written in batches:
            # server/io/ws/firing.py, so the last ones a window after they were sent).
            async def counted() -> bool:
                launch = await api.call("GET", f"/api/events/{eid}/launch", 200)
                assert launch["state"] == "fired"
                return bool(launch["fired_stats"]["count"] >= 990)

            await wait_until(counted, 10, "the firing reports to be counted")
            # A device that connects after the fire sees "fired" and does not fire.
            late = PointClient(srv.base, tokens[0])
            await late.start()
            await late.wait_connected(timeout(10))
            assert late.launch["state"] == "fired" and late.fired_local_wall_ms is None
            await late.stop()
    finally:
        for fleet in fleets:
            fleet.stop()
        srv.stop()


@pytest.mark.timeout(180)
async def test_kill_9_during_countdown_keeps_the_fire_time(tmp_path) -> None:
    data = tmp_path / "data"
    srv = await ServerProcess(data).start()
    fleet: Fleet | None = None
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid, tokens = await _points(api, 200)
            fleet = Fleet(srv.base, tokens[:100], tmp_path, seed=3)
            await fleet.start()
            assert (await fleet.line(60))["event"] == "ready"
            fire_at_ms = await _launch(api, eid, countdown_ms=10_000)
        srv.kill(signal.SIGKILL)
        srv = await ServerProcess(data, srv.port).start()
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            launch = await api.call("GET", f"/api/events/{eid}/launch", 200)
            assert launch["state"] == "countdown" and launch["fire_at_ms"] == fire_at_ms
            # Devices that join after the restart learn the fire time from their welcome.
            joiners = [PointClient(srv.base, t, clock_offset_ms=(i - 50) * 97.0) for i, t in enumerate(tokens[100:])]
            await asyncio.gather(*(c.start() for c in joiners))
            await asyncio.gather(*(c.wait_synced(timeout(30)) for c in joiners))
            # A quiet round, a few at a time, as loadtest/fleet.py does: the
            # first one ran while a hundred devices were reconnecting.
            quiet = asyncio.Semaphore(10)

            async def resync(c: PointClient) -> None:
                async with quiet:
                    await c.resync(timeout(30))

            await asyncio.gather(*(resync(c) for c in joiners))
            result = await fleet.line(60)
            clients = result["clients"]
            await wait_until(lambda: all(c.fired_local_wall_ms is not None for c in joiners), 30,
                             "every joiner to fire")
            errors = [abs(c["fired_local_wall_ms"] - fire_at_ms) for c in clients]
            errors += [abs(c.fired_local_wall_ms - fire_at_ms) for c in joiners]  # type: ignore[operator]
            print(f"\nafter kill -9: {len(errors)} clients, max fire error {max(errors):.2f} ms")
            assert len(errors) == 200 and max(errors) <= MAX_MS
            await asyncio.gather(*(c.stop() for c in joiners))
    finally:
        if fleet is not None:
            fleet.stop()
        srv.stop()
