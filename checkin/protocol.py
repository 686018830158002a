"""The sans-I/O state of a connection point's protocol (docs/protocol.md#ws-point).

:class:`PointProtocol` makes every decision of the point client: it keeps the
latest welcome, agenda and launch; runs the ping rounds of the clock estimate
(docs/protocol.md#clock-sync); keeps mutating messages in the outbox until the
server answers them, resending with the same id on each new connection
(docs/protocol.md#websocket-frames); and plans the fire at ``fire_at_ms`` by
its own estimate (docs/protocol.md#launch). It takes frames in and gives
frames, events and timers out, with time passed in: it never reads a clock,
opens a socket or touches asyncio, so its tests need neither
(tests/checkin/test_protocol.py). Its asyncio driver is checkin/driver.py,
as python-websockets' ``asyncio/connection.py`` drives its ``protocol.py``.

Time: every input carries a :class:`Now`, one reading of the device's two
clocks, because the estimate is anchored to a (local, monotonic) pair
(docs/protocol.md#clock-sync, step 5): ``local_ms`` is the wall clock that
pings carry, ``mono_s`` the monotonic clock every deadline is on. Timers are
``(deadline in monotonic seconds, kind)``.

Calling pattern (the driver's, and the tests')::

    p.connection_made(started)           # handshake done; a welcome must come first
    p.receive_text(text, now)            # each frame; ProtocolError if no welcome first
    p.tick(now)                          # when next_timer() is due (a "fire" timer: p.fire(now))
    p.connection_lost()
    for frame in p.data_to_send(): ...   # after every call
    for event in p.events_received(): ...
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import structlog

from checkin import events
from checkin.clock import LocalClock, Sample, ServerClock, monotonic_at, server_ms_at
from checkin.errors import ProtocolError, ServerError
from checkin.events import Event, Now, parse_frame
from checkin.outbox import Entry, Outbox, new_id_factory

__all__ = ["INCIDENT_KINDS", "PointProtocol"]

log = structlog.get_logger("checkin.protocol")

INCIDENT_KINDS = frozenset({"audio", "video", "power", "network", "other"})
#: Errors that mean "nothing was applied, send it again" (docs/protocol.md#errors).
RETRYABLE = frozenset({"conflict", "seq_conflict"})
MAX_RETRIES = 5
RETRY_DELAY_S = 0.05
#: ``launch.fired`` goes out at a uniformly random time this long after the
#: moment at most: measured at 10,000 points, reports sent within 0.25 s made
#: the server spend over a second on them at once, and the console waited
#: 3 s for a delta (docs/benchmarks.md). Nothing depends on their timing.
REPORT_SPREAD_S = 5.0


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return value


def _unread() -> float:
    raise RuntimeError("PointProtocol reads no clock: pass the time in")


class PointProtocol:
    """The point client's decisions, with no I/O; see the module docstring."""

    def __init__(
        self,
        *,
        local_clock: LocalClock | None = None,
        outbox: Outbox | None = None,
        rng: random.Random | None = None,
        ids: Iterator[str] | None = None,
        ping_count: int = 5,
        ping_spacing_s: float = 0.05,
        pong_timeout_s: float = 2.0,
        resync_interval_s: float = 60.0,
        countdown_resync_after_s: float = 30.0,
        countdown_resync_spread_s: float = 2.0,
        report_spread_s: float = REPORT_SPREAD_S,
    ) -> None:
        if ping_count < 1:
            raise ValueError("ping_count must be >= 1")
        # The driver passes its local clock for its own readers (server_now_ms);
        # this class never reads it, and without one a read fails loudly.
        local = local_clock or LocalClock(wall=_unread, mono=_unread)
        self.clock = ServerClock(local, window=max(10, 2 * ping_count), min_samples=ping_count)
        self.outbox = outbox if outbox is not None else Outbox()
        self._ids = ids or new_id_factory()
        self._rng = rng or random.Random()
        self.ping_count = ping_count
        self.ping_spacing_s = ping_spacing_s
        self.pong_timeout_s = pong_timeout_s
        self.resync_interval_s = resync_interval_s
        self.countdown_resync_after_s = countdown_resync_after_s
        self.countdown_resync_spread_s = countdown_resync_spread_s
        self.report_spread_s = report_spread_s

        # What the server last told us.
        self.welcome: dict[str, Any] | None = None
        self.point: dict[str, Any] = {}
        self.status: dict[str, Any] = {}
        self.seq: int | None = None
        self.agenda: dict[str, Any] = {}
        self.launch: dict[str, Any] = {}

        # The connection: ``gen`` numbers them, so each resends the outbox once.
        self.gen = 0
        self.connected = False  # a welcome arrived on the current connection
        self._welcome_bound: float | None = None  # local ms the connect began, until the welcome
        self._out: list[dict[str, Any]] = []
        self._events: list[Event] = []

        # Writing the outbox: when wanted, and not before ``_hold_until``.
        self._write_wanted = True
        self._hold_until = -math.inf  # rate_limited (docs/protocol.md#limits)
        self._wakes: list[float] = []  # a retry's "write again" moments

        # Ping rounds: ``_phase`` is the timer kind the round waits on.
        self._phase: str | None = None  # "ping", "pong", "resync", "sharpen"
        self._phase_at = math.inf
        self._pings_left = 0
        self._sharpen = False  # the next round is a countdown's single ping
        self._resync_now = False
        self._synced = False

        # The launch (docs/protocol.md#launch).
        self._fire_target: float | None = None  # server ms
        self.fire_deadline: float | None = None  # monotonic s, by the current estimate
        self._fired_for: float | None = None
        self._reports: list[tuple[float, float, float, float, float]] = []  # (at, fire_at, fired, offset, rtt)
        self._log = log

    # -- outputs ------------------------------------------------------------------
    def data_to_send(self) -> list[dict[str, Any]]:
        """Frames to write, in order, on the current connection."""
        out, self._out = self._out, []
        return out

    @property
    def has_data_to_send(self) -> bool:
        return bool(self._out)

    def events_received(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    def timers(self) -> list[tuple[float, str]]:
        """Every pending ``(deadline, kind)``, earliest first.

        Kinds: ``ping``, ``pong`` (its timeout), ``resync``, ``sharpen``,
        ``write``, ``report`` (all served by :meth:`tick`) and ``fire`` (served
        by :meth:`fire`, which the driver calls from the precise timer).
        """
        found = [(at, "write") for at in self._wakes]
        found += [(report[0], "report") for report in self._reports]
        if self.connected and self._write_wanted:  # only held back by rate_limited
            found.append((self._hold_until, "write"))
        if self._phase is not None:
            found.append((self._phase_at, self._phase))
        if self.fire_deadline is not None:
            found.append((self.fire_deadline, "fire"))
        return sorted(found)

    def next_timer(self, *, fire: bool = True) -> tuple[float, str] | None:
        return next((t for t in self.timers() if fire or t[1] != "fire"), None)

    @property
    def pending(self) -> int:
        return len(self.outbox)

    # -- the connection -------------------------------------------------------------
    def connection_made(self, started: Now) -> None:
        """A handshake begun at ``started`` succeeded; the welcome must come first."""
        self.gen += 1
        self._welcome_bound = started.local_ms
        self._log = self._log.bind(conn=self.gen)

    def connection_lost(self) -> None:
        """What was not written is lost with the connection; the next one resends the outbox."""
        self.connected = False
        self._welcome_bound = None
        self._out.clear()
        self._phase, self._phase_at = None, math.inf

    def receive_text(self, text: str, now: Now) -> None:
        frame = parse_frame(text)
        if frame is None:
            if self._welcome_bound is not None:
                raise ProtocolError(f"expected welcome, got {text[:200]!r}")
            return
        self.receive(frame, now)

    def receive(self, frame: dict[str, Any], now: Now) -> None:
        kind = frame.get("type")
        if self._welcome_bound is not None:
            if kind != "welcome":
                raise ProtocolError(f"expected welcome, got {str(frame)[:200]!r}")
            self._welcomed(frame, now)
        elif kind == "time.pong":
            self._on_pong(frame, now)
        elif kind == "ack":
            self._on_answer(frame, None, now)
        elif kind == "error":
            code = str(frame.get("code") or "error")
            self._on_answer(frame, ServerError(code, str(frame.get("message") or ""), frame), now)
        elif kind == "launch":
            self._on_launch(frame.get("launch") or {}, now)
        elif kind == "agenda":
            self.agenda = frame.get("agenda") or {}
            self._events.append(events.AgendaChanged(self.agenda))
        elif kind == "notice":
            self._events.append(events.Notice(frame))
        elif kind == "welcome":
            self._on_welcome(frame, now)  # not expected mid-session; treat as a fresh state
        else:
            self._log.debug("frame_ignored", type=kind)
        self._pump(now)

    def _welcomed(self, frame: dict[str, Any], now: Now) -> None:
        assert self._welcome_bound is not None
        server_ms = frame.get("server_ms")
        if isinstance(server_ms, int | float) and math.isfinite(server_ms):
            # The server stamped server_ms somewhere between our connect and
            # this arrival: a coarse estimate until the pings return.
            self.clock.set_coarse(self._welcome_bound, float(server_ms), now.local_ms, now.mono_s)
            self._replan(now)
        self._welcome_bound = None
        self._on_welcome(frame, now)
        self.connected = True
        self._write_wanted = True
        self._start_round(now)

    def _on_welcome(self, frame: dict[str, Any], now: Now) -> None:
        self.welcome = frame
        self.point = frame.get("point") or {}
        self.status = frame.get("status") or {}
        self.seq = frame.get("seq")
        self.agenda = frame.get("agenda") or {}
        self._log = log.bind(point=self.point.get("code"), conn=self.gen)
        self._log.info("welcome", seq=self.seq)
        self._events.append(events.Welcome(frame))
        self._on_launch(frame.get("launch") or {}, now)

    # -- mutating messages (docs/protocol.md#ws-point) ----------------------------------
    def checkin(self, attendees: int, now: Now) -> tuple[str, list[str]]:
        return self.queue({"type": "checkin", "attendees": _count(attendees, "attendees")}, now)

    def set_attendees(self, count: int, now: Now) -> tuple[str, list[str]]:
        return self.queue({"type": "attendees", "count": _count(count, "count")}, now)

    def open_incident(self, kind: str, note: str, now: Now) -> tuple[str, list[str]]:
        if kind not in INCIDENT_KINDS:
            raise ValueError(f"incident kind must be one of {sorted(INCIDENT_KINDS)}, got {kind!r}")
        return self.queue({"type": "incident", "kind": kind, "note": str(note)}, now)

    def resolve_incident(self, incident_id: str, now: Now) -> tuple[str, list[str]]:
        return self.queue({"type": "incident.resolve", "incident": str(incident_id)}, now)

    def report_fired(self, fired_ms: float, offset_ms: float, rtt_ms: float,
                     now: Now) -> tuple[str, list[str]]:
        return self.queue({"type": "launch.fired", "fired_ms": fired_ms, "offset_ms": offset_ms,
                           "rtt_ms": rtt_ms}, now)

    def queue(self, message: dict[str, Any], now: Now) -> tuple[str, list[str]]:
        """Give ``message`` an id and keep it until answered; return the id and
        the ids it superseded (their callers learn the fate of this one)."""
        entry_id = next(self._ids)
        superseded = [old.id for old in self.outbox.add(Entry(entry_id, {**message, "id": entry_id}))]
        for old in superseded:
            self._log.debug("outbox_superseded", old=old, new=entry_id)
        self._write_wanted = True
        self._pump(now)
        return entry_id, superseded

    def _pump(self, now: Now) -> None:
        """Write each unanswered entry once on this connection, in order."""
        if not (self.connected and self._write_wanted) or now.mono_s < self._hold_until:
            return
        self._write_wanted = False
        for entry in self.outbox.unsent(self.gen):
            # Marked when handed out: once a write began, the server may have
            # it, so it can no longer be superseded.
            self.outbox.mark_sent(entry, self.gen)
            self._out.append(entry.message)

    def _on_answer(self, frame: dict[str, Any], error: ServerError | None, now: Now) -> None:
        entry_id = frame.get("id")
        entry = self.outbox.get(entry_id) if isinstance(entry_id, str) else None
        if entry is not None and error is not None:
            if error.code == "rate_limited":
                # Refused before anything was decided: hold the writes for
                # retry_after_ms, then resend the same id, in order (not
                # counted against MAX_RETRIES: the server said when).
                wait_ms: Any = frame.get("retry_after_ms")
                ok = isinstance(wait_ms, int | float) and 0 <= wait_ms <= 60_000
                wait = (float(wait_ms) / 1000 if ok else 1.0) * (1.0 + 0.1 * self._rng.random())
                self._hold_until = max(self._hold_until, now.mono_s + wait)
                entry.sent_gen = -1
                self._wakes.append(now.mono_s + wait)
                return
            if error.code == "unavailable":
                entry.sent_gen = -1
                wait_ms = frame.get("retry_after_ms")
                wait_s = (float(wait_ms) / 1000.0 if isinstance(wait_ms, int | float) and wait_ms > 0
                          else RETRY_DELAY_S)
                self._wakes.append(now.mono_s + wait_s * (1.0 + 0.5 * self._rng.random()))
                return
            if error.code in RETRYABLE and entry.retries < MAX_RETRIES:
                # Nothing was applied (docs/protocol.md#errors): send it again,
                # same id, a moment later, on whatever connection is up then.
                entry.retries += 1
                entry.sent_gen = -1
                self._wakes.append(now.mono_s + RETRY_DELAY_S * (1.0 + self._rng.random()))
                return
        entry = self.outbox.pop(entry_id) if isinstance(entry_id, str) else None
        if entry is None:
            if error is not None:
                self._log.warning("server_error", code=error.code, message=error.message, id=entry_id)
            else:
                self._log.debug("ack_unknown_id", id=entry_id)  # a duplicate answer after a resend
            return
        if error is None:
            kind = entry.message.get("type")
            if kind == "checkin":
                self.status = {**self.status, "checked_in": True, "attendees": entry.message["attendees"]}
            elif kind == "attendees":
                self.status = {**self.status, "attendees": entry.message["count"]}
        else:
            self._log.warning("message_refused", id=entry_id, code=error.code, message=error.message)
        self._events.append(events.Answered(entry.id, frame, error))

    # -- timers --------------------------------------------------------------------
    def tick(self, now: Now) -> None:
        """Serve every timer due by ``now`` except ``fire``."""
        at = now.mono_s
        if any(w <= at for w in self._wakes):
            self._wakes = [w for w in self._wakes if w > at]
            self._write_wanted = True
        due = [r for r in self._reports if r[0] <= at]
        if due:
            self._reports = [r for r in self._reports if r[0] > at]
            for _, fire_at, fired_ms, offset_ms, rtt_ms in due:
                self.report_fired(fired_ms, offset_ms, rtt_ms, now)
                self._log.info("launch_fired", fire_at_ms=fire_at, fired_ms=fired_ms,
                               error_bound_ms=rtt_ms / 2)
        while self._phase is not None and self._phase_at <= at:
            self._advance(now)
        self._pump(now)

    # -- ping rounds (docs/protocol.md#clock-sync) ---------------------------------------
    def resync(self, now: Now) -> None:
        """A full round now (or as soon as the current one ends); a
        :class:`~checkin.events.RoundDone` follows when a round ends."""
        self._resync_now = True
        if self._phase == "resync":
            self._after_wait(now, woken=True)

    def _start_round(self, now: Now) -> None:
        """``ping_count`` sequential pings, spaced with jitter, then ``time.sync``.

        One at a time, and a little apart, so that a client's own pings never
        queue behind each other; the jitter keeps a thousand clients in one
        process from pinging in lockstep. A countdown's round is one ping that
        sharpens the window (a slow one changes nothing: the lowest round trip
        wins); a thousand points sending five each at once would only measure
        their own queueing (measured at 10,000 points: the server fell seconds
        behind, docs/benchmarks.md).
        """
        self._resync_now = False
        self._pings_left = 1 if self._sharpen and self.clock.synced else self.ping_count
        self._sharpen = False
        self._next_ping(now)

    def _next_ping(self, now: Now) -> None:
        self._phase, self._phase_at = "ping", now.mono_s + self.ping_spacing_s * (0.5 + self._rng.random())

    def _advance(self, now: Now) -> None:
        phase = self._phase
        if phase == "ping":
            self._out.append({"type": "time.ping", "t0": now.local_ms})
            self._phase, self._phase_at = "pong", now.mono_s + self.pong_timeout_s
        elif phase == "pong":  # timed out: go on without it
            self._pong_done(now)
        elif phase == "resync":
            self._after_wait(now, woken=False)
        else:  # "sharpen": the countdown's spread is over
            self._start_round(now)

    def _on_pong(self, frame: dict[str, Any], now: Now) -> None:
        try:
            self.clock.add_pong(frame["t0"], frame["t1"], frame["t2"], now.local_ms, now.mono_s)
        except (KeyError, TypeError, ValueError) as exc:
            self._log.warning("bad_pong", error=repr(exc))
        else:
            self._replan(now)
        if self._phase == "pong":
            self._pong_done(now)

    def _pong_done(self, now: Now) -> None:
        self._pings_left -= 1
        if self._pings_left > 0:
            self._next_ping(now)
            return
        if self.clock.estimator.count and self.clock.offset_ms is not None:
            self._out.append({"type": "time.sync", "offset_ms": self.clock.offset_ms,
                              "rtt_ms": self.clock.rtt_ms})
        if self.clock.synced and not self._synced:
            self._synced = True
            self._events.append(events.Synced())
        self._events.append(events.RoundDone())
        self._log.debug("clock_synced", offset_ms=self.clock.offset_ms, rtt_ms=self.clock.rtt_ms)
        self._phase, self._phase_at = "resync", now.mono_s + self.resync_interval_s
        if self._resync_now:  # asked for during the round
            self._after_wait(now, woken=True)

    def _after_wait(self, now: Now, *, woken: bool) -> None:
        if woken and self._sharpen:
            # A countdown reaches every point at once: spread their pings.
            spread = self._rng.uniform(0.0, self.countdown_resync_spread_s)
            self._phase, self._phase_at = "sharpen", now.mono_s + spread
        else:
            self._start_round(now)

    # -- the launch (docs/protocol.md#launch) -----------------------------------------
    def _on_launch(self, launch: dict[str, Any], now: Now) -> None:
        self.launch = launch
        state = launch.get("state")
        fire_at = launch.get("fire_at_ms")
        if state == "countdown" and isinstance(fire_at, int | float):
            # Sharpen an estimate that may have drifted (crystals drift tens
            # of ppm). A fresh one is kept: a thousand points re-pinging at
            # once would only measure their own queueing.
            samples = self.clock.estimator.samples
            age_s = now.mono_s - samples[-1].mono_s if samples else math.inf
            if age_s > self.countdown_resync_after_s:
                self._sharpen = True
                self.resync(now)
            self._schedule_fire(float(fire_at), now)
        elif state in ("idle", "armed", "aborted"):
            self.cancel_fire(str(state))
        # "fired": a planned fire still fires on our own estimate (the frame
        # may outrun it by a few ms); without one we fired already or joined
        # after the moment, and only show the state.
        if launch:
            self._events.append(events.LaunchChanged(launch))

    def _anchor(self, now: Now) -> Sample:
        best = self.clock.best
        if best is not None:
            return best
        return Sample(offset_ms=0.0, rtt_ms=math.inf, local_ms=now.local_ms, mono_s=now.mono_s)

    def _schedule_fire(self, fire_at_ms: float, now: Now) -> None:
        if self._fired_for == fire_at_ms:
            return  # a later frame, or a reconnect, showing the launch we fired
        if self.fire_deadline is not None and self._fire_target == fire_at_ms:
            return
        self._fire_target = fire_at_ms
        self.fire_deadline = monotonic_at(self._anchor(now), fire_at_ms)

    def _replan(self, now: Now) -> None:
        """The clock estimate changed: move a planned fire to the new deadline."""
        if self._fire_target is not None and self.fire_deadline is not None:
            self.fire_deadline = monotonic_at(self._anchor(now), self._fire_target)

    def cancel_fire(self, why: str) -> None:
        if self.fire_deadline is not None:
            self._log.info("launch_cancelled", why=why, fire_at_ms=self._fire_target)
        self._fire_target = self.fire_deadline = None

    def fire(self, now: Now) -> float | None:
        """The precise timer reached ``fire_deadline`` at ``now``: return the
        server time of the moment by the estimate, or ``None`` when nothing is
        due (cancelled, re-planned later, never early). The ``launch.fired``
        report follows after a random delay (a ``report`` timer)."""
        target = self._fire_target
        if target is None or self.fire_deadline is None or now.mono_s < self.fire_deadline:
            return None
        fired_ms = server_ms_at(self._anchor(now), now.mono_s)
        self._fired_for = target
        self._fire_target = self.fire_deadline = None
        # The report is not time-critical (fired_ms is already taken), so it
        # waits: a thousand reports reach the server spread out, not in one burst.
        delay = 0.05 + self._rng.uniform(0.0, self.report_spread_s)
        self._reports.append((now.mono_s + delay, target, fired_ms, self.clock.offset_ms or 0.0,
                              self.clock.rtt_ms or 0.0))
        return fired_ms
