"""Locust: the launch morning as the points and the organizers see it.

    make loadtest HOST=http://127.0.0.1:8080 USERS=1000 SHAPE=launch RUN_TIME=60s   # → loadtest/out/
    .venv/bin/locust -f loadtest/locustfile.py --headless --host URL -u 1000 -t 60s \\
        --csv loadtest/out/locust --html loadtest/out/locust.html

Each ``PointUser`` is one connection point over ``/ws/point?token=…``
(websockets' sync client; Locust's gevent monkeypatching makes its socket
and its reader thread cooperative): it connects, syncs its clock (5
``time.ping``, one at a time, keeps the lowest round trip, sends
``time.sync``), checks in, updates its count now and then, rarely opens and
later resolves an incident, and when a ``countdown`` arrives fires at
``fire_at_ms`` by its own offset estimate and reports ``launch.fired``.
A dropped connection comes back after ``uniform(0, 10 s)`` (the protocol's
storm window). One ``OrganizerUser`` polls the totals and ``report.json``
and, in the ``launch`` shape, arms and presses the launch.

Environment:

- ``LAUNCHDAY_ADMIN_TOKEN`` (required), ``LAUNCHDAY_EVENT`` (default: the
  most recently created event), ``LAUNCHDAY_TOKENS`` (a file of point tokens,
  one a line; default: fetched from ``GET /api/events/{eid}/points``).
- ``LAUNCHDAY_SHAPE``: ``morning`` (points arriving as on a 06:30–07:45
  morning, compressed into ``LAUNCHDAY_MORNING_S``, default 120 s), ``storm``
  (all connected, then every point drops at once and returns over
  ``LAUNCHDAY_STORM_RETURN_S``, default 10 s), ``launch`` (the default: all
  connect over ``LAUNCHDAY_RAMP_S``, default 10 s, then a launch with a
  ``LAUNCHDAY_COUNTDOWN_MS``, default 5000, countdown), ``steady`` (all
  connect, then hold: ``make soak-locust``). The shape tells the organizer when to
  press in the same process only; with ``--processes``, set
  ``LAUNCHDAY_LAUNCH_AT_S`` (seconds after the organizer starts) instead.
  ``-u`` is the number of points (plus one organizer); ``-t`` ends the run.
- ``LAUNCHDAY_REHEARSAL=0`` makes the launch real (it fires once per event;
  the default rehearsal is reset afterwards, so runs can repeat).

Custom statistics in Locust's own report: request type ``launch`` with
``frame_lag`` (the ``countdown`` frame's arrival on the server's clock, as the
point estimates it, − the server's time of the press) and ``fire_skew``
(|the moment the point fired, on its estimate of the server's clock −
``fire_at_ms``|: how precisely a gevent process can hold the instant; the
error of the estimate itself is measured by ``loadtest/bench.py``, where the
true clocks are known). Each frame that waits for an answer is a ``WS``
request (``checkin``, ``attendees``, ``incident``, ``incident.resolve``,
``launch.fired``, ``time.ping``), and ``connect`` is the handshake to the
``welcome``.
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import random
import time
import urllib.parse
import urllib.request
from typing import Any, ClassVar

import gevent
from gevent.event import AsyncResult
from gevent.lock import Semaphore
from locust import HttpUser, LoadTestShape, User, between, events, task
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from checkin.client import backoff_delay

ADMIN = os.environ.get("LAUNCHDAY_ADMIN_TOKEN", "")
SHAPE = os.environ.get("LAUNCHDAY_SHAPE", "launch")
STATE: dict[str, Any] = {"event": os.environ.get("LAUNCHDAY_EVENT"), "tokens": None, "connected": 0,
                         "launch_due": False}
_ids = itertools.count(1)


def report(kind: str, name: str, started: float | None = None, ms: float | None = None,
           exc: BaseException | None = None) -> None:
    """One entry in Locust's statistics."""
    if ms is None:
        ms = (time.perf_counter() - (started or 0.0)) * 1000.0
    events.request.fire(request_type=kind, name=name, response_time=ms, response_length=0, exception=exc, context={})


def api(host: str, path: str) -> Any:
    req = urllib.request.Request(host.rstrip("/") + path, headers={"Authorization": f"Bearer {ADMIN}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


_fetching = Semaphore()


def tokens(host: str) -> collections.deque[str]:
    """The pool of point tokens: users take one and give it back when they stop."""
    with _fetching:  # the first users start together: one fetch, one pool
        if STATE["tokens"] is None:
            STATE["tokens"] = _load_tokens(host)
    pool: collections.deque[str] = STATE["tokens"]
    return pool


def _load_tokens(host: str) -> collections.deque[str]:
    if not STATE["event"]:  # the organizer needs it even when the tokens come from a file
        evs = api(host, "/api/events")
        evs = evs.get("events", evs) if isinstance(evs, dict) else evs
        STATE["event"] = max(evs, key=lambda e: e.get("created_ms") or 0)["id"]
    path = os.environ.get("LAUNCHDAY_TOKENS")
    if path:
        with open(path) as fh:
            found = [ln.strip() for ln in fh if ln.strip()]
    else:
        found = [p["token"] for p in api(host, f"/api/events/{STATE['event']}/points") if p.get("token")]
    random.Random(1).shuffle(found)
    return collections.deque(found)


class FireTimer:
    """One precise timer per process and fire time (as ``checkin/fire.py``): it
    stamps every due point in a tight loop, then runs their callbacks, so that
    a thousand greenlets waking one after another do not become fire skew."""

    timers: ClassVar[dict[float, FireTimer]] = {}

    def __init__(self, fire_at_ms: float) -> None:
        self.due: list[tuple[float, Any]] = []
        self.fire_at_ms = fire_at_ms
        gevent.spawn(self._run)

    @classmethod
    def add(cls, fire_at_ms: float, local_target_ms: float, callback: Any) -> None:
        timer = cls.timers.get(fire_at_ms) or cls.timers.setdefault(fire_at_ms, cls(fire_at_ms))
        timer.due.append((local_target_ms, callback))

    def _run(self) -> None:
        gevent.sleep(max(0.0, (self.fire_at_ms - time.time() * 1000) / 1000 - 0.5))
        self.due.sort(key=lambda d: d[0])
        gevent.sleep(max(0.0, (self.due[0][0] - time.time() * 1000) / 1000 - 0.03) if self.due else 0.0)
        fired: list[tuple[float, Any]] = []
        for target, callback in self.due:  # spin through the last stretch, stamping each as it comes due
            now = time.time() * 1000
            while now < target:
                now = time.time() * 1000
            fired.append((now, callback))
        del self.timers[self.fire_at_ms]
        for at, callback in fired:
            callback(at)


class PointUser(User):
    """A connection point's device."""

    wait_time = between(15, 45)  # a site lead touches the count every half minute or so

    def on_start(self) -> None:
        self.token = tokens(self.host).popleft()
        self.ws: Any = None
        self.pending: dict[str, AsyncResult] = {}
        self.pong: AsyncResult | None = None
        self.offset_ms, self.rtt_ms = 0.0, 0.0
        self.incident: str | None = None
        self.fired_for: set[float] = set()
        self.attempt = 0
        self.connect()

    def on_stop(self) -> None:
        if self.ws is not None:
            ws, self.ws = self.ws, None
            STATE["connected"] -= 1
            ws.close()
        tokens(self.host).append(self.token)

    # -- connection --------------------------------------------------------------

    def connect(self) -> None:
        url = self.host.replace("http", "ws", 1).rstrip("/") + "/ws/point?token=" + urllib.parse.quote(self.token)
        t0 = time.perf_counter()
        try:
            ws = ws_connect(url, compression=None, open_timeout=30, max_size=1 << 20, ping_interval=None)
            welcome = json.loads(ws.recv(timeout=30))
        except Exception as exc:
            report("WS", "connect", t0, exc=exc)
            self.backoff(False)
            return
        report("WS", "connect", t0)
        self.ws, self.attempt = ws, 0
        STATE["connected"] += 1
        gevent.spawn(self.reader, ws)
        self.sync_clock()
        if not welcome.get("status", {}).get("checked_in"):
            self.ask("checkin", attendees=random.randint(5, 150))
        self.on_launch(welcome.get("launch") or {}, time.time() * 1000)

    def backoff(self, was_up: bool) -> None:
        delay = backoff_delay(self.attempt, 0.5, 30.0, random.Random(), 10.0 if was_up else 0.0)
        self.attempt += 1
        gevent.sleep(delay)

    def reader(self, ws: Any) -> None:
        try:
            for raw in ws:
                recv_ms = time.time() * 1000  # before parsing: the arrival
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "time.pong" and self.pong is not None:
                    self.pong.set((msg, recv_ms))
                elif kind in ("ack", "error") and msg.get("id") in self.pending:
                    self.pending.pop(msg["id"]).set(msg)
                elif kind == "launch":
                    self.on_launch(msg.get("launch") or {}, recv_ms)
        except ConnectionClosed:
            pass
        if self.ws is ws:  # dropped (a server restart, a 1013): the next task reconnects
            self.ws = None
            STATE["connected"] -= 1
            report("WS", "dropped", ms=0.0)
        for waiter in self.pending.values():
            waiter.set({"type": "error", "code": "disconnected"})
        self.pending.clear()

    def send(self, obj: dict[str, Any]) -> None:
        self.ws.send(json.dumps(obj, separators=(",", ":")))

    def ask(self, msg_type: str, /, **fields: Any) -> dict[str, Any] | None:
        """A frame with an id, timed from send to its ack."""
        if self.ws is None:
            return None
        mid = f"lc{os.getpid()}-{next(_ids)}"
        waiter = self.pending[mid] = AsyncResult()
        t0 = time.perf_counter()
        try:
            self.send({"type": msg_type, "id": mid, **fields})
            answer = waiter.get(timeout=60)
        except Exception as exc:
            self.pending.pop(mid, None)
            report("WS", msg_type, t0, exc=exc)
            return None
        if answer.get("type") != "ack":
            report("WS", msg_type, t0, exc=RuntimeError(answer.get("code") or "error"))
            return None
        report("WS", msg_type, t0)
        return answer

    def sync_clock(self) -> None:
        """5 pings one at a time, a little apart; keep the lowest round trip (docs/protocol.md#clock-sync)."""
        best: tuple[float, float] | None = None
        for _ in range(5):
            gevent.sleep(random.uniform(0.02, 0.08))
            if self.ws is None:
                return
            self.pong = AsyncResult()
            t0 = time.time() * 1000
            try:
                self.send({"type": "time.ping", "t0": t0})
                pong, t3 = self.pong.get(timeout=5)
            except Exception as exc:
                report("WS", "time.ping", ms=0.0, exc=exc)
                continue
            rtt = (t3 - t0) - (pong["t2"] - pong["t1"])
            offset = ((pong["t1"] - t0) + (pong["t2"] - t3)) / 2
            report("WS", "time.ping", ms=max(0.0, rtt))
            if best is None or rtt < best[1]:
                best = (offset, max(0.0, rtt))
        if best is not None and self.ws is not None:
            self.offset_ms, self.rtt_ms = best
            self.send({"type": "time.sync", "offset_ms": self.offset_ms, "rtt_ms": self.rtt_ms})

    # -- the launch --------------------------------------------------------------

    def on_launch(self, launch: dict[str, Any], recv_ms: float) -> None:
        fire_at = launch.get("fire_at_ms")
        if launch.get("state") != "countdown" or not isinstance(fire_at, int | float) or fire_at in self.fired_for:
            return
        self.fired_for.add(fire_at)
        pressed = launch.get("pressed") or []
        if pressed:
            report("launch", "frame_lag", ms=max(0.0, recv_ms + self.offset_ms - pressed[-1]["at_ms"]))
        FireTimer.add(fire_at, fire_at - self.offset_ms, lambda at: self.fired(fire_at, at))

    def fired(self, fire_at: float, local_ms: float) -> None:
        fired_ms = local_ms + self.offset_ms  # the moment, on this point's estimate of the server clock
        report("launch", "fire_skew", ms=abs(fired_ms - fire_at))
        # The report is not urgent (fired_ms is taken): spread them as the client does.
        gevent.spawn_later(random.uniform(0.05, 0.25), self.ask, "launch.fired", fired_ms=fired_ms,
                           offset_ms=self.offset_ms, rtt_ms=self.rtt_ms)

    # -- what a site lead does ---------------------------------------------------

    @task(10)
    def update_count(self) -> None:
        if self.ws is None:
            self.backoff(True)
            self.connect()
            return
        self.ask("attendees", count=random.randint(5, 150))

    @task(1)
    def incident(self) -> None:
        if self.ws is None:
            return
        if self.incident is not None:
            if self.ask("incident.resolve", incident=self.incident) is not None:
                self.incident = None
        elif random.random() < 0.3:
            ack = self.ask("incident", kind=random.choice(["audio", "video", "power", "network", "other"]),
                           note="load test")
            if ack is not None:
                self.incident = ack.get("incident")


class OrganizerUser(HttpUser):
    """An organizer at the console: totals, the report, and (shape ``launch``) the launch keys."""

    fixed_count = int(os.environ.get("LAUNCHDAY_ORGANIZERS", "1"))
    wait_time = between(2, 5)

    def on_start(self) -> None:
        tokens(self.host)  # resolves the event id
        self.client.headers["Authorization"] = f"Bearer {ADMIN}"
        self.eid = STATE["event"]
        self.launched = False
        self.started = time.monotonic()
        soak = os.environ.get("LAUNCHDAY_SOAK_CSV")
        if soak and not STATE.get("sampler"):
            STATE["sampler"] = gevent.spawn(sample_server, self.host, soak)

    @task(5)
    def totals(self) -> None:
        self.client.get(f"/api/events/{self.eid}/totals", name="/api/events/[eid]/totals")
        at = float(os.environ.get("LAUNCHDAY_LAUNCH_AT_S") or "inf")  # own clock: for --processes runs
        if (STATE["launch_due"] or time.monotonic() - self.started >= at) and not self.launched:
            self.launch()

    @task(1)
    def report_json(self) -> None:
        self.client.get(f"/api/events/{self.eid}/report.json", name="/api/events/[eid]/report.json")

    def launch(self) -> None:
        self.launched = True
        base = f"/api/events/{self.eid}/launch"
        rehearsal = os.environ.get("LAUNCHDAY_REHEARSAL", "1") != "0"
        state = self.client.get(base, name=base.replace(self.eid, "[eid]")).json().get("state")
        if state in ("fired", "aborted") and rehearsal:
            self.client.post(base + "/reset", name="/api/events/[eid]/launch/reset")
        elif state in ("armed", "countdown"):
            self.client.post(base + "/abort", name="/api/events/[eid]/launch/abort")
            self.client.post(base + "/reset", name="/api/events/[eid]/launch/reset")
        countdown = int(os.environ.get("LAUNCHDAY_COUNTDOWN_MS", "5000"))
        self.client.post(base + "/arm", json={"countdown_ms": countdown, "keys_required": 1, "rehearsal": rehearsal},
                         name="/api/events/[eid]/launch/arm")
        r = self.client.post(base + "/press", json={"key": "Locust"}, name="/api/events/[eid]/launch/press")
        fire_at = r.json().get("fire_at_ms") if r.ok else None
        if fire_at and rehearsal:  # put the rehearsal back, so that the next run can launch again
            gevent.sleep(max(0.0, fire_at / 1000 - time.time()) + 3.0)
            self.client.post(base + "/reset", name="/api/events/[eid]/launch/reset")


SAMPLED = ("process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
           'launchday_connections{kind="point"}', 'launchday_frames_in_total{kind="point"}')


def sample_server(host: str, path: str, every_s: float = 10.0) -> None:
    """A soak run's record of the server: RSS, CPU, open files, sockets, every ``every_s`` (from /metrics)."""
    with open(path, "w") as fh:
        fh.write("elapsed_s,rss_mb,cpu_s,open_fds,point_sockets,frames_in\n")
        t0 = time.time()
        while True:
            try:
                text = urllib.request.urlopen(host.rstrip("/") + "/metrics", timeout=30).read().decode()
            except OSError:
                gevent.sleep(every_s)
                continue
            got = dict(ln.rsplit(" ", 1) for ln in text.splitlines() if ln and not ln.startswith("#"))
            v = [float(got.get(k, "nan")) for k in SAMPLED]
            fh.write(f"{time.time() - t0:.0f},{v[0] / 1e6:.1f},{v[1]:.1f},{v[2]:.0f},{v[3]:.0f},{v[4]:.0f}\n")
            fh.flush()
            gevent.sleep(every_s)


# The arrival of the points on a launch morning, 06:30 → 07:45 (75 minutes):
# (minute, share of the points in by then). A modelled curve (slow start, most
# between 06:50 and 07:20, stragglers until the deadline), not a recording.
MORNING = [(0, 0.0), (10, 0.05), (20, 0.18), (30, 0.42), (40, 0.68), (50, 0.86), (60, 0.95), (75, 1.0)]


class LaunchdayShape(LoadTestShape):
    """The scenario of ``LAUNCHDAY_SHAPE``; ``-u`` points (plus the organizers), ``-t`` the end."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        opts = self.runner.environment.parsed_options if self.runner else None
        n = int(getattr(opts, "num_users", None) or 100)
        end = float(getattr(opts, "run_time", None) or 600)
        t = self.get_run_time()
        if t >= end:
            return None
        org = OrganizerUser.fixed_count
        ramp = float(os.environ.get("LAUNCHDAY_RAMP_S", "10"))
        if SHAPE == "morning":
            length = float(os.environ.get("LAUNCHDAY_MORNING_S", "120"))
            minute = min(75.0, 75.0 * t / length)
            for (m0, s0), (m1, s1) in itertools.pairwise(MORNING):
                if m0 <= minute <= m1:
                    share = s0 + (s1 - s0) * (minute - m0) / (m1 - m0)
                    rate = n * (s1 - s0) / ((m1 - m0) / 75.0 * length)
                    return round(n * share) + org, max(1.0, 2.0 * rate)
            return n + org, n
        if SHAPE == "storm":
            hold = float(os.environ.get("LAUNCHDAY_STORM_AT_S", str(ramp + 15)))
            back = float(os.environ.get("LAUNCHDAY_STORM_RETURN_S", "10"))
            if t < hold:
                return n + org, n / ramp
            if t < hold + 2:
                return org, 10.0 * n  # every point drops at once
            return n + org, n / back
        if SHAPE == "launch" and t >= ramp and not STATE["launch_due"]:
            # all in (or the ramp long past): the organizer presses
            STATE["launch_due"] = STATE["connected"] >= 0.98 * n or t >= 3 * ramp + 10
        return n + org, n / ramp
