"""Firing reports as telemetry: ``launch.fired`` frames coalesced into batches.

At the fire every point reports when its screen fired (docs/protocol.md,
``launch.fired``): 10,000 frames within a few seconds. One durable write
each kept the event loop seconds behind at 10,000 points (docs/benchmarks.md),
so a per-event :class:`FiredBatcher` gathers the decided reports for
``WINDOW_S`` and appends them as one ``launch.fired_batch`` fact: one group
commit for thousands of reports.

What does not change:

- **An ack follows a durable write that contains the report.** A device's
  frame waits on its batch's ``commit`` (append, fsync, fold); its ``ack`` is
  sent only after that returns, and if the write fails nothing of the batch
  is acknowledged (the device resends the same id).
- **Idempotent per message id**, across retries and restarts: the fold
  records every id of a batch in its point's ``applied`` (as for a single
  report), so a resent id is answered from the state; the same id twice in one
  window is one entry, and a batch folded twice changes nothing.
- **The figures stay exact**: each entry keeps its own report's ``at_ms``.

Per process (a cluster's processes each batch the reports of the points
connected to them; the fold is per fact, so the journal's order decides).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import Counter

from server.core import facts as f
from server.core import launch as ln
from server.io import metrics
from server.io.clock import now_ms

if TYPE_CHECKING:
    from server.io.runtime import EventRuntime

log = structlog.get_logger("launchday.firing")

# Reports arrive spread over ~5 s after the fire (checkin/protocol.py,
# REPORT_SPREAD_S): a 0.75 s window makes that 7-8 writes, and no device waits
# for its ack more than the window plus one commit.
WINDOW_S = 0.75
MAX_BATCH = 5_000  # reports per fact: bounds the size of one journal row and of one fold

BATCHES = Counter("launchday_fired_batches_total", "launch.fired_batch facts appended (durable writes)",
                  registry=metrics.REGISTRY)
REPORTS = Counter("launchday_fired_reports_total", "launch.fired reports written in batches",
                  registry=metrics.REGISTRY)


class FiredBatcher:
    """The pending firing reports of one event (in this process)."""

    def __init__(self, rt: EventRuntime, window_s: float | None = None, max_batch: int | None = None) -> None:
        self.rt = rt
        self.window_s = WINDOW_S if window_s is None else window_s
        self.max_batch = MAX_BATCH if max_batch is None else max_batch
        self.writes = 0  # batches appended by this batcher: in-process count
        self._pending: dict[tuple[str, str], f.LaunchFiredReported] = {}
        # One future per waiting frame: a socket that goes away cancels its
        # own wait, never the batch (and costs less than shielding one shared future).
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def submit(self, facts: Sequence[f.LaunchFiredReported]) -> None:
        """Return once a durable, folded batch contains ``facts``; raise if its write failed."""
        loop = asyncio.get_running_loop()
        if self._timer is None:
            self._timer = loop.call_later(self.window_s, self.flush)
        for fact in facts:
            self._pending.setdefault((fact.code, fact.msg_id), fact)
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        if len(self._pending) >= self.max_batch:
            self.flush()
        await waiter

    def flush(self) -> None:
        """Append what is pending now, as one fact (in a task: never awaits here)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, waiters = list(self._pending.values()), self._waiters
        self._pending, self._waiters = {}, []
        if not waiters:
            return
        task = asyncio.get_running_loop().create_task(self._write(pending, waiters))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _write(self, reports: list[f.LaunchFiredReported], waiters: list[asyncio.Future[None]]) -> None:
        try:
            if reports:
                await self.rt.commit([ln.batch_reports(reports, now_ms())])
                self.writes += 1
                BATCHES.inc()
                REPORTS.inc(len(reports))
        except BaseException as exc:  # nothing of this batch is acknowledged
            log.warning("fired_batch_failed", event_id=self.rt.id, reports=len(reports), error=repr(exc))
            for w in waiters:
                if not w.done():
                    w.set_exception(RuntimeError("the firing reports could not be written"))
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    async def close(self) -> None:
        """Write what is pending and wait for it (graceful shutdown)."""
        self.flush()
        for task in list(self._flushes):
            with contextlib.suppress(Exception):
                await task


_BATCHERS: weakref.WeakKeyDictionary[EventRuntime, FiredBatcher] = weakref.WeakKeyDictionary()


def batcher(rt: EventRuntime) -> FiredBatcher:
    found = _BATCHERS.get(rt)
    if found is None:
        found = _BATCHERS[rt] = FiredBatcher(rt)
    return found


async def commit_reports(rt: EventRuntime, facts: list[Any]) -> None:
    """The point socket's commit for ``launch.fired`` (server/io/wiring.py): through the event's batcher."""
    await batcher(rt).submit(facts)


async def close_all() -> None:
    """Write every batch still pending (before the journal closes)."""
    for b in list(_BATCHERS.values()):
        await b.close()
