"""The protocol client of a connection point (a site lead's device): the asyncio driver.

One client per point speaks ``/ws/point?token=...`` (docs/protocol.md#ws-point).
Every decision (the welcome, agenda and launch it keeps, the ping rounds of
the clock estimate, the outbox and its resends, the fire plan) is made by the
sans-I/O :class:`~checkin.protocol.PointProtocol`. This driver only does the
I/O around it: it connects through an injected
:class:`~checkin.transport.Connector`, reconnecting with capped exponential
backoff and full jitter (docs/protocol.md#reconnect); feeds the protocol each
frame with the time; writes the frames it returns; sleeps until its next
timer; fires on the loop's shared precise timer (checkin/fire.py); and turns
its events into callbacks and the callers' futures.

The kiosk, the load test and the tests all use this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from checkin.clock import LocalClock
from checkin.errors import ClientStopped, ProtocolError, ServerError, TokenInvalid
from checkin.events import (
    AgendaChanged,
    Answered,
    LaunchChanged,
    Notice,
    Now,
    RoundDone,
    Synced,
    Welcome,
)
from checkin.fire import FireHandle, FireScheduler
from checkin.outbox import Outbox
from checkin.protocol import INCIDENT_KINDS, REPORT_SPREAD_S, PointProtocol
from checkin.transport import (
    Connection,
    ConnectionClosed,
    Connector,
    HandshakeRejected,
    TransportError,
    WebSocketConnector,
    point_ws_url,
    server_urls,
)

__all__ = [
    "INCIDENT_KINDS",
    "ClientStopped",
    "PointClient",
    "ProtocolError",
    "ServerError",
    "TokenInvalid",
    "backoff_delay",
    "point_ws_url",
]

log = structlog.get_logger("checkin.client")

#: Close codes meaning "this token no longer opens this point": stop, do not retry.
TOKEN_CLOSE_CODES = frozenset({4401, 4403})
TOKEN_HTTP_STATUSES = frozenset({401, 403})
STABLE_S = 10.0  # a connection that held this long resets the backoff (docs/protocol.md#reconnect)
#: After a failing timer step, before the next (a bug must not spin the loop).
TICK_FAILED_S = 0.05

Callback = Callable[..., Any]
Ack = dict[str, Any]


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random,
                  storm_window: float = 0.0) -> float:
    """Full jitter: ``uniform(0, min(cap, base * 2**attempt))``; the first retry
    after losing an established connection is ``uniform(0, storm_window)``.

    Spreading each retry over the whole interval (not ``delay ± 10%``) is what
    keeps a thousand points dropped by one restart from reconnecting in the
    same 100 ms. The storm window matters most: when a server restarts, every
    point loses its connection at once, and with short first windows most of
    them are polling when it comes back and land together; spread over 10 s,
    they arrive at about a hundred a second (docs/protocol.md#reconnect).
    """
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    if storm_window > 0:  # after an established connection: never narrower than the storm window
        return rng.uniform(0.0, storm_window if attempt == 0 else max(storm_window, ceiling))
    return rng.uniform(0.0, ceiling)


def _consume(fut: asyncio.Future[Any]) -> None:
    # Futures nobody awaits (simulate.py's fire-and-forget calls) must not
    # log "exception was never retrieved".
    if not fut.cancelled():
        fut.exception()


def _forward(name: str, doc: str) -> Any:
    """A read-write attribute kept on the protocol state (the public API predates the split)."""
    return property(lambda self: getattr(self._protocol, name),
                    lambda self, value: setattr(self._protocol, name, value), doc=doc)


class PointClient:
    """One point's connection to the server; call it from one event loop only.

    ``urls``: server base URL(s), ``http(s)://`` or ``ws(s)://``, as a list or
    comma-separated. With several, the client starts with the first and, when
    a connection drops or is refused, tries the next (round robin) after the
    usual jittered backoff: the storm window spreads the points of a dead
    server over seconds, so they do not land on the next one at once. The
    outbox is the client's, not the connection's: what the dead server did
    not answer is resent to the next with the same ids (the server applies an
    id once, docs/protocol.md#idempotency). ``clock_offset_ms`` simulates a device
    clock that far off (the tests and the load test use it). ``outbox_path``
    keeps unanswered messages in a JSON file across restarts.

    Callbacks (plain functions, or coroutine functions run as tasks; an
    exception in one is logged, never fatal): ``on_welcome(frame)``,
    ``on_agenda(agenda)``, ``on_launch(launch)``, ``on_notice(frame)``,
    ``on_fire(server_ms)`` and ``on_state(state)`` with ``state`` one of
    ``connecting``, ``connected``, ``synced``, ``disconnected``, ``backoff``,
    ``token_invalid``, ``stopped``.

    Mutating calls return a future: the ``ack`` frame, or :class:`ServerError`,
    :class:`TokenInvalid` or :class:`ClientStopped`.
    """

    # What the server last told us, and the protocol's tunables, live on the protocol state.
    welcome = _forward("welcome", "The last welcome frame.")
    point = _forward("point", "The point, from the welcome.")
    status = _forward("status", "The point's status: the welcome's, updated by acks.")
    seq = _forward("seq", "The welcome's seq.")
    ping_count = _forward("ping_count", "Pings in a full round.")
    ping_spacing_s = _forward("ping_spacing_s", "Mean spacing of a round's pings.")
    pong_timeout_s = _forward("pong_timeout_s", "How long a round waits for each pong.")
    resync_interval_s = _forward("resync_interval_s", "Between two rounds.")
    countdown_resync_after_s = _forward("countdown_resync_after_s",
                                        "A countdown sharpens an estimate older than this.")
    countdown_resync_spread_s = _forward("countdown_resync_spread_s",
                                         "The sharpening ping goes out within this.")
    report_spread_s = _forward("report_spread_s", "launch.fired goes out within this after the moment.")

    def __init__(
        self,
        urls: str | Sequence[str],
        token: str,
        *,
        connector: Connector | None = None,
        clock_offset_ms: float = 0.0,
        outbox_path: str | os.PathLike[str] | None = None,
        on_welcome: Callback | None = None,
        on_agenda: Callback | None = None,
        on_launch: Callback | None = None,
        on_notice: Callback | None = None,
        on_state: Callback | None = None,
        on_fire: Callback | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        storm_window: float = 10.0,
        stable_s: float = STABLE_S,
        rng: random.Random | None = None,
        ping_count: int = 5,
        ping_spacing_s: float = 0.05,
        pong_timeout_s: float = 2.0,
        resync_interval_s: float = 60.0,
        welcome_timeout_s: float = 10.0,
        countdown_resync_after_s: float = 30.0,
        countdown_resync_spread_s: float = 2.0,
        report_spread_s: float = REPORT_SPREAD_S,
    ) -> None:
        url_list = server_urls(urls)
        self.urls = url_list
        self.token = token
        self._ws_urls = [point_ws_url(u, token) for u in url_list]
        self._url_index = 0
        self._connector = connector or WebSocketConnector()
        self._rng = rng or random.Random()
        self.local_clock = LocalClock(clock_offset_ms)
        self._protocol = PointProtocol(
            local_clock=self.local_clock, outbox=Outbox(outbox_path), rng=self._rng,
            ping_count=ping_count, ping_spacing_s=ping_spacing_s, pong_timeout_s=pong_timeout_s,
            resync_interval_s=resync_interval_s, countdown_resync_after_s=countdown_resync_after_s,
            countdown_resync_spread_s=countdown_resync_spread_s, report_spread_s=report_spread_s,
        )
        self.clock = self._protocol.clock
        self._callbacks: dict[str, Callback | None] = {
            "welcome": on_welcome, "agenda": on_agenda, "launch": on_launch,
            "notice": on_notice, "state": on_state, "fire": on_fire,
        }
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.storm_window = storm_window
        self.stable_s = stable_s
        self.welcome_timeout_s = welcome_timeout_s

        # Observability (the load test measures these).
        self.state = "idle"
        self.token_invalid = False
        self.connect_attempts = 0
        self.attempt_times: list[float] = []  # monotonic, each connect attempt
        self.connect_times: list[float] = []  # monotonic, each successful handshake
        self.backoff_delays: list[float] = []
        self.fired_local_wall_ms: float | None = None  # real time.time()*1000, no simulated offset
        self.fired_server_ms: float | None = None

        self._attempt = 0
        self._was_up = False
        self._up_since = 0.0  # monotonic time of the last welcome
        self._conn_connected = False
        self._run_task: asyncio.Task[None] | None = None
        self._ticker_task: asyncio.Task[None] | None = None
        self._fire_handle: FireHandle | None = None
        self._waiters: dict[str, list[asyncio.Future[Ack]]] = {}  # message id -> its callers
        self._callback_tasks: set[asyncio.Future[Any]] = set()
        self._data_ready = asyncio.Event()  # the protocol has frames to write
        self._timers_changed = asyncio.Event()  # its next timer may be earlier than planned
        self._ticker_at = math.inf
        self._round_done: asyncio.Future[None] | None = None
        self._connected_ev = asyncio.Event()
        self._synced_ev = asyncio.Event()
        self._empty_ev = asyncio.Event()
        self._empty_ev.set()
        self._log = log.bind(url=url_list[0])

    # -- lifecycle -------------------------------------------------------------
    async def start(self) -> None:
        """Load the persisted outbox and start connecting in the background."""
        if self._run_task is not None and not self._run_task.done():
            return
        self._protocol.outbox.load()
        self._update_empty()
        self.token_invalid = False
        self._run_task = asyncio.create_task(self._run(), name="checkin-client")
        self._ticker_task = asyncio.create_task(self._ticker(), name="checkin-ticker")

    async def stop(self) -> None:
        """Close the connection; pending messages stay in the outbox (and its file)."""
        self._protocol.cancel_fire("stopped")
        self._sync_fire()
        for task in (self._ticker_task, self._run_task):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # stop() itself was cancelled: do not swallow that
        self._run_task = self._ticker_task = None
        self._fail_pending(ClientStopped("client stopped before the server answered"))
        self._set_state("stopped")

    async def __aenter__(self) -> PointClient:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_connected(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self._connected_ev.wait()

    async def wait_synced(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            await self._synced_ev.wait()

    async def resync(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Run one more round of pings now and wait for it (the load test runs
        a quiet round once every device is connected, docs/protocol.md#clock-sync)."""
        round_done = self._round_done = asyncio.get_running_loop().create_future()
        self._protocol.resync(self._now())
        self._after()
        async with asyncio.timeout(timeout):
            await round_done

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every queued message is answered; raise ``TimeoutError`` after ``timeout``."""
        async with asyncio.timeout(timeout):
            await self._empty_ev.wait()
        if self.token_invalid and self.pending:
            raise TokenInvalid("the point token was refused; messages remain in the outbox")

    # -- reading ---------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._conn_connected

    @property
    def url(self) -> str:
        """The server base URL the client is connected to, or will try next."""
        return self.urls[self._url_index]

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

    @property
    def launch(self) -> dict[str, Any]:
        return self._protocol.launch

    @property
    def agenda(self) -> dict[str, Any]:
        return self._protocol.agenda

    def server_now_ms(self) -> float:
        return self.clock.server_now_ms()

    # -- mutating messages (docs/protocol.md#ws-point) ----------------------------
    def checkin(self, attendees: int) -> asyncio.Future[Ack]:
        return self._queue(self._protocol.checkin(attendees, self._now()))

    def set_attendees(self, count: int) -> asyncio.Future[Ack]:
        return self._queue(self._protocol.set_attendees(count, self._now()))

    def open_incident(self, kind: str, note: str = "") -> asyncio.Future[Ack]:
        """The ack carries ``"incident": "<incident id>"`` for :meth:`resolve_incident`."""
        return self._queue(self._protocol.open_incident(kind, note, self._now()))

    def resolve_incident(self, incident_id: str) -> asyncio.Future[Ack]:
        return self._queue(self._protocol.resolve_incident(incident_id, self._now()))

    def report_fired(self, fired_ms: float, offset_ms: float, rtt_ms: float) -> asyncio.Future[Ack]:
        return self._queue(self._protocol.report_fired(fired_ms, offset_ms, rtt_ms, self._now()))

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

    # -- feeding the protocol ------------------------------------------------------
    def _now(self) -> Now:
        return Now(*self.local_clock.now())

    def _after(self) -> None:
        """Act on what the protocol decided: events, the fire timer, the writer, the ticker."""
        protocol = self._protocol
        for event in protocol.events_received():
            if isinstance(event, Answered):
                for fut in self._waiters.pop(event.id, []):
                    if fut.done():
                        continue
                    if event.error is not None:
                        fut.set_exception(event.error)
                    else:
                        fut.set_result(event.frame)
            elif isinstance(event, LaunchChanged):
                self._call("launch", event.launch)
            elif isinstance(event, Welcome):
                self._log = log.bind(point=protocol.point.get("code"), conn=protocol.gen, url=self.url)
                self._call("welcome", event.frame)
            elif isinstance(event, AgendaChanged):
                self._call("agenda", event.agenda)
            elif isinstance(event, Notice):
                self._call("notice", event.frame)
            elif isinstance(event, Synced):
                self._synced_ev.set()
                self._set_state("synced")
            elif isinstance(event, RoundDone):
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

    # -- connection loop ---------------------------------------------------------
    async def _run(self) -> None:
        while True:
            url = self._ws_urls[self._url_index]
            self._log = self._log.bind(url=self.urls[self._url_index])
            self.connect_attempts += 1
            self.attempt_times.append(time.monotonic())
            self._set_state("connecting")
            started = self._now()
            try:
                conn = await self._connector.connect(url)
            except HandshakeRejected as exc:
                if exc.status in TOKEN_HTTP_STATUSES:
                    self._token_refused(f"HTTP {exc.status}")
                    return
                self._log.warning("connect_rejected", status=exc.status)
            except (TransportError, OSError, TimeoutError) as exc:
                self._log.info("connect_failed", error=repr(exc))
            else:
                self.connect_times.append(time.monotonic())
                try:
                    await self._session(conn, started)
                except ConnectionClosed as exc:
                    if exc.code in TOKEN_CLOSE_CODES:
                        self._token_refused(f"close {exc.code}")
                        return
                    self._log.info("connection_closed", code=exc.code, reason=exc.reason)
                except (TransportError, OSError, TimeoutError) as exc:
                    self._log.info("connection_failed", error=repr(exc))
                except Exception:
                    # A bug in handling must cost a reconnect, not the client.
                    self._log.exception("session_crashed")
                finally:
                    self._disconnected()
                    with contextlib.suppress(Exception):
                        await conn.close()
            # A drop or a refusal moves on to the next server (the backoff
            # below still applies, so a dead server's points spread out).
            if len(self._ws_urls) > 1:
                self._url_index = (self._url_index + 1) % len(self._ws_urls)
            # The storm window applies only to a connection that was up (a
            # first connect, or a retry of one, goes at the usual pace).
            storm = self.storm_window if self._was_up else 0.0
            if self._was_up and time.monotonic() - self._up_since >= self.stable_s:
                self._attempt = 0  # it held: the next drop starts backoff afresh
            self._was_up = False
            delay = backoff_delay(self._attempt, self.backoff_base, self.backoff_cap, self._rng, storm)
            self._attempt += 1
            self.backoff_delays.append(delay)
            self._set_state("backoff")
            await asyncio.sleep(delay)

    async def _session(self, conn: Connection, started: Now) -> None:
        self._protocol.connection_made(started)
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
        # cancellation (stop()) that races with the inner result.
        async with asyncio.timeout(self.welcome_timeout_s):
            text = await conn.recv()
        self._receive(text)  # ProtocolError unless it is the welcome
        # Backoff is reset only once the connection has held stable_s: a
        # server that welcomes and drops at once must not be hammered.
        self._up_since = time.monotonic()
        self._was_up = True
        self._conn_connected = True
        self._connected_ev.set()
        self._set_state("connected")
        writer = asyncio.create_task(self._writer(conn), name="checkin-writer")
        try:
            while True:
                self._receive(await conn.recv())
        finally:
            writer.cancel()
            # gather, not a suppress(BaseException): a cancellation of this
            # task (stop()) must still propagate.
            await asyncio.gather(writer, return_exceptions=True)

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

    def _disconnected(self) -> None:
        was = self._conn_connected
        self._conn_connected = False
        self._connected_ev.clear()
        self._protocol.connection_lost()
        if was and not self.token_invalid:
            self._set_state("disconnected")

    def _token_refused(self, why: str) -> None:
        self._log.error("token_invalid", why=why)
        self.token_invalid = True
        self._fail_pending(TokenInvalid(f"the point token was refused ({why})"))
        self._update_empty()
        self._set_state("token_invalid")

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
