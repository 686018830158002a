"""Clock estimation (checkin/clock.py): pure, table-driven; two real-time waits."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from checkin.clock import (
    ClockEstimator,
    LocalClock,
    Sample,
    ServerClock,
    best_sample,
    compute_sample,
    monotonic_at,
    server_ms_at,
    sleep_until_monotonic,
)
from tests.checkin.fakes import PRECISION_MS


def exchange(true_offset: float, out_ms: float, back_ms: float, proc_ms: float = 0.0,
             t0: float = 1_700_000_000_000.0) -> tuple[float, float, float, float]:
    """A ping/pong with known truth: server = local + true_offset."""
    t1 = t0 + out_ms + true_offset
    t2 = t1 + proc_ms
    t3 = t2 - true_offset + back_ms
    return t0, t1, t2, t3


# (true offset, outbound delay, return delay, server processing) → (offset, rtt)
CASES = [
    pytest.param(0.0, 10, 10, 0, 0.0, 20.0, id="in-sync-symmetric"),
    pytest.param(4_200.0, 10, 10, 0, 4_200.0, 20.0, id="device-behind-symmetric"),
    pytest.param(-4_999.5, 3, 3, 1, -4_999.5, 6.0, id="device-ahead-with-processing"),
    pytest.param(1_000.0, 30, 10, 0, 1_010.0, 40.0, id="slow-uplink-biases-by-half"),
    pytest.param(1_000.0, 10, 30, 0, 990.0, 40.0, id="slow-downlink-biases-by-half"),
    pytest.param(-250.0, 0, 80, 5, -290.0, 80.0, id="fully-asymmetric"),
    pytest.param(2_500.0, 0.2, 0.2, 0.05, 2_500.0, 0.4, id="lan"),
]


@pytest.mark.parametrize(("true_offset", "out_ms", "back_ms", "proc_ms", "offset", "rtt"), CASES)
def test_compute_sample(true_offset: float, out_ms: float, back_ms: float, proc_ms: float,
                        offset: float, rtt: float) -> None:
    sample = compute_sample(*exchange(true_offset, out_ms, back_ms, proc_ms))
    # Epoch milliseconds in a double keep about 0.25 µs of resolution.
    assert sample.offset_ms == pytest.approx(offset, abs=1e-3)
    assert sample.rtt_ms == pytest.approx(rtt, abs=1e-3)
    # Whatever the asymmetry, the truth lies within the bound.
    assert abs(sample.offset_ms - true_offset) <= sample.error_bound_ms + 1e-3


def test_compute_sample_clamps_negative_rtt_and_rejects_garbage() -> None:
    # The server claims it held the ping longer than the whole round trip.
    assert compute_sample(0.0, 100.0, 120.0, 10.0).rtt_ms == 0.0
    with pytest.raises(ValueError):
        compute_sample(0.0, float("nan"), 1.0, 2.0)
    with pytest.raises(ValueError):
        compute_sample(0.0, "1", 1.0, 2.0)  # type: ignore[arg-type]


def test_best_of_noisy_pings_is_within_bound_for_random_offsets() -> None:
    rng = random.Random(7)
    for _ in range(200):
        true_offset = rng.uniform(-5_000, 5_000)
        est = ClockEstimator(window=10, min_samples=5)
        for _ in range(5):
            # Queueing noise on either leg, sometimes large.
            est.add(compute_sample(*exchange(true_offset, rng.expovariate(1 / 8),
                                             rng.expovariate(1 / 8))))
        best = est.best
        assert best is not None and est.ready
        assert best.rtt_ms == min(s.rtt_ms for s in est.samples)
        assert abs(best.offset_ms - true_offset) <= best.error_bound_ms + 1e-3


def test_estimator_window_slides_so_resync_adapts() -> None:
    est = ClockEstimator(window=3, min_samples=2)
    assert est.best is None and not est.ready
    for offset, rtt in [(100.0, 5.0), (200.0, 50.0), (300.0, 60.0)]:
        est.add(Sample(offset, rtt, 0.0, 0.0))
    assert est.ready and est.best is not None and est.best.offset_ms == 100.0
    est.add(Sample(400.0, 70.0, 0.0, 0.0))  # the old best leaves the window
    assert est.best is not None and est.best.offset_ms == 200.0
    est.add(Sample(500.0, 50.0, 0.0, 0.0))  # a tie: the newer wins
    assert est.best is not None and est.best.offset_ms == 500.0
    assert best_sample([]) is None


@pytest.mark.parametrize("offset", [-5_000.0, -1.5, 0.0, 333.25, 5_000.0])
def test_server_and_monotonic_mapping_round_trip(offset: float) -> None:
    sample = Sample(offset_ms=offset, rtt_ms=4.0, local_ms=1_000_000.0, mono_s=50.0)
    assert server_ms_at(sample, 50.0) == pytest.approx(1_000_000.0 + offset)
    assert server_ms_at(sample, 52.5) == pytest.approx(1_002_500.0 + offset)
    target = 1_003_000.0 + offset
    assert monotonic_at(sample, target) == pytest.approx(53.0)
    assert server_ms_at(sample, monotonic_at(sample, target)) == pytest.approx(target)


class FakeTime:
    def __init__(self) -> None:
        self.wall = 1_700_000_000.0
        self.mono = 100.0


def test_wall_clock_step_after_sync_changes_nothing() -> None:
    ft = FakeTime()
    local = LocalClock(offset_ms=3_000.0, wall=lambda: ft.wall, mono=lambda: ft.mono)
    clock = ServerClock(local, min_samples=1)
    # Server is the real wall; the device is 3 s ahead; 10 ms each way.
    t0 = local.now_ms()
    t1 = t2 = ft.wall * 1000 + 10
    ft.wall += 0.020
    ft.mono += 0.020
    clock.add_pong(t0, t1, t2, *local.now())
    assert clock.offset_ms == pytest.approx(-3_000.0)
    assert clock.error_bound_ms == pytest.approx(10.0)
    deadline = clock.monotonic_deadline(ft.wall * 1000 + 1_000)
    # The user (or NTP) steps the device clock by an hour: nothing moves.
    ft.wall += 3_600
    assert clock.monotonic_deadline(t1 + 1_010) == pytest.approx(deadline)
    ft.mono += 0.5
    assert clock.server_now_ms() == pytest.approx(t1 + 10 + 500)


def test_server_clock_falls_back_to_coarse_then_local() -> None:
    ft = FakeTime()
    local = LocalClock(offset_ms=-700.0, wall=lambda: ft.wall, mono=lambda: ft.mono)
    clock = ServerClock(local, min_samples=2)
    assert clock.offset_ms is None
    assert clock.server_now_ms() == pytest.approx(local.now_ms())  # no estimate: local clock
    # The welcome was stamped somewhere within a 100 ms handshake.
    sent = local.now_ms()
    ft.wall += 0.1
    ft.mono += 0.1
    clock.set_coarse(sent, ft.wall * 1000 - 50, *local.now())
    assert clock.offset_ms == pytest.approx(700.0 - 0.0, abs=50)
    assert clock.rtt_ms == pytest.approx(100.0)
    assert not clock.synced
    clock.add_pong(local.now_ms(), ft.wall * 1000, ft.wall * 1000, *local.now())
    assert clock.rtt_ms == 0.0 and clock.offset_ms == pytest.approx(700.0)


async def test_sleep_until_monotonic_is_never_early_and_barely_late() -> None:
    for ahead in (0.0, 0.001, 0.015, 0.045):
        deadline = time.monotonic() + ahead
        await sleep_until_monotonic(deadline)
        late = time.monotonic() - deadline
        assert 0.0 <= late < PRECISION_MS / 1000, (ahead, late)
    past = time.monotonic() - 1.0
    await sleep_until_monotonic(past)  # returns at once


async def test_sleep_until_server_ms_follows_a_newer_estimate() -> None:
    local = LocalClock(offset_ms=0.0)
    clock = ServerClock(local, min_samples=1)
    now = local.now_ms()
    clock.add_pong(now, now, now, now, local.mono())  # offset 0
    target = now + 2_000.0  # two seconds away by this estimate
    sleeper = asyncio.create_task(clock.sleep_until_server_ms(target))
    await asyncio.sleep(0)
    # A re-sync finds the server 1.94 s ahead: the moment is ~60 ms away.
    t = local.now_ms()
    clock.add_pong(t, t + 1_940.0, t + 1_940.0, t, local.mono())
    deadline = await asyncio.wait_for(sleeper, 0.5)
    assert 0.0 <= time.monotonic() - deadline < PRECISION_MS / 1000
    assert clock.server_now_ms() == pytest.approx(target, abs=PRECISION_MS)
