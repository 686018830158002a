"""The protocol client of a connection point (a site lead's device).

One client per point speaks ``/ws/point?token=...`` (docs/protocol.md#ws-point):
it keeps the latest welcome, agenda and launch; estimates the server clock
(docs/protocol.md#clock-sync); keeps mutating messages in an outbox until the
server answers them, resending with the same id after any reconnect
(docs/protocol.md#websocket-frames); reconnects with capped exponential
backoff and full jitter (docs/protocol.md#reconnect); and fires the launch at
``fire_at_ms`` by its own clock estimate (docs/protocol.md#launch).

The kiosk, the load test and the tests all use this class; the connection is
an injected :class:`~checkin.transport.Connector`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import math
import os
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import structlog

from checkin.clock import LocalClock, ServerClock, server_ms_at
from checkin.errors import ClientStopped, ProtocolError, ServerError, TokenInvalid
from checkin.fire import FireHandle, FireScheduler
from checkin.outbox import Entry, Outbox, new_id_factory
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

INCIDENT_KINDS = frozenset({"audio", "video", "power", "network", "other"})
#: Close codes meaning "this token no longer opens this point": stop, do not retry.
TOKEN_CLOSE_CODES = frozenset({4401, 4403})
TOKEN_HTTP_STATUSES = frozenset({401, 403})
#: Errors that mean "nothing was applied, send it again" (docs/protocol.md#errors).
RETRYABLE = frozenset({"conflict", "seq_conflict"})
MAX_RETRIES = 5
RETRY_DELAY_S = 0.05
STABLE_S = 10.0  # a connection that held this long resets the backoff (docs/protocol.md#reconnect)
#: ``launch.fired`` goes out at a uniformly random time this long after the
#: moment at most: measured at 10,000 points, reports sent within 0.25 s made
#: the server spend over a second on them at once, and the console waited
#: 3 s for a delta (docs/benchmarks.md). Nothing depends on their timing.
REPORT_SPREAD_S = 5.0

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
    # Outbox futures nobody awaits (the automatic launch.fired, entries loaded
    # from disk) must not log "exception was never retrieved".
    if not fut.cancelled():
        fut.exception()


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return value


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
        if ping_count < 1:
            raise ValueError("ping_count must be >= 1")
        self.urls = url_list
        self.token = token
        self._ws_urls = [point_ws_url(u, token) for u in url_list]
        self._url_index = 0
        self._connector = connector or WebSocketConnector()
        self.local_clock = LocalClock(clock_offset_ms)
        self.clock = ServerClock(
            self.local_clock, window=max(10, 2 * ping_count), min_samples=ping_count
        )
        self.clock.listeners.append(self._replan)
        self._outbox = Outbox(outbox_path)
        self._ids = new_id_factory()
        self._callbacks: dict[str, Callback | None] = {
            "welcome": on_welcome, "agenda": on_agenda, "launch": on_launch,
            "notice": on_notice, "state": on_state, "fire": on_fire,
        }
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.storm_window = storm_window
        self.stable_s = stable_s
        self._rng = rng or random.Random()
        self.ping_count = ping_count
        self.ping_spacing_s = ping_spacing_s
        self.pong_timeout_s = pong_timeout_s
        self.resync_interval_s = resync_interval_s
        self.welcome_timeout_s = welcome_timeout_s
        self.countdown_resync_after_s = countdown_resync_after_s
        self.countdown_resync_spread_s = countdown_resync_spread_s
        self.report_spread_s = report_spread_s

        # What the server last told us.
        self.welcome: dict[str, Any] | None = None
        self.point: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.seq: int | None = None
        self._agenda: dict[str, Any] = {}
        self._launch: dict[str, Any] = {}

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
        self._hold_until = 0.0  # monotonic: the writer waits (rate_limited, docs/protocol.md#limits)
        self._gen = 0
        self._conn_connected = False
        self._run_task: asyncio.Task[None] | None = None
        self._fire_handle: FireHandle | None = None
        self._fire_target: float | None = None
        self._fired_for: float | None = None
        self._pong: asyncio.Future[None] | None = None
        self._callback_tasks: set[asyncio.Future[Any]] = set()
        self._wake_writer = asyncio.Event()
        self._resync_now = asyncio.Event()
        self._round_done: asyncio.Future[None] | None = None
        self._sharpen = False  # the next round is a countdown's single ping
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
        loop = asyncio.get_running_loop()
        self._outbox.load(loop)
        for entry in self._outbox:
            if entry.future.done():  # from a previous start/stop on this instance
                entry.future = loop.create_future()
            entry.future.add_done_callback(_consume)
        self._update_empty()
        self.token_invalid = False
        self._run_task = asyncio.create_task(self._run(), name="checkin-client")

    async def stop(self) -> None:
        """Close the connection; pending messages stay in the outbox (and its file)."""
        self._cancel_fire("stopped")
        for task in (self._run_task,):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # stop() itself was cancelled: do not swallow that
        self._run_task = None
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
        self._resync_now.set()
        async with asyncio.timeout(timeout):
            await round_done

    async def drain(self, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Wait until every queued message is answered; raise ``TimeoutError`` after ``timeout``."""
        async with asyncio.timeout(timeout):
            await self._empty_ev.wait()
        if self.token_invalid and len(self._outbox):
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
        return len(self._outbox)

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
        return self._launch

    @property
    def agenda(self) -> dict[str, Any]:
        return self._agenda

    def server_now_ms(self) -> float:
        return self.clock.server_now_ms()

    # -- mutating messages (docs/protocol.md#ws-point) ----------------------------
    def checkin(self, attendees: int) -> asyncio.Future[Ack]:
        return self._queue({"type": "checkin", "attendees": _count(attendees, "attendees")})

    def set_attendees(self, count: int) -> asyncio.Future[Ack]:
        return self._queue({"type": "attendees", "count": _count(count, "count")})

    def open_incident(self, kind: str, note: str = "") -> asyncio.Future[Ack]:
        """The ack carries ``"incident": "<incident id>"`` for :meth:`resolve_incident`."""
        if kind not in INCIDENT_KINDS:
            raise ValueError(f"incident kind must be one of {sorted(INCIDENT_KINDS)}, got {kind!r}")
        return self._queue({"type": "incident", "kind": kind, "note": str(note)})

    def resolve_incident(self, incident_id: str) -> asyncio.Future[Ack]:
        return self._queue({"type": "incident.resolve", "incident": str(incident_id)})

    def report_fired(self, fired_ms: float, offset_ms: float, rtt_ms: float) -> asyncio.Future[Ack]:
        return self._queue(
            {"type": "launch.fired", "fired_ms": fired_ms, "offset_ms": offset_ms, "rtt_ms": rtt_ms}
        )

    def _queue(self, message: dict[str, Any]) -> asyncio.Future[Ack]:
        entry_id = next(self._ids)
        message = {**message, "id": entry_id}
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_consume)
        entry = Entry(entry_id, message, fut)
        for old in self._outbox.add(entry):
            # The older count's caller learns the fate of the count that replaced it.
            entry.superseded.extend([old.future, *old.superseded])
            self._log.debug("outbox_superseded", old=old.id, new=entry_id)
        self._update_empty()
        self._wake_writer.set()
        return fut

    def _resolve(self, entry: Entry, result: Ack | None, error: BaseException | None) -> None:
        for fut in (entry.future, *entry.superseded):
            if fut.done():
                continue
            if error is not None:
                fut.set_exception(error)
            else:
                fut.set_result(result or {})

    def _fail_pending(self, error: BaseException) -> None:
        for entry in self._outbox:
            self._resolve(entry, None, error)

    def _update_empty(self) -> None:
        if len(self._outbox) == 0 or self.token_invalid:
            self._empty_ev.set()
        else:
            self._empty_ev.clear()

    # -- connection loop ---------------------------------------------------------
    async def _run(self) -> None:
        while True:
            url = self._ws_urls[self._url_index]
            self._log = self._log.bind(url=self.urls[self._url_index])
            self.connect_attempts += 1
            self.attempt_times.append(time.monotonic())
            self._set_state("connecting")
            sent_local_ms = self.local_clock.now_ms()
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
                self._gen += 1
                try:
                    await self._session(conn, self._gen, sent_local_ms)
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

    async def _session(self, conn: Connection, gen: int, sent_local_ms: float) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
        # cancellation (stop()) that races with the inner result.
        async with asyncio.timeout(self.welcome_timeout_s):
            text = await conn.recv()
        recv_local_ms, recv_mono = self.local_clock.now()
        frame = self._parse(text)
        if frame is None or frame.get("type") != "welcome":
            raise ProtocolError(f"expected welcome, got {text[:200]!r}")
        server_ms = frame.get("server_ms")
        if isinstance(server_ms, int | float) and math.isfinite(server_ms):
            self.clock.set_coarse(sent_local_ms, float(server_ms), recv_local_ms, recv_mono)
        # Backoff is reset only once the connection has held stable_s: a
        # server that welcomes and drops at once must not be hammered.
        self._up_since = time.monotonic()
        self._was_up = True
        self._on_welcome(frame)
        self._conn_connected = True
        self._connected_ev.set()
        self._set_state("connected")
        self._wake_writer.set()
        helpers = [
            asyncio.create_task(self._writer(conn, gen), name="checkin-writer"),
            asyncio.create_task(self._syncer(conn), name="checkin-syncer"),
        ]
        try:
            while True:
                self._dispatch(await conn.recv())
        finally:
            for task in helpers:
                task.cancel()
            # gather, not a suppress(BaseException) loop: a cancellation of
            # this task (stop()) must still propagate.
            await asyncio.gather(*helpers, return_exceptions=True)

    def _disconnected(self) -> None:
        was = self._conn_connected
        self._conn_connected = False
        self._connected_ev.clear()
        if self._pong is not None and not self._pong.done():
            self._pong.cancel()
        if was and not self.token_invalid:
            self._set_state("disconnected")

    def _token_refused(self, why: str) -> None:
        self._log.error("token_invalid", why=why)
        self.token_invalid = True
        self._fail_pending(TokenInvalid(f"the point token was refused ({why})"))
        self._update_empty()
        self._set_state("token_invalid")

    async def _writer(self, conn: Connection, gen: int) -> None:
        """Write outbox entries in order, each once per connection."""
        async with self._closing_on_failure(conn, "writer"):
            while True:
                await self._wake_writer.wait()
                self._wake_writer.clear()
                hold = self._hold_until - time.monotonic()
                if hold > 0:  # rate_limited: nothing goes out before the server's time
                    await asyncio.sleep(hold)
                for entry in self._outbox.unsent(gen):
                    if entry.id not in self._outbox:  # answered or superseded meanwhile
                        continue
                    # Marked before the write: once a write began, the server
                    # may have it, so it can no longer be superseded.
                    self._outbox.mark_sent(entry, gen)
                    await conn.send(self._encode(entry.message))

    @contextlib.asynccontextmanager
    async def _closing_on_failure(self, conn: Connection, helper: str) -> AsyncIterator[None]:
        """A helper task that fails closes the connection: the reader then
        sees the close and the client reconnects, rather than limping on."""
        try:
            yield
        except (TransportError, OSError):
            pass
        except Exception:
            self._log.exception("helper_crashed", helper=helper)
        else:
            return
        with contextlib.suppress(Exception):
            await conn.close(1011, f"{helper} failed")

    async def _syncer(self, conn: Connection) -> None:
        """Ping rounds: at connect, every ``resync_interval_s``, and on a countdown."""
        async with self._closing_on_failure(conn, "syncer"):
            while True:
                self._resync_now.clear()
                # A countdown's round is one ping that sharpens the window (a
                # slow one changes nothing: the lowest round trip wins); a
                # thousand points sending five each at once would only measure
                # their own queueing (measured at 10,000 points: the server fell
                # seconds behind, docs/benchmarks.md).
                pings = 1 if self._sharpen and self.clock.synced else self.ping_count
                self._sharpen = False
                await self._sync_round(conn, pings)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.resync_interval_s):
                        await self._resync_now.wait()
                    if self._sharpen:
                        # A countdown reaches every point at once: spread them.
                        await asyncio.sleep(self._rng.uniform(0.0, self.countdown_resync_spread_s))

    async def _sync_round(self, conn: Connection, pings: int) -> None:
        """``ping_count`` sequential pings, spaced with jitter, then ``time.sync``.

        One at a time, and a little apart, so that a client's own pings never
        queue behind each other; the jitter keeps a thousand clients in one
        process from pinging in lockstep (docs/protocol.md#clock-sync).
        """
        loop = asyncio.get_running_loop()
        for _ in range(pings):
            await asyncio.sleep(self.ping_spacing_s * (0.5 + self._rng.random()))
            self._pong = loop.create_future()
            await conn.send(self._encode({"type": "time.ping", "t0": self.local_clock.now_ms()}))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.pong_timeout_s):
                    await self._pong
        if self.clock.estimator.count and self.offset_ms is not None:
            await conn.send(self._encode(
                {"type": "time.sync", "offset_ms": self.offset_ms, "rtt_ms": self.rtt_ms}
            ))
        if self.clock.synced and not self._synced_ev.is_set():
            self._synced_ev.set()
            self._set_state("synced")
        if self._round_done is not None and not self._round_done.done():
            self._round_done.set_result(None)
        self._log.debug("clock_synced", offset_ms=self.offset_ms, rtt_ms=self.rtt_ms)

    # -- frames from the server ---------------------------------------------------
    @staticmethod
    def _encode(message: dict[str, Any]) -> str:
        return json.dumps(message, ensure_ascii=False, separators=(",", ":"))

    def _parse(self, text: str) -> dict[str, Any] | None:
        try:
            frame = json.loads(text)
        except ValueError:
            self._log.warning("frame_not_json", text=text[:200])
            return None
        if not isinstance(frame, dict):
            self._log.warning("frame_not_object", text=text[:200])
            return None
        return frame

    def _dispatch(self, text: str) -> None:
        frame = self._parse(text)
        if frame is None:
            return
        kind = frame.get("type")
        if kind == "time.pong":
            self._on_pong(frame)
        elif kind == "ack":
            self._on_answer(frame, None)
        elif kind == "error":
            code = str(frame.get("code") or "error")
            self._on_answer(frame, ServerError(code, str(frame.get("message") or ""), frame))
        elif kind == "launch":
            self._on_launch(frame.get("launch") or {})
        elif kind == "agenda":
            self._agenda = frame.get("agenda") or {}
            self._call("agenda", self._agenda)
        elif kind == "notice":
            self._call("notice", frame)
        elif kind == "welcome":
            self._on_welcome(frame)  # not expected mid-session; treat as a fresh state
        else:
            self._log.debug("frame_ignored", type=kind)

    def _on_welcome(self, frame: dict[str, Any]) -> None:
        self.welcome = frame
        self.point = frame.get("point") or {}
        self.status = frame.get("status") or {}
        self.seq = frame.get("seq")
        self._agenda = frame.get("agenda") or {}
        self._log = log.bind(point=self.point.get("code"), conn=self._gen, url=self.url)
        self._log.info("welcome", seq=self.seq)
        self._call("welcome", frame)
        self._on_launch(frame.get("launch") or {})

    def _on_pong(self, frame: dict[str, Any]) -> None:
        t3, mono = self.local_clock.now()
        try:
            self.clock.add_pong(frame["t0"], frame["t1"], frame["t2"], t3, mono)
        except (KeyError, TypeError, ValueError) as exc:
            self._log.warning("bad_pong", error=repr(exc))
        if self._pong is not None and not self._pong.done():
            self._pong.set_result(None)

    def _on_answer(self, frame: dict[str, Any], error: ServerError | None) -> None:
        entry_id = frame.get("id")
        if error is not None and error.code == "rate_limited" and isinstance(entry_id, str):
            entry = self._outbox.get(entry_id)
            if entry is not None:
                # Refused before anything was decided: hold the writer for
                # retry_after_ms, then resend the same id, in order (not
                # counted against MAX_RETRIES: the server said when).
                wait_ms = frame.get("retry_after_ms")
                ok = isinstance(wait_ms, int | float) and 0 <= wait_ms <= 60_000
                wait = (float(wait_ms) / 1000 if ok else 1.0) * (1.0 + 0.1 * self._rng.random())
                self._hold_until = max(self._hold_until, time.monotonic() + wait)
                entry.sent_gen = -1
                asyncio.get_running_loop().call_later(wait, self._wake_writer.set)
                return
        elif error is not None and error.code == "unavailable" and isinstance(entry_id, str):
            entry = self._outbox.get(entry_id)
            if entry is not None:
                entry.sent_gen = -1
                wait_ms = frame.get("retry_after_ms")
                wait_s = (float(wait_ms) / 1000.0 if isinstance(wait_ms, (int, float)) and wait_ms > 0
                          else RETRY_DELAY_S)
                asyncio.get_running_loop().call_later(
                    wait_s * (1.0 + 0.5 * self._rng.random()), self._wake_writer.set)
                return
        if error is not None and error.code in RETRYABLE and isinstance(entry_id, str):
            entry = self._outbox.get(entry_id)
            if entry is not None and entry.retries < MAX_RETRIES:
                # Nothing was applied (docs/protocol.md#errors): send it again,
                # same id, a moment later, on whatever connection is up then.
                entry.retries += 1
                entry.sent_gen = -1
                asyncio.get_running_loop().call_later(
                    RETRY_DELAY_S * (1.0 + self._rng.random()), self._wake_writer.set)
                return
        entry = self._outbox.pop(entry_id) if isinstance(entry_id, str) else None
        if entry is None:
            if error is not None:
                self._log.warning("server_error", code=error.code, message=error.message, id=entry_id)
            else:
                self._log.debug("ack_unknown_id", id=entry_id)  # a duplicate answer after a resend
            return
        if error is None:
            self._note_ack(entry.message)
        else:
            self._log.warning("message_refused", id=entry_id, code=error.code, message=error.message)
        self._resolve(entry, frame, error)
        self._update_empty()

    def _note_ack(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "checkin":
            self.status = {**self.status, "checked_in": True, "attendees": message["attendees"]}
        elif kind == "attendees":
            self.status = {**self.status, "attendees": message["count"]}

    # -- launch (docs/protocol.md#launch) ----------------------------------------
    def _on_launch(self, launch: dict[str, Any]) -> None:
        self._launch = launch
        state = launch.get("state")
        fire_at = launch.get("fire_at_ms")
        if state == "countdown" and isinstance(fire_at, int | float):
            # Sharpen an estimate that may have drifted (crystals drift tens
            # of ppm). A fresh one is kept: a thousand points re-pinging at
            # once would only measure their own queueing.
            if self.clock.age_s() > self.countdown_resync_after_s:
                self._sharpen = True
                self._resync_now.set()
            self._schedule_fire(float(fire_at))
        elif state in ("idle", "armed", "aborted"):
            self._cancel_fire(state)
        # "fired": a pending fire task still fires on our own estimate (the
        # frame may outrun it by a few ms); without one we fired already or
        # joined after the moment, and only show the state.
        if launch:
            self._call("launch", launch)

    def _schedule_fire(self, fire_at_ms: float) -> None:
        """Put the fire on the loop's shared precise timer (checkin/fire.py).

        No task per client: at the fire moment a thousand clients on one loop
        must cost a thousand callbacks of a microsecond, not a thousand task
        wake-ups. A new clock estimate re-plans the deadline (``_replan``).
        """
        if self._fired_for == fire_at_ms:
            return
        handle = self._fire_handle
        if handle is not None and not handle.cancelled and self._fire_target == fire_at_ms:
            return
        if handle is not None:
            handle.cancel()
        self._fire_target = fire_at_ms
        self._fire_handle = FireScheduler.of().schedule(
            self.clock.monotonic_deadline(fire_at_ms), functools.partial(self._fired_now, fire_at_ms))

    def _replan(self) -> None:
        """The clock estimate changed: move a pending fire to the new deadline."""
        handle, target = self._fire_handle, self._fire_target
        if handle is None or handle.cancelled or target is None:
            return
        handle.cancel()
        self._fire_handle = FireScheduler.of().schedule(
            self.clock.monotonic_deadline(target), functools.partial(self._fired_now, target))

    def _cancel_fire(self, why: str) -> None:
        if self._fire_handle is not None and not self._fire_handle.cancelled:
            self._log.info("launch_cancelled", why=why, fire_at_ms=self._fire_target)
            self._fire_handle.cancel()
        self._fire_handle = None
        self._fire_target = None

    def _fired_now(self, fire_at_ms: float, at_mono: float, at_wall: float) -> None:
        """The moment came (``at_mono``/``at_wall``, read by the scheduler at
        the deadline). An ``on_fire`` callback should be quick: other clients
        on this loop are called right after."""
        self.fired_local_wall_ms = at_wall * 1000.0
        fired_ms = server_ms_at(self.clock.anchor(), at_mono)
        self.fired_server_ms = fired_ms
        self._fired_for = fire_at_ms
        self._fire_handle = None
        self._fire_target = None
        self._call("fire", fired_ms)
        # The report is not time-critical (fired_ms is already taken), so it
        # waits: a thousand reports reach the server spread out, not in one burst.
        delay = 0.05 + self._rng.uniform(0.0, self.report_spread_s)
        asyncio.get_running_loop().call_later(
            delay, self._report_fired, fire_at_ms, fired_ms, self.offset_ms or 0.0,
            self.rtt_ms or 0.0,
        )

    def _report_fired(self, fire_at_ms: float, fired_ms: float, offset_ms: float,
                      rtt_ms: float) -> None:
        self.report_fired(fired_ms, offset_ms, rtt_ms)
        self._log.info("launch_fired", fire_at_ms=fire_at_ms, fired_ms=fired_ms,
                       error_bound_ms=rtt_ms / 2)

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
