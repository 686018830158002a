"""``launchday demo --simulate``: a morning played against the demo, for real.

The site leads are the project's own point client (``checkin.PointClient``),
one per point, over real WebSockets to this server; the organizer acts over
REST with the admin token, as the console does. Nothing is written into the
state behind the server's back, so the console, the hall and the point pages
show exactly what a real morning would.

The plan (:func:`plan_morning`, seeded, no I/O): arrivals spread over the
06:30–07:45 window (most between 06:50 and 07:25), each point checking in a
few minutes after it connects, some updating their count later, a few
incidents opened and most of them resolved, and some points that never come.
Then the agenda runs, item by item, and at the launch item a *rehearsal* is
armed and two key holders press: the points fire on their own clocks and
report it. Simulated time runs ``speed`` times faster than real time (15 by
default: the 75-minute window in five minutes).

The simulated clock starts at :data:`CLOCK_START` (06:25, a few minutes
before the first arrival) at a real instant, the *origin*; simulated clock
time ``c`` is the real instant ``origin + (c - 06:25) / speed``
(:func:`real_instant`). ``launchday demo --simulate`` sets the event's
``starts_at`` (08:00) and ``report_deadline`` (07:30) to those real instants,
so the console's countdowns reach zero and the automatic 07:30 report is
taken when the simulated clock says so; the ceremony waits for 08:00.

Everything lives in this one process: the clients, their timers and the
organizer's session are stopped by :func:`stop` (the app's ``on_shutdown``,
so on Ctrl+C or SIGTERM they leave before the server waits for its sockets).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from checkin import PointClient
from checkin.transport import WebSocketConnector

log = structlog.get_logger("launchday.simulate")

CLOCK_START = "06:25"  # the simulated clock's first reading
WINDOW_START = "06:30"  # the plan's times count from here
LEAD_S = 5 * 60  # 06:25 -> 06:30
DEADLINE_CLOCK = "07:30"  # the event's report_deadline
CEREMONY_CLOCK = "08:00"  # the event's starts_at
WINDOW_S = 75 * 60  # 06:30 -> 07:45
PEAK_S = 40 * 60  # the busiest moment, 07:10
DEFAULT_SPEED = 15.0  # the window in five minutes
NEVER_COME = 0.025  # share of points that never connect
NO_CHECKIN = 0.01  # connect but never check in
INCIDENTS = 8
INCIDENTS_LEFT_OPEN = 2
PROGRESS_EVERY_S = 15 * 60
KEYS = ("Chủ tịch UBND tỉnh", "Bí thư Tỉnh ủy")
NOTES = {"audio": "Loa hội trường bị rè", "video": "Máy chiếu mất tín hiệu", "power": "Mất điện lưới, đang chạy máy phát",
         "network": "Đường truyền chập chờn", "other": "Thiếu ghế cho đại biểu"}


@dataclass(slots=True)
class Visit:
    """What one point does during the morning (times in simulated seconds from 06:30)."""

    code: str
    token: str
    connect_s: float
    checkin_s: float | None
    attendees: int
    updates: list[tuple[float, int]] = field(default_factory=list)
    incident: tuple[str, float, float | None] | None = None  # (kind, open_s, resolve_s or None)


def plan_morning(points: list[dict[str, Any]], seed: int,
                 always_levels: tuple[str, ...] = ("province", "district")) -> list[Visit]:
    """The morning of every point that comes. ``points``: code, token, level,
    expected. ``always_levels``: the halls that run the ceremony (the province
    and the event's group level), which always come."""
    rng = random.Random(seed)
    visits: list[Visit] = []
    for p in sorted(points, key=lambda p: p["code"]):  # the same plan whatever order the points come in
        always = p["level"] in always_levels
        if not always and rng.random() < NEVER_COME:
            continue
        early = always and rng.random() < 0.8
        connect = rng.uniform(0, 20 * 60) if early else rng.triangular(0, WINDOW_S - 5 * 60, PEAK_S)
        checkin = None if (not always and rng.random() < NO_CHECKIN) else connect + rng.uniform(30, 6 * 60)
        expected = int(p["expected"]) or 20
        first = max(1, round(expected * rng.uniform(0.6, 0.95)))
        visit = Visit(p["code"], p["token"], connect, checkin, first)
        if checkin is not None and rng.random() < 0.5:
            final = max(first, round(expected * rng.uniform(0.9, 1.08)))
            visit.updates.append((checkin + rng.uniform(5 * 60, 25 * 60), final))
        visits.append(visit)
    for visit in rng.sample([v for v in visits if v.checkin_s is not None], min(INCIDENTS, len(visits))):
        kind = rng.choice(list(NOTES))
        opened = visit.connect_s + rng.uniform(60, 10 * 60)
        visit.incident = (kind, opened, opened + rng.uniform(4 * 60, 20 * 60))
    for visit in [v for v in visits if v.incident][:INCIDENTS_LEFT_OPEN]:
        assert visit.incident is not None
        visit.incident = (visit.incident[0], visit.incident[1], None)
    return visits


def clock_text(sim_s: float) -> str:
    """The clock reading at plan time ``sim_s`` (seconds from 06:30)."""
    minutes = 6 * 60 + 30 + int(sim_s // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def clock_s(clock: str) -> float:
    """Simulated seconds from :data:`CLOCK_START` to ``clock`` ("07:30" -> 3900)."""
    return float(_minutes(clock) - _minutes(CLOCK_START)) * 60.0


def real_instant(origin: float, speed: float, clock: str) -> float:
    """The real instant (epoch seconds) at which the simulated clock reads ``clock``."""
    return origin + clock_s(clock) / speed


def plan_s(clock: str) -> float:
    """Plan time (seconds from 06:30) of a clock reading."""
    return clock_s(clock) - LEAD_S


class Simulation:
    """Plays :func:`plan_morning` and the ceremony against ``base``."""

    def __init__(self, base: str, admin_token: str, eid: str, points: list[dict[str, Any]], agenda: list[Any],
                 *, speed: float = DEFAULT_SPEED, seed: int = 1, say: Callable[[str], None] = print,
                 origin: float | None = None, always_levels: tuple[str, ...] = ("province", "district")) -> None:
        """``origin``: the real instant (epoch seconds) the simulated clock reads
        06:25; None: when the simulation starts."""
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.base = base
        self.eid = eid
        self.speed = speed
        self.agenda = agenda
        self.origin = origin
        self.visits = plan_morning(points, seed, always_levels)
        self.total = len(points)
        self.rng = random.Random(seed + 1)
        self.say = say
        self.headers = {"Authorization": f"Bearer {admin_token}"}
        self.clients: dict[str, PointClient] = {}
        self.incidents: dict[str, asyncio.Future[dict[str, Any]]] = {}  # point code -> its opening's ack
        self._t0 = 0.0
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._main(), name="demo-simulation")

    async def stop(self) -> None:
        """Cancel the plan and close every simulated point (bounded: never hangs a shutdown)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for task in list(self._background):
            task.cancel()
        clients = list(self.clients.values())
        self.clients.clear()
        if clients:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def _main(self) -> None:
        try:
            self._session = aiohttp.ClientSession(self.base, headers=self.headers)
            await self._wait_ready()
            await self._morning()
            await self._ceremony()
            self.say("simulation: the morning is over; the points stay online. Ctrl+C stops the demo.")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the demo goes on serving; say what broke
            log.exception("simulation_failed")
            self.say(f"simulation: stopped early ({type(exc).__name__}: {exc})")

    async def _wait_ready(self) -> None:
        assert self._session is not None
        async with asyncio.timeout(30):
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    async with self._session.get("/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.1)

    # -- the morning --------------------------------------------------------------

    async def _at(self, sim_s: float) -> None:
        """Until plan time ``sim_s`` (seconds from 06:30)."""
        delay = self._t0 + (LEAD_S + sim_s) / self.speed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def _actions(self) -> list[tuple[float, int, Callable[[], None]]]:
        out: list[tuple[float, int, Callable[[], None]]] = []

        def add(at: float, fn: Callable[[], None]) -> None:
            out.append((at, len(out), fn))

        for v in self.visits:
            add(v.connect_s, lambda v=v: self._connect(v))  # type: ignore[misc]
            if v.checkin_s is not None:
                add(v.checkin_s, lambda v=v: self._send(v.code, "checkin", v.attendees))  # type: ignore[misc]
            for at, count in v.updates:
                add(at, lambda v=v, count=count: self._send(v.code, "set_attendees", count))  # type: ignore[misc]
            if v.incident is not None:
                kind, opened, resolved = v.incident
                add(opened, lambda v=v, kind=kind: self._open_incident(v.code, kind))  # type: ignore[misc]
                if resolved is not None:
                    add(resolved, lambda v=v: self._resolve_incident(v.code))  # type: ignore[misc]
        for at in range(PROGRESS_EVERY_S, WINDOW_S + 1, PROGRESS_EVERY_S):
            add(float(at), lambda at=at: self._spawn(self._progress(at)))  # type: ignore[misc]
        # A moment after the deadline, say whether the automatic report was taken.
        add(plan_s(DEADLINE_CLOCK) + 30, lambda: self._spawn(self._deadline_report()))
        out.sort(key=lambda a: (a[0], a[1]))
        return out

    async def _morning(self) -> None:
        origin = time.time() if self.origin is None else self.origin
        self._t0 = time.monotonic() - (time.time() - origin)  # the monotonic reading of 06:25
        self.say(f"simulation: the clock starts at {CLOCK_START}; points arrive {WINDOW_START}–07:45 at ×{self.speed:g} "
                 f"(about {(LEAD_S + WINDOW_S) / self.speed / 60:.1f} min): {len(self.visits)} of {self.total} "
                 f"points will come; the {DEADLINE_CLOCK} report in {clock_s(DEADLINE_CLOCK) / self.speed:.0f} s, "
                 f"the ceremony at {CEREMONY_CLOCK} in {clock_s(CEREMONY_CLOCK) / self.speed:.0f} s")
        for at, _, act in self._actions():
            await self._at(at)
            act()
        await self._at(WINDOW_S)

    def _connect(self, v: Visit) -> None:
        # A short close handshake: on Ctrl+C the server is shutting down too
        # and may not answer a close frame; a thousand clients must not each
        # wait the default 5 s for it.
        client = PointClient(self.base, v.token, rng=random.Random(self.rng.random()),
                             connector=WebSocketConnector(close_timeout=0.5),
                             clock_offset_ms=self.rng.uniform(-3000, 3000))
        self.clients[v.code] = client
        self._spawn(client.start())

    def _send(self, code: str, method: str, count: int) -> None:
        client = self.clients.get(code)
        if client is not None:
            getattr(client, method)(count).add_done_callback(_quiet)

    def _open_incident(self, code: str, kind: str) -> None:
        client = self.clients.get(code)
        if client is not None:
            opened = client.open_incident(kind, NOTES[kind])
            opened.add_done_callback(_quiet)
            self.incidents[code] = opened

    def _resolve_incident(self, code: str) -> None:
        """Once the opening is acknowledged (at high speed it may not be yet)."""
        client, opened = self.clients.get(code), self.incidents.pop(code, None)
        if client is None or opened is None:
            return

        def resolve(fut: asyncio.Future[dict[str, Any]]) -> None:
            if not fut.cancelled() and fut.exception() is None:
                client.resolve_incident(fut.result()["incident"]).add_done_callback(_quiet)

        opened.add_done_callback(resolve)

    async def _deadline_report(self) -> None:
        """Whether the server took its automatic report (allowing it a few real seconds)."""
        auto: list[dict[str, Any]] = []
        deadline = time.monotonic() + 5.0
        while not auto and time.monotonic() < deadline:
            snaps = await self._get(f"/api/events/{self.eid}/report/snapshots")
            auto = [s for s in snaps if s.get("automatic")]
            if not auto:
                await asyncio.sleep(0.2)
        self.say(f"simulation: {DEADLINE_CLOCK} automatic report: "
                 + (f"taken ({auto[0]['label']})" if auto else "not taken"))

    async def _progress(self, sim_s: float) -> None:
        t = await self._get(f"/api/events/{self.eid}/totals")
        self.say(f"simulation: {clock_text(sim_s)}  checked in {t['checked_in']}/{t['points']} · "
                 f"online {t['online']} · attendees {t['attendees']:,} · incidents open {t['incidents_open']}")

    # -- the ceremony (the organizer, over REST) --------------------------------------

    async def _ceremony(self) -> None:
        await self._at(plan_s(CEREMONY_CLOCK))
        self.say(f"simulation: {CEREMONY_CLOCK} the ceremony starts (the organizer runs the agenda)")
        await self._post("agenda/start")
        for i, item in enumerate(self.agenda):
            if i:
                await self._post("agenda/next")
            title = str(item.get("title", ""))
            self.say(f"simulation:   agenda {i + 1}/{len(self.agenda)}: {title}")
            if "phát động" in title.lower() and "bấm nút" in title.lower():
                await self._rehearsal()
            await asyncio.sleep(max(0.5, min(15.0, float(item.get("planned_s", 60)) / self.speed)))
        await self._post("agenda/finish")

    async def _rehearsal(self) -> None:
        countdown_ms = round(1000 * max(3.0, min(10.0, 150.0 / self.speed)))
        await self._post("launch/arm", {"countdown_ms": countdown_ms, "keys_required": len(KEYS), "rehearsal": True})
        self.say(f"simulation:   rehearsal armed: {len(KEYS)} keys, countdown {countdown_ms // 1000} s")
        launch: dict[str, Any] = {}
        for key in KEYS:
            await asyncio.sleep(max(0.3, min(3.0, 30.0 / self.speed)))
            launch = await self._post("launch/press", {"key": key})
            self.say(f"simulation:   key pressed: {key}")
        fire_at_ms = launch["fire_at_ms"]
        # The points fire on their own clocks, then report within the client's spread.
        await asyncio.sleep(max(0.0, fire_at_ms / 1000.0 - time.time()) + 6.0)
        state = await self._get(f"/api/events/{self.eid}/launch")
        stats = state.get("fired_stats") or {}
        spread = stats.get("spread_ms")
        self.say(f"simulation:   rehearsal fired: {stats.get('count', 0)} points reported, spread "
                 f"{'—' if spread is None else f'{spread:.0f} ms'}")

    # -- REST ----------------------------------------------------------------------

    async def _get(self, path: str) -> Any:
        assert self._session is not None
        async with self._session.get(path) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def _post(self, action: str, body: dict[str, Any] | None = None) -> Any:
        assert self._session is not None
        async with self._session.post(f"/api/events/{self.eid}/{action}", json=body or {}) as resp:
            data = await resp.json()
            if resp.status >= 400:
                raise RuntimeError(f"{action}: {data.get('error', data)}")
            return data

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_quiet)


SIM_KEY = web.AppKey("simulation", Simulation)


def _quiet(fut: asyncio.Future[Any]) -> None:
    """A simulated message that fails (the demo is stopping) is not an error."""
    if not fut.cancelled():
        fut.exception()
