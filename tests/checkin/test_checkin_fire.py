"""The shared precise timer (checkin/fire.py)."""

from __future__ import annotations

import time

from checkin.fire import FireScheduler
from tests.utils import wait_until


async def _run_until_fired(scheduler: FireScheduler, moments: dict[int, tuple[float, float]], n: int) -> None:
    await wait_until(lambda: len(moments) >= n, 5, f"{n} callbacks")


async def test_every_callback_at_or_after_its_deadline_in_order() -> None:
    scheduler = FireScheduler()
    start = time.monotonic()
    deadlines = {i: start + 0.05 + (i % 7) * 0.0003 for i in range(500)}
    moments: dict[int, tuple[float, float]] = {}
    for i, deadline in deadlines.items():
        scheduler.schedule(deadline, lambda mono, wall, i=i: moments.__setitem__(i, (mono, wall)))
    await _run_until_fired(scheduler, moments, 500)
    assert all(moments[i][0] >= deadlines[i] for i in deadlines), "never early"
    order = sorted(moments, key=lambda i: moments[i][0])
    assert [deadlines[i] for i in order] == sorted(deadlines.values())
    wall_now = time.time()
    assert all(abs(wall_now - wall) < 5 for _, wall in moments.values())


async def test_cancel_and_an_earlier_deadline_replans() -> None:
    scheduler = FireScheduler()
    now = time.monotonic()
    moments: dict[int, tuple[float, float]] = {}
    late = scheduler.schedule(now + 10.0, lambda mono, wall: moments.__setitem__(0, (mono, wall)))
    scheduler.schedule(now + 0.04, lambda mono, wall: moments.__setitem__(1, (mono, wall)))
    late.cancel()
    await _run_until_fired(scheduler, moments, 1)
    assert list(moments) == [1] and moments[1][0] >= now + 0.04


async def test_a_failing_callback_does_not_stop_the_others() -> None:
    scheduler = FireScheduler()
    now = time.monotonic()
    moments: dict[int, tuple[float, float]] = {}

    def boom(mono: float, wall: float) -> None:
        raise RuntimeError("a display bug")

    scheduler.schedule(now + 0.02, boom)
    scheduler.schedule(now + 0.02, lambda mono, wall: moments.__setitem__(1, (mono, wall)))
    await _run_until_fired(scheduler, moments, 1)
    assert 1 in moments


async def test_one_scheduler_per_loop() -> None:
    assert FireScheduler.of() is FireScheduler.of()
