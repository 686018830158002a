"""``launchday demo --simulate``: the plan, and a whole short morning in a
subprocess (real sockets, the real point client), stopped by SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.demo import data as demo_data
from server.demo.simulate import INCIDENTS, INCIDENTS_LEFT_OPEN, WINDOW_S, clock_s, plan_morning
from tests.utils import ROOT, free_port, timeout, wait_until

# What `make run` plays: Thanh Hóa today, the halls that always come are the province's and the communes'.
POINTS = [{"code": row[0], "token": f"t-{row[0]}", "level": row[2], "expected": int(row[6] or 0)}
          for row in demo_data.to_csv_rows(demo_data.thanh_hoa_2026(2025))[1:]]
HALLS = ("province", "commune")


def test_the_plan_is_a_realistic_morning() -> None:
    visits = plan_morning(POINTS, seed=7, always_levels=HALLS)
    codes = {v.code for v in visits}
    by_level = {p["code"]: p["level"] for p in POINTS}
    assert 0.9 * len(POINTS) < len(visits) < len(POINTS)  # some points never come...
    assert {c for c, lvl in by_level.items() if lvl in HALLS} <= codes  # ...but the halls do
    assert all(0 <= v.connect_s <= WINDOW_S for v in visits)
    assert all(v.checkin_s is None or v.checkin_s > v.connect_s for v in visits)
    assert all(at > v.checkin_s for v in visits if v.checkin_s is not None for at, _ in v.updates)
    assert any(v.checkin_s is None for v in visits)  # a point or two online but never checked in
    incidents = [v.incident for v in visits if v.incident]
    assert len(incidents) == INCIDENTS
    assert sum(1 for i in incidents if i[2] is None) == INCIDENTS_LEFT_OPEN
    # Arrivals are spread: no quarter of an hour holds most of them.
    quarters = [sum(1 for v in visits if q * 900 <= v.connect_s < (q + 1) * 900) for q in range(5)]
    assert max(quarters) < 0.5 * len(visits) and min(quarters) > 0
    assert plan_morning(POINTS, seed=7, always_levels=HALLS) == visits  # seeded


async def _when(value: Awaitable[Any], cond: Callable[[Any], bool]) -> Any:
    got = await value
    return got if cond(got) else None


class Demo:
    def __init__(self, data: Path, speed: float) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data = data
        self.speed = speed
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("LAUNCHDAY_ADMIN_TOKEN", "LAUNCHDAY_LOG_LEVEL")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.io.cli", "demo", "--simulate", "--speed", str(self.speed),
            "--port", str(self.port), "--data", str(self.data), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    async def line(self, pattern: str, seconds: float) -> re.Match[str]:
        """The next stdout line matching ``pattern`` (earlier lines are kept in ``lines``)."""
        assert self.proc is not None and self.proc.stdout is not None
        async with asyncio.timeout(timeout(seconds)):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise AssertionError(f"the demo ended before {pattern!r}: {self.lines[-20:]}")
                text = raw.decode().rstrip("\n")
                self.lines.append(text)
                match = re.search(pattern, text)
                if match:
                    return match

    async def stop(self, sig: int) -> tuple[int, str]:
        assert self.proc is not None and self.proc.stderr is not None
        self.proc.send_signal(sig)
        async with asyncio.timeout(timeout(20)):
            err = await self.proc.stderr.read()
            code = await self.proc.wait()
        return code, err.decode(errors="replace")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def test_a_short_morning_fills_the_console_fires_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """Catches a morning that does not fill the console, an event whose times do
    not follow the simulated clock (the deadline must be the simulated 07:30
    mapped to real time), a 07:30 report not taken while the simulation runs,
    a rehearsal that does not fire, and a Ctrl+C that is not clean."""
    speed = 900.0
    demo = Demo(tmp_path / "data", speed=speed)  # the 75-minute window in five seconds
    started = time.time()
    await demo.start()
    try:
        eid = (await demo.line(r"console:\s+\S+/console/\?event=(\S+)", 60)).group(1)
        listed = time.time()
        token = (await demo.line(r"admin token:\s+(\S+)", 5)).group(1)
        await demo.line(r"hall screen:\s+\S+/hall\?event=", 5)
        await demo.line(r"point \S+\s+http://\S+/p/\S+", 5)  # a point link to open
        # The totals grow over the window, as the console shows them.
        checked: list[int] = []
        for _ in range(5):
            match = await demo.line(r"\d\d:\d\d  checked in (\d+)/(\d+)", 60)
            checked.append(int(match.group(1)))
        assert checked == sorted(checked) and checked[0] < checked[-1], checked
        await demo.line(r"rehearsal fired: (\d+) points reported", 90)
        # Every point that came checked in (but those that never do) and fired.
        plan = plan_morning(POINTS, seed=2025, always_levels=HALLS)  # the demo's default seed
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as s:

            async def get(path: str) -> Any:
                async with s.get(f"{demo.base}/api/events/{eid}" + (f"/{path}" if path else "")) as r:
                    return await r.json()

            # The event's times are the simulated 07:30 and 08:00 in real time.
            event = await get("")
            deadline_s = datetime.fromisoformat(event["report_deadline"]).timestamp()
            assert started + clock_s("07:30") / speed <= deadline_s <= listed + clock_s("07:30") / speed
            assert datetime.fromisoformat(event["starts_at"]).timestamp() == pytest.approx(
                deadline_s + 30 * 60 / speed, abs=0.002)
            # The automatic report was taken at the deadline, during the simulated
            # morning (before 08:00 in real time), and the simulation said so.
            starts_s = datetime.fromisoformat(event["starts_at"]).timestamp()
            snaps = [x for x in await get("report/snapshots") if x["automatic"]]
            assert len(snaps) == 1 and deadline_s * 1000 <= snaps[0]["taken_ms"] < starts_s * 1000, snaps
            assert any("07:30 automatic report: taken" in text for text in demo.lines), demo.lines[-30:]
            totals = await wait_until(lambda: _when(get("totals"), lambda t: t["checked_in"] == sum(
                1 for v in plan if v.checkin_s is not None)), 30, "every planned check-in")
            launch = await wait_until(lambda: _when(get("launch"), lambda x: x["fired_stats"]["count"] == len(plan)),
                                      30, "every connected point to report the fire")
        assert launch["state"] == "fired" and launch["rehearsal"] is True
        assert totals["online"] == len(plan) and totals["incidents_open"] == INCIDENTS_LEFT_OPEN
        await demo.line(r"the morning is over", 60)
        code, err = await demo.stop(signal.SIGINT)
        assert code == 0, err[-2000:]
        assert "Traceback" not in err, err[-2000:]
    finally:
        await demo.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_stopping_in_the_middle_of_the_morning_is_clean(tmp_path: Path, sig: int) -> None:
    demo = Demo(tmp_path / "data", speed=150)
    await demo.start()
    try:
        await demo.line(r"06:45  checked in \d+", 60)  # hundreds of points connected
        code, err = await demo.stop(sig)
        assert code == 0, err[-2000:]
        assert "Traceback" not in err and "Task was destroyed" not in err, err[-2000:]
    finally:
        await demo.kill()
