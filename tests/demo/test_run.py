"""``launchday demo`` (server/demo/run.py): which registry, and the event's
times following the simulated clock. In process, on a real app and journal."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from aiohttp import web

from server.core.facts import EventCreated
from server.demo import run
from server.demo.simulate import SIM_KEY, clock_s
from server.io import timers
from server.io.app import create_app
from server.io.cli import main
from server.io.http.auth import STORE_KEY

ADMIN = "demo-test-admin-token-0123456789"


@contextlib.asynccontextmanager
async def app_on(data: Path) -> AsyncIterator[web.Application]:
    runner = web.AppRunner(create_app(data, token=ADMIN), handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    try:
        yield runner.app
    finally:
        await run.stop_demo(runner.app)
        await runner.cleanup()


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000.0


def test_simulated_times_map_the_clock_to_real_instants() -> None:
    """Catches event times that do not follow the simulated morning (the
    console saying the deadline is 16 hours away while the simulation says 07:00)."""
    origin = 1_800_000_000.0
    starts_at, deadline = run.simulated_times(origin, 60.0)
    assert _ms(deadline) == pytest.approx((origin + 65.0) * 1000, abs=1)  # 06:25 -> 07:30 at x60: 65 s
    assert _ms(starts_at) == pytest.approx((origin + 95.0) * 1000, abs=1)  # 08:00
    assert deadline.endswith("+07:00") and starts_at.endswith("+07:00")
    assert clock_s("07:30") == 65 * 60


async def test_today_is_the_default_grouped_by_commune(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Catches `make run` serving the 2025 registry, or without its agenda."""
    async with app_on(tmp_path / "data") as app:
        await run.setup_demo(app, 2025, "127.0.0.1", 8080)
        (rt,) = app[STORE_KEY].events.values()
        assert rt.state.info.name == run.DEMO_NAME
        assert len(rt.state.points) == 1000
        assert sum(p.level == "commune" for p in rt.state.points.values()) == 166
        assert "district" not in {p.level for p in rt.state.points.values()}
        if "group_level" in EventCreated.model_fields:  # until group_level lands
            assert rt.state.info.group_level == "commune"
        # Quiet: the next 08:00 in Vietnam, deadline 07:30.
        assert _ms(rt.state.info.starts_at) - _ms(rt.state.info.report_deadline) == 30 * 60 * 1000
        assert _ms(rt.state.info.starts_at) > time.time() * 1000
        out = capsys.readouterr().out
        assert "grouped by commune" in out and f"/console/?event={rt.id}" in out
        # Run again: the same event, nothing imported twice.
        await run.setup_demo(app, 2025, "127.0.0.1", 8080)
        assert len(app[STORE_KEY].events) == 1 and len(rt.state.points) == 1000


async def test_reference_2025_stays_available(tmp_path: Path) -> None:
    """Catches the reference morning (27 districts, 1,018 points) lost behind its flag."""
    async with app_on(tmp_path / "data") as app:
        await run.setup_demo(app, 2025, "127.0.0.1", 8080, demo="reference-2025")
        (rt,) = app[STORE_KEY].events.values()
        assert len(rt.state.points) == 1018
        assert sum(p.level == "district" for p in rt.state.points.values()) == 27


@pytest.mark.filterwarnings("ignore:Changing state:DeprecationWarning")  # setup_demo runs after startup here
async def test_a_simulation_moves_an_untouched_event_to_its_clock(tmp_path: Path) -> None:
    """Catches a rerun with --simulate that keeps the old times: the event's
    deadline must be the simulated 07:30 mapped to real time, and its timer set."""
    speed = 60.0
    async with app_on(tmp_path / "data") as app:
        await run.setup_demo(app, 2025, "127.0.0.1", 8080)  # quiet: tomorrow morning
        before = time.time()
        await run.setup_demo(app, 2025, "127.0.0.1", 1, simulate=speed)  # port 1: the simulation cannot connect
        after = time.time()
        await app[SIM_KEY].stop()
        (rt,) = app[STORE_KEY].events.values()
        deadline = _ms(rt.state.info.report_deadline) / 1000
        assert before + 65.0 - 0.01 <= deadline <= after + 65.0 + 0.01
        assert _ms(rt.state.info.starts_at) / 1000 == pytest.approx(deadline + 30.0, abs=0.002)
        assert timers.DEADLINE_TIMER in rt.timers


async def test_national_imports_through_the_store(tmp_path: Path) -> None:
    """Catches a national registry the store cannot take in one go."""
    async with app_on(tmp_path / "data") as app:
        started = time.perf_counter()
        await run.setup_demo(app, 2025, "127.0.0.1", 8080, demo="national")
        print(f"\nnational demo: created and imported in {time.perf_counter() - started:.1f} s")
        (rt,) = app[STORE_KEY].events.values()
        levels = [p.level for p in rt.state.points.values()]
        assert levels.count("province") == 34 and levels.count("commune") == 3321
        assert len(levels) == 1 + 34 + 3321 * 11
        if "group_level" in EventCreated.model_fields:  # until group_level lands
            assert rt.state.info.group_level == "province"


def test_one_registry_at_a_time() -> None:
    """Catches --reference-2025 and --national both accepted (which one would play?)."""
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--reference-2025", "--national"])
    assert exc.value.code == 2


def test_a_sample_of_the_country_plays(tmp_path: Path) -> None:
    """Catches a national --simulate that would start 36,000 clients in one process."""
    class P:
        def __init__(self, code: str, level: str) -> None:
            self.code, self.level = code, level

    points = [P("VN", "other")] + [P(f"{i:02d}", "province") for i in range(34)] + [
        P(f"u{i}", "commune") for i in range(5000)]
    played = run._sample(points, ("province", "province"), 1)
    assert len(played) == run.SIM_MAX_POINTS
    assert played[0].code == "VN" and sum(p.level == "province" for p in played) == 34
    assert run._sample(points[:100], ("province",), 1) == points[:100]
