"""The asyncio side of the point protocol: feeding :class:`~checkin.protocol.PointProtocol`.

:class:`ProtocolDriver` is the half of the point client that does the
protocol's I/O over whatever connection is up, as python-websockets'
``asyncio/connection.py`` drives its sans-I/O ``protocol.py``: it feeds the
protocol each frame with the time (:meth:`ProtocolDriver._receive`), writes
the frames it returns (:meth:`ProtocolDriver._writer`), sleeps until its next
timer (:meth:`ProtocolDriver._ticker`), fires on the loop's shared precise
timer (checkin/fire.py), and turns its events into callbacks and the callers'
futures. :class:`checkin.client.PointClient` adds the public API and the
connect/reconnect loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import structlog

from checkin import events
from checkin.clock import LocalClock
from checkin.events import Now
from checkin.fire import FireHandle, FireScheduler
from checkin.protocol import PointProtocol
from checkin.transport import Connection, TransportError

__all__ = ["Ack", "Callback", "ProtocolDriver", "forwarded"]

log = structlog.get_logger("checkin.client")

#: After a failing timer step, before the next (a bug must not spin the loop).
TICK_FAILED_S = 0.05

Callback = Callable[..., Any]
Ack = dict[str, Any]


def _consume(fut: asyncio.Future[Any]) -> None:
    # Futures nobody awaits (simulate.py's fire-and-forget calls) must not
    # log "exception was never retrieved".
    if not fut.cancelled():
        fut.exception()


def forwarded(name: str, doc: str, to: str = "_protocol") -> Any:
    """A read-write attribute kept on the protocol state, or on the reconnect
    policy (the public API predates the split)."""
    return property(lambda self: getattr(getattr(self, to), name),
                    lambda self, value: setattr(getattr(self, to), name, value), doc=doc)


class ProtocolDriver:
    """Runs a :class:`PointProtocol` on the running event loop; see the module docstring."""

    # What the server last told us, and the protocol's tunables, live on the protocol state.
    welcome = forwarded("welcome", "The last welcome frame.")
    point = forwarded("point", "The point, from the welcome.")
    status = forwarded("status", "The point's status: the welcome's, updated by acks.")
    seq = forwarded("seq", "The welcome's seq.")
    ping_count = forwarded("ping_count", "Pings in a full round.")
    ping_spacing_s = forwarded("ping_spacing_s", "Mean spacing of a round's pings.")
    pong_timeout_s = forwarded("pong_timeout_s", "How long a round waits for each pong.")
    resync_interval_s = forwarded("resync_interval_s", "Between two rounds.")
    countdown_resync_after_s = forwarded("countdown_resync_after_s",
                                        "A countdown sharpens an estimate older than this.")
    countdown_resync_spread_s = forwarded("countdown_resync_spread_s",
                                         "The sharpening ping goes out within this.")
    report_spread_s = forwarded("report_spread_s", "launch.fired goes out within this after the moment.")
    launch = forwarded("launch", "The last launch object.")
    agenda = forwarded("agenda", "The last agenda object.")

    def __init__(self, protocol: PointProtocol, local_clock: LocalClock,
                 callbacks: dict[str, Callback | None]) -> None:
        self._protocol = protocol
        self.local_clock = local_clock
        self.clock = protocol.clock
        self._callbacks = callbacks
        self.state = "idle"
        self.token_invalid = False
        self.fired_local_wall_ms: float | None = None  # real time.time()*1000, no simulated offset
        self.fired_server_ms: float | None = None
        self._fire_handle: FireHandle | None = None
        self._waiters: dict[str, list[asyncio.Future[Ack]]] = {}  # message id -> its callers
        self._callback_tasks: set[asyncio.Future[Any]] = set()
        self._data_ready = asyncio.Event()  # the protocol has frames to write
        self._timers_changed = asyncio.Event()  # its next timer may be earlier than planned
        self._ticker_at = math.inf
        self._round_done: asyncio.Future[None] | None = None
        self._synced_ev = asyncio.Event()
        self._empty_ev = asyncio.Event()
        self._empty_ev.set()
        self._log = log

    # -- reading ---------------------------------------------------------------
    @property
    def pending(self) -> int:
        return self._protocol.pending

    @property
    def offset_ms(self) -> float | None:
        return self.clock.offset_ms

    @property
    def rtt_ms(self) -> float | None:
        return self.clock.rtt_ms

    @property
    def error_bound_ms(self) -> float | None:
        return self.clock.error_bound_ms

    def server_now_ms(self) -> float:
        return self.clock.server_now_ms()

    # -- feeding the protocol ------------------------------------------------------
    def _queue(self, queued: tuple[str, list[str]]) -> asyncio.Future[Ack]:
        entry_id, superseded = queued
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_consume)
        waiters = [fut]
        for old in superseded:
            # The older count's caller learns the fate of the count that replaced it.
            waiters += self._waiters.pop(old, [])
        self._waiters[entry_id] = waiters
        self._after()
        return fut

    def _fail_pending(self, error: BaseException) -> None:
        waiters, self._waiters = self._waiters, {}
        for futures in waiters.values():
            for fut in futures:
                if not fut.done():
                    fut.set_exception(error)

    def _update_empty(self) -> None:
        if self.pending == 0 or self.token_invalid:
            self._empty_ev.set()
        else:
            self._empty_ev.clear()

    def _now(self) -> Now:
        return Now(*self.local_clock.now())

    def _after(self) -> None:
        """Act on what the protocol decided: events, the fire timer, the writer, the ticker."""
        protocol = self._protocol
        for event in protocol.events_received():
            if isinstance(event, events.Answered):
                for fut in self._waiters.pop(event.id, []):
                    if fut.done():
                        continue
                    if event.error is not None:
                        fut.set_exception(event.error)
                    else:
                        fut.set_result(event.frame)
            elif isinstance(event, events.LaunchChanged):
                self._call("launch", event.launch)
            elif isinstance(event, events.Welcome):
                self._log = self._log.bind(point=protocol.point.get("code"), conn=protocol.gen)
                self._call("welcome", event.frame)
            elif isinstance(event, events.AgendaChanged):
                self._call("agenda", event.agenda)
            elif isinstance(event, events.Notice):
                self._call("notice", event.frame)
            elif isinstance(event, events.Synced):
                self._synced_ev.set()
                self._set_state("synced")
            elif isinstance(event, events.RoundDone):
                if self._round_done is not None and not self._round_done.done():
                    self._round_done.set_result(None)
        self._sync_fire()
        self._update_empty()
        if protocol.has_data_to_send:
            self._data_ready.set()
        timer = protocol.next_timer(fire=False)
        if timer is not None and timer[0] < self._ticker_at:
            self._timers_changed.set()

    def _receive(self, text: str) -> None:
        self._protocol.receive_text(text, self._now())
        self._after()

    async def _ticker(self) -> None:
        """Sleep until the protocol's next timer (or an earlier one appears), then tick it."""
        while True:
            self._timers_changed.clear()
            timer = self._protocol.next_timer(fire=False)
            self._ticker_at = math.inf if timer is None else timer[0]
            delay = None if timer is None else timer[0] - self.local_clock.mono()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._timers_changed.wait()
            try:
                self._protocol.tick(self._now())
                self._after()
            except Exception:
                self._log.exception("tick_failed")
                await asyncio.sleep(TICK_FAILED_S)

    # -- the launch (docs/protocol.md#launch) ----------------------------------------
    def _sync_fire(self) -> None:
        """Keep the loop's shared precise timer (checkin/fire.py) on the protocol's deadline.

        No task per client: at the fire moment a thousand clients on one loop
        must cost a thousand callbacks of a microsecond, not a thousand task
        wake-ups.
        """
        deadline = self._protocol.fire_deadline
        handle = self._fire_handle
        if handle is not None and not handle.cancelled and handle.deadline == deadline:
            return
        if handle is not None:
            handle.cancel()
        self._fire_handle = (None if deadline is None
                             else FireScheduler.of().schedule(deadline, self._fired_now))

    def _fired_now(self, at_mono: float, at_wall: float) -> None:
        """The moment came (``at_mono``/``at_wall``, read by the scheduler at
        the deadline). An ``on_fire`` callback should be quick: other clients
        on this loop are called right after."""
        self._fire_handle = None
        fired_ms = self._protocol.fire(Now(at_wall * 1000.0 + self.local_clock.offset_ms, at_mono))
        if fired_ms is not None:
            self.fired_local_wall_ms = at_wall * 1000.0
            self.fired_server_ms = fired_ms
            self._call("fire", fired_ms)
        self._after()

    async def _writer(self, conn: Connection) -> None:
        """Write what the protocol hands out, in order; a failed write closes
        the connection: the reader then sees the close and the client reconnects."""
        try:
            while True:
                await self._data_ready.wait()
                self._data_ready.clear()
                for frame in self._protocol.data_to_send():
                    await conn.send(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))
        except (TransportError, OSError):
            pass
        except Exception:
            self._log.exception("helper_crashed", helper="writer")
        with contextlib.suppress(Exception):
            await conn.close(1011, "writer failed")

    # -- callbacks -----------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self._call("state", state)

    def _call(self, name: str, *args: Any) -> None:
        callback = self._callbacks.get(name)
        if callback is None:
            return
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._callback_tasks.add(task)  # keep a reference until done
                task.add_done_callback(self._callback_tasks.discard)
        except Exception:
            # A display bug must not take the point offline.
            self._log.exception("callback_failed", callback=name)
