"""Group commit, shared by both journals: appends that arrive while a write
is under way are gathered and written together by one writer task.

A journal hands :class:`GroupCommit` its own ``write(batch)``: one SQLite
transaction (one fsync), or one Redis pipeline (one round trip). That
function settles every pending append's future (a seq, or an error), and
never acknowledges what it could not make durable. What is shared here:

- one writer task, woken by ``submit``; each batch is everything queued when
  it wakes; appends that arrive during a write go into the next batch;
- the commit time and batch size on ``/metrics``;
- however the writer ends (closed, cancelled, crashed), every append still
  queued fails with ``JournalUnavailable``: it was not written, so it is not
  acknowledged, and nothing waits forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

from server.io import metrics
from server.io.journal import JournalUnavailable


class Pending(Protocol):
    future: asyncio.Future[int]


P = TypeVar("P", bound=Pending)


class GroupCommit(Generic[P]):
    def __init__(self, write: Callable[[list[P]], Awaitable[None]], name: str = "journal-writer") -> None:
        self._write = write
        self._name = name
        self._queue: list[P] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.closing = False

    @property
    def running(self) -> bool:
        """True from ``start`` until ``close`` (or the writer's end)."""
        return self._wakeup is not None and not self.closing

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name=self._name)

    def submit(self, pending: P) -> None:
        """Queue an append for the next batch (the caller awaits its future)."""
        assert self._wakeup is not None, "start() first"
        self._queue.append(pending)
        self._wakeup.set()

    async def close(self, timeout_s: float | None = None) -> BaseException | None:
        """Write what is queued, stop the writer, and return how it ended if it crashed."""
        self.closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        task, self._task = self._task, None
        if task is None:
            return None
        if not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout_s)
            except Exception as exc:  # a timeout: the queue fails in the loop's finally once it ends
                task.cancel()
                return exc
        if task.cancelled():
            return None
        return task.exception()

    async def _loop(self) -> None:
        assert self._wakeup is not None
        try:
            while True:
                await self._wakeup.wait()
                self._wakeup.clear()
                if not self._queue:
                    if self.closing:
                        return
                    continue
                batch, self._queue = self._queue, []
                started = time.perf_counter()
                try:
                    await self._write(batch)
                except BaseException:  # a bug, or a cancel mid-write: this batch is not acknowledged
                    fail_all(batch, JournalUnavailable("the journal's writer stopped during this write"))
                    raise
                metrics.JOURNAL_COMMIT.observe(time.perf_counter() - started)
                metrics.JOURNAL_BATCH.observe(len(batch))
                if self._queue:
                    self._wakeup.set()
        finally:
            self.closing = True
            queued, self._queue = self._queue, []
            fail_all(queued, JournalUnavailable("the journal is closed"))


def fail_all(batch: list[Any], exc: BaseException) -> None:
    """Settle every still-pending append of ``batch`` with ``exc`` (nothing acknowledged)."""
    for p in batch:
        if not p.future.done():
            p.future.set_exception(exc)
