"""One precise timer per event loop, shared by every client on that loop.

Why: a process that plays many devices (the load test, the kiosk of a hall
with several screens, the tests) would otherwise run one timer and one
busy-wait per client. At the fire moment the loop then resumes a thousand
tasks one after another, each a task step of tens of microseconds, and the
last one fires 10-20 ms after the first. Here the loop wakes once, spins
once, and records the moment of every due deadline in a tight loop (a
monotonic and a wall clock read, about a microsecond each); only then does it
call the callbacks, each with its own moment. So a process playing a
thousand devices does not turn its own serial work into clock error, which
is what the load test measures (docs/protocol.md#clock-sync).
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import itertools
import logging
import time
import weakref
from collections.abc import Callable
from typing import ClassVar

from checkin.clock import EARLY_S, SPIN_S

Callback = Callable[[float, float], None]  # (monotonic s, wall s) of the moment it fired
log = logging.getLogger("launchday.fire")


class FireHandle:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callback) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FireScheduler:
    """Calls each callback as soon as ``mono() >= deadline``, never before."""

    _per_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, FireScheduler]] = (
        weakref.WeakKeyDictionary())

    def __init__(self, mono: Callable[[], float] = time.monotonic, *, early_s: float = EARLY_S,
                 spin_s: float = SPIN_S) -> None:
        self.mono = mono
        self.early_s = early_s
        self.spin_s = spin_s
        self._heap: list[tuple[float, int, FireHandle]] = []
        self._order = itertools.count()
        self._task: asyncio.Task[None] | None = None
        self._changed: asyncio.Event | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop | None = None) -> FireScheduler:
        """The scheduler shared by everything on ``loop`` (the running one by default)."""
        loop = loop or asyncio.get_running_loop()
        scheduler = cls._per_loop.get(loop)
        if scheduler is None:
            scheduler = cls._per_loop[loop] = cls()
        return scheduler

    def schedule(self, deadline: float, callback: Callback) -> FireHandle:
        handle = FireHandle(deadline, callback)
        earliest = self._heap[0][0] if self._heap else None
        heapq.heappush(self._heap, (deadline, next(self._order), handle))
        if self._task is None or self._task.done():
            self._changed = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="fire-scheduler")
        elif earliest is None or deadline < earliest:
            assert self._changed is not None
            self._changed.set()  # an earlier deadline: re-plan the wait
        return handle

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)

    async def _run(self) -> None:
        assert self._changed is not None
        while True:
            self._drop_cancelled()
            if not self._heap:
                return
            deadline = self._heap[0][0]
            remaining = deadline - self.mono()
            if remaining > self.early_s:
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining - self.early_s)
                except TimeoutError:
                    pass
                continue  # re-read the earliest deadline
            # The final approach: no garbage collection until the moment has
            # passed (a full collection over a busy process's objects takes
            # tens of ms); the deadlines due together are taken off the heap
            # now, in order, so that after the moment each costs only two
            # clock reads (popping 500 heap entries then cost ~2 ms); then
            # short sleeps, each re-checked (a timer may wake late), then a spin.
            collecting = gc.isenabled()
            gc.disable()
            batch = self._take(deadline + self.spin_s)
            try:
                while (remaining := deadline - self.mono()) > self.spin_s:
                    await asyncio.sleep(remaining - self.spin_s)
                    self._drop_cancelled()
                    if self._heap and self._heap[0][0] < deadline:
                        break  # an earlier deadline arrived meanwhile: re-plan
                else:
                    while self.mono() < deadline:  # a deliberate spin of at most spin_s
                        pass
                    self._fire(batch)
                    batch = []
            finally:
                for item in batch:  # not fired (re-planned, or cancelled from outside)
                    heapq.heappush(self._heap, item)
                if collecting:
                    gc.enable()

    def _take(self, until: float) -> list[tuple[float, int, FireHandle]]:
        """Pop, in order, every live entry due by ``until``."""
        heap = self._heap
        batch = []
        while heap and heap[0][0] <= until:
            item = heapq.heappop(heap)
            if not item[2].cancelled:
                batch.append(item)
        return batch

    def _fire(self, batch: list[tuple[float, int, FireHandle]]) -> None:
        """Record the moment of each deadline of ``batch`` (spinning to each),
        then call the callbacks with their moments."""
        mono = self.mono
        wall = time.time
        fired: list[tuple[FireHandle, float, float]] = []
        for deadline, _, handle in batch:
            if handle.cancelled:
                continue
            while (now := mono()) < deadline:
                pass
            fired.append((handle, now, wall()))
        for handle, at_mono, at_wall in fired:
            try:
                handle.callback(at_mono, at_wall)
            except Exception:  # one client's bug must not stop the others firing
                log.exception("fire callback failed")
