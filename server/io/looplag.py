"""How late the event loop answers: a timer every ``TICK_S``, and how late it fired.

Every figure a client measures (an ack's latency, the gap between two console
deltas) mixes three things: the server's loop being busy with other work, the
server process waiting for a CPU the machine gives to someone else, and the
client's own delays. This separates the first two, from inside the server:
each tick's lateness is split into the part the loop thread spent on the CPU
(``launchday_loop_lag_busy_seconds``: our own work held it) and the rest
(``launchday_loop_lag_seconds`` counts the whole lateness). Per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from prometheus_client import Gauge, Histogram

from server.io import metrics

TICK_S = 0.02
_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)

LAG = Histogram("launchday_loop_lag_seconds", "How late a 20 ms loop timer fired (wall clock)",
                buckets=_BUCKETS, registry=metrics.REGISTRY)
BUSY = Histogram("launchday_loop_lag_busy_seconds",
                 "Of that lateness, the CPU time the loop thread spent meanwhile (its own work)",
                 buckets=_BUCKETS, registry=metrics.REGISTRY)
LONGEST = Gauge("launchday_loop_lag_longest_seconds", "Longest loop lateness so far (wall clock)",
                registry=metrics.REGISTRY)
LONGEST_BUSY = Gauge("launchday_loop_lag_longest_busy_seconds", "Longest busy part of a loop lateness so far",
                     registry=metrics.REGISTRY)


async def watch() -> None:
    longest = longest_busy = 0.0
    while True:
        t0, c0 = time.perf_counter(), time.thread_time()
        await asyncio.sleep(TICK_S)
        late = max(0.0, time.perf_counter() - t0 - TICK_S)
        busy = min(late, max(0.0, time.thread_time() - c0))
        LAG.observe(late)
        BUSY.observe(busy)
        if late > longest:
            longest = late
            LONGEST.set(late)
        if busy > longest_busy:
            longest_busy = busy
            LONGEST_BUSY.set(busy)


def start() -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(watch(), name="loop-lag")


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
