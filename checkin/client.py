"""The protocol client of a connection point (a site lead's device).

One client per point speaks ``/ws/point?token=...`` (docs/protocol.md#ws-point).
Every decision (the welcome, agenda and launch it keeps, the ping rounds of
the clock estimate, the outbox and its resends, the fire plan) is made by the
sans-I/O :class:`~checkin.protocol.PointProtocol`; the I/O around it is
asyncio: :class:`~checkin.driver.ProtocolDriver` feeds it frames, writes what
it returns, sleeps until its timers and fires; :class:`PointClient` adds the
public API and connects through an injected
:class:`~checkin.transport.Connector`, reconnecting with capped exponential
backoff and full jitter (checkin/reconnect.py, docs/protocol.md#reconnect).

The kiosk, the load test and the tests all use this class.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections.abc import Sequence

import structlog

from checkin.clock import LocalClock
from checkin.driver import Ack, Callback, ProtocolDriver, forwarded
from checkin.errors import ClientStopped, ProtocolError, ServerError, TokenInvalid
from checkin.events import Now
from checkin.outbox import Outbox
from checkin.protocol import INCIDENT_KINDS, REPORT_SPREAD_S, PointProtocol
from checkin.reconnect import (
    STABLE_S,
    TOKEN_CLOSE_CODES,
    TOKEN_HTTP_STATUSES,
    Reconnect,
    backoff_delay,
)
from checkin.transport import (
    Connection,
    ConnectionClosed,
    Connector,
    HandshakeRejected,
    TransportError,
    WebSocketConnector,
    point_ws_url,
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



class PointClient(ProtocolDriver):
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

    backoff_base = forwarded("base", "The backoff's first ceiling.", "_reconnect")
    backoff_cap = forwarded("cap", "The backoff's largest ceiling.", "_reconnect")
    storm_window = forwarded("storm_window", "The first retry after a drop waits within this.", "_reconnect")
    stable_s = forwarded("stable_s", "A connection that held this long resets the backoff.", "_reconnect")

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
        self.token = token
        self._connector = connector or WebSocketConnector()
        self._rng = rng or random.Random()
        self._reconnect = Reconnect(urls, token, base=backoff_base, cap=backoff_cap,
                                    storm_window=storm_window, stable_s=stable_s, rng=self._rng)
        self.urls = self._reconnect.urls
        self.backoff_delays = self._reconnect.delays
        local_clock = LocalClock(clock_offset_ms)
        protocol = PointProtocol(
            local_clock=local_clock, outbox=Outbox(outbox_path), rng=self._rng,
            ping_count=ping_count, ping_spacing_s=ping_spacing_s, pong_timeout_s=pong_timeout_s,
            resync_interval_s=resync_interval_s, countdown_resync_after_s=countdown_resync_after_s,
            countdown_resync_spread_s=countdown_resync_spread_s, report_spread_s=report_spread_s,
        )
        super().__init__(protocol, local_clock, {
            "welcome": on_welcome, "agenda": on_agenda, "launch": on_launch,
            "notice": on_notice, "state": on_state, "fire": on_fire,
        })
        self.welcome_timeout_s = welcome_timeout_s

        # Observability (the load test measures these).
        self.connect_attempts = 0
        self.attempt_times: list[float] = []  # monotonic, each connect attempt
        self.connect_times: list[float] = []  # monotonic, each successful handshake

        self._conn_connected = False
        self._run_task: asyncio.Task[None] | None = None
        self._ticker_task: asyncio.Task[None] | None = None
        self._connected_ev = asyncio.Event()
        self._log = log.bind(url=self.url)

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
        return self._reconnect.url

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

    # -- connection loop ---------------------------------------------------------
    async def _run(self) -> None:
        while True:
            url = self._reconnect.ws_url
            self._log = self._log.bind(url=self.url)
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
            # A drop or a refusal moves on to the next server, after a jittered backoff.
            delay = self._reconnect.failed(time.monotonic())
            self._set_state("backoff")
            await asyncio.sleep(delay)

    async def _session(self, conn: Connection, started: Now) -> None:
        self._protocol.connection_made(started)
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
        # cancellation (stop()) that races with the inner result.
        async with asyncio.timeout(self.welcome_timeout_s):
            text = await conn.recv()
        self._receive(text)  # ProtocolError unless it is the welcome
        self._reconnect.welcomed(time.monotonic())
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
