"""The point client's sans-I/O protocol state (checkin/protocol.py): no socket,
no asyncio, no clock read (the protocol's own local clock raises if read);
time is a number the test moves. Each test runs in about a millisecond.

:class:`Wire` plays the network and the server by hand: true time is
``T0_MS + t * 1000``, the server's clock reads true time, the device's reads
``error_ms`` off, and each ping is answered after ``out_s`` up and ``back_s``
down.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from checkin.errors import ProtocolError
from checkin.events import Answered, Now, Synced
from checkin.protocol import PointProtocol

pytestmark = pytest.mark.timeout(5)

T0_MS = 1_750_000_000_000.0
IDLE = {"state": "idle", "fire_at_ms": None}


class Wire:
    def __init__(self, *, error_ms: float = -3_000.0, **kwargs: Any) -> None:
        kwargs.setdefault("ping_spacing_s", 0.05)
        self.p = PointProtocol(rng=random.Random(7), **kwargs)
        self.error_ms = error_ms
        self.t = 0.0
        self.out_s = self.back_s = 0.002
        self.sent: list[dict[str, Any]] = []  # every frame written, in order
        self.fired: list[float] = []  # what fire() returned, when it fired
        self._pongs: list[tuple[float, dict[str, Any]]] = []  # (arrival, frame)

    def now(self) -> Now:
        return Now(T0_MS + self.t * 1000.0 + self.error_ms, self.t)

    def server_ms(self, t: float | None = None) -> float:
        return T0_MS + (self.t if t is None else t) * 1000.0

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.sent if f["type"] == kind]

    def take(self) -> list[dict[str, Any]]:
        """Write what the protocol hands out; the server answers pings (after ``out_s + back_s``)."""
        frames = self.p.data_to_send()
        for frame in frames:
            self.sent.append(frame)
            if frame["type"] == "time.ping":
                t1 = self.server_ms(self.t + self.out_s)
                self._pongs.append((self.t + self.out_s + self.back_s,
                                    {"type": "time.pong", "t0": frame["t0"], "t1": t1, "t2": t1}))
        return frames

    def receive(self, frame: dict[str, Any]) -> list[dict[str, Any]]:
        self.p.receive(frame, self.now())
        return self.take()

    def connect(self, launch: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """A 20 ms handshake, then the welcome; return what was written at once."""
        self._pongs.clear()  # answers to the old connection are lost with it
        self.p.connection_made(self.now())
        self.t += 0.010
        welcome = {"type": "welcome", "server_ms": self.server_ms(), "seq": 0,
                   "point": {"code": "X01"}, "status": {"checked_in": False, "attendees": 0},
                   "agenda": {}, "launch": launch or IDLE}
        self.t += 0.010
        return self.receive(welcome)

    def drop(self) -> None:
        self._pongs.clear()
        self.p.connection_lost()

    def run(self, until: float) -> None:
        """Serve timers and deliver pongs, in time order, up to ``until`` (seconds)."""
        while True:
            timer = self.p.next_timer()
            pong = min(self._pongs, key=lambda p: p[0], default=None)
            at = min(timer[0] if timer else until + 1, pong[0] if pong else until + 1)
            if at > until:
                break
            self.t = max(self.t, at)
            if pong is not None and pong[0] == at:
                self._pongs.remove(pong)
                self.p.receive(pong[1], self.now())
            elif timer is not None and timer[1] == "fire":
                fired = self.p.fire(self.now())
                assert fired is not None, "a due fire timer fires"
                self.fired.append(fired)
            else:
                self.p.tick(self.now())
            self.take()
        self.t = until


def countdown(fire_at_ms: float) -> dict[str, Any]:
    return {"type": "launch", "launch": {"state": "countdown", "fire_at_ms": fire_at_ms}}


def test_welcome_then_a_round_of_spaced_pings_then_time_sync() -> None:
    w = Wire(error_ms=4_321.0)
    assert w.connect() == []  # nothing to write; the first ping waits its spacing
    assert w.p.connected and w.p.point == {"code": "X01"}
    w.run(1.0)
    pings = w.of_type("time.ping")
    assert len(pings) == 5 and w.of_type("time.sync")
    assert w.p.clock.offset_ms == pytest.approx(-4_321.0, abs=1e-6)
    assert any(isinstance(e, Synced) for e in w.p.events_received())
    assert w.p.next_timer() == (pytest.approx(w.t - 1.0 + 60.0, abs=1.0), "resync")


def test_the_welcome_must_come_first() -> None:
    """Catches a protocol that takes any first frame as a session."""
    p = PointProtocol()
    p.connection_made(Now(0.0, 0.0))
    with pytest.raises(ProtocolError):
        p.receive_text('{"type": "ack", "id": "x"}', Now(1.0, 0.001))


def test_reconnect_resends_the_outbox_with_the_same_ids_and_drops_what_was_acked() -> None:
    """Catches: frames queued while disconnected written to no connection or
    lost; frames handed out for a connection that died written on the next
    as well as resent; unanswered frames not resent after the new welcome, resent with new
    ids (the server would apply them twice) or in another order; acked ones
    resent; a never-written count not superseded by a newer one."""
    w = Wire()
    w.connect()
    checkin_id, _ = w.p.checkin(10, w.now())
    incident_id, _ = w.p.open_incident("audio", "mic", w.now())
    assert [f["id"] for f in w.take()] == [checkin_id, incident_id]
    w.receive({"type": "ack", "id": incident_id, "incident": "inc-1"})  # the check-in's ack is lost
    power_id, _ = w.p.open_incident("power", "", w.now())  # handed out, never written: the socket died
    w.drop()
    # Made while disconnected: kept, written nowhere; the newer count
    # supersedes the older, never written one.
    first_count, _ = w.p.set_attendees(20, w.now())
    count_id, superseded = w.p.set_attendees(25, w.now())
    assert superseded == [first_count] and w.take() == []
    assert w.p.pending == 3
    w.t += 5.0
    resent = w.connect()
    assert [(f["type"], f["id"]) for f in resent] == [
        ("checkin", checkin_id), ("incident", power_id), ("attendees", count_id)]
    assert resent[0]["attendees"] == 10 and resent[2]["count"] == 25
    for mid in (checkin_id, power_id, count_id):
        w.receive({"type": "ack", "id": mid})
    answered = [e.id for e in w.p.events_received() if isinstance(e, Answered)]
    assert answered == [incident_id, checkin_id, power_id, count_id]
    assert w.p.pending == 0 and w.p.status["checked_in"] and w.p.status["attendees"] == 25
    w.run(w.t + 1.0)  # a round of pings later, nothing is written again
    assert [f["id"] for f in w.sent if "id" in f] == [checkin_id, incident_id, checkin_id, power_id,
                                                      count_id]


def test_a_clock_resync_during_the_countdown_moves_the_fire() -> None:
    """Catches a fire planned once and not moved by a newer estimate: here
    it would fire 90 ms early by the true clock. Also a countdown re-sync
    that is a full round (five pings from every point at once) rather than
    one sharpening ping, or none at all for a stale estimate."""
    w = Wire(error_ms=-3_000.0)
    w.out_s, w.back_s = 0.200, 0.020  # a slow uplink biases the estimate by (200 - 20) / 2 ms
    w.connect()
    w.run(2.0)
    assert w.p.clock.offset_ms == pytest.approx(3_000.0 + 90.0, abs=1e-6)
    w.run(40.0)  # the estimate is now older than countdown_resync_after_s (30 s)
    pings_before = len(w.of_type("time.ping"))
    fire_at = w.server_ms() + 5_000.0
    w.out_s = w.back_s = 0.002  # the uplink recovered
    w.receive(countdown(fire_at))
    planned = w.p.fire_deadline
    assert planned == pytest.approx(w.t + 5.0 - 0.090, abs=1e-6)
    w.run(w.t + 2.5)  # the sharpening ping goes out within the 2 s spread
    assert len(w.of_type("time.ping")) == pings_before + 1
    assert w.p.clock.offset_ms == pytest.approx(3_000.0, abs=1e-6)
    replanned = w.p.fire_deadline
    assert replanned is not None and planned is not None
    assert replanned - planned == pytest.approx(0.090, abs=1e-6)
    assert w.p.next_timer() == (replanned, "fire")
    assert w.p.fire(Now(0.0, planned)) is None  # the old plan is gone: never early
    w.run(w.t + 5.0)
    assert w.fired == [pytest.approx(fire_at, abs=1e-3)]
    assert w.server_ms(replanned) == pytest.approx(fire_at, abs=1e-3)  # by the true clock


def test_a_late_launch_frame_replans_the_fire_and_it_fires_once() -> None:
    """Catches: a fire kept at the first fire_at after a launch frame moved
    it; a second fire for the same launch (the ``fired`` push, a reconnect's
    welcome still showing it); a report sent twice, or at the moment (it
    must wait its random spread)."""
    w = Wire()
    w.connect()
    w.run(1.0)
    first_at = w.server_ms() + 3_000.0
    w.receive(countdown(first_at))
    assert w.p.next_timer() == (pytest.approx(4.0, abs=1e-3), "fire")
    w.run(2.0)
    # The countdown was aborted and pressed again; its frame reaches us late.
    second_at = first_at + 2_000.0
    w.receive(countdown(second_at))
    assert w.p.next_timer() == (pytest.approx(6.0, abs=1e-3), "fire")
    w.run(5.0)
    assert w.fired == []  # nothing at the first moment
    w.run(6.0)
    assert w.fired == [pytest.approx(second_at, abs=1e-3)]
    assert not w.of_type("launch.fired")  # the report waits its spread
    w.receive({"type": "launch", "launch": {"state": "fired", "fire_at_ms": second_at}})
    w.drop()
    w.connect({"state": "countdown", "fire_at_ms": second_at})
    w.run(20.0)
    assert len(w.fired) == 1
    reports = w.of_type("launch.fired")
    assert len(reports) == 1 and reports[0]["fired_ms"] == w.fired[0]


def test_a_countdown_frame_arriving_after_its_moment_fires_at_once_once() -> None:
    """Catches a late frame planned for a moment already past and never
    fired (the timer must be due at once), or fired again by a repeat."""
    w = Wire()
    w.connect()
    w.run(1.0)
    fire_at = w.server_ms() - 200.0  # the frame spent 200 ms too long on the way
    w.receive(countdown(fire_at))
    timer = w.p.next_timer()
    assert timer is not None and timer[1] == "fire" and timer[0] <= w.t
    w.run(w.t)
    assert w.fired == [pytest.approx(w.server_ms(), abs=1e-3)]
    w.receive(countdown(fire_at))
    assert w.p.fire_deadline is None and w.p.fire(w.now()) is None
    assert len(w.fired) == 1


def test_an_abort_cancels_the_fire() -> None:
    """Catches a fire left planned after ``aborted``."""
    w = Wire()
    w.connect()
    fire_at = w.server_ms() + 1_000.0
    w.receive(countdown(fire_at))
    assert w.p.fire_deadline is not None
    w.receive({"type": "launch", "launch": {"state": "aborted", "fire_at_ms": fire_at}})
    assert w.p.fire_deadline is None and all(k != "fire" for _, k in w.p.timers())
    w.run(5.0)
    assert w.fired == []


def test_rate_limited_holds_the_outbox_until_retry_after_ms() -> None:
    """Catches a refused message resent at once (the server said when), or
    never; pings are not held."""
    w = Wire()
    w.connect()
    mid, _ = w.p.checkin(3, w.now())
    w.take()
    refused_at = w.t
    w.receive({"type": "error", "id": mid, "code": "rate_limited", "retry_after_ms": 500})
    w.p.checkin(4, w.now())
    assert w.take() == []  # held, new messages too
    w.run(refused_at + 0.49)
    assert [f["id"] for f in w.of_type("checkin")] == [mid] and w.of_type("time.ping")
    w.run(refused_at + 0.56)  # 500 ms plus up to 10 % jitter
    assert [f["attendees"] for f in w.of_type("checkin")] == [3, 3, 4]
    assert w.of_type("checkin")[1]["id"] == mid
