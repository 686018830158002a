"""``launchday demo``: a demo event on the embedded store.

Three registries (:data:`DEMOS`):

* ``today`` (the default, ``make run``): Thanh Hóa as it is today, the
  provincial hall, 14 departments, the 166 communes and wards of the official
  list and about 1,000 points below them, grouped by commune;
* ``reference-2025`` (``--reference-2025``): the three-tier registry of the
  8 May 2025 morning (27 districts, 1,018 points), grouped by district;
* ``national`` (``--national``): the whole country in one event (about
  35,000 points), grouped by province.

Creates (once) the event with its points and seed agenda, then prints where to
look. Running it again reuses the same event.

With ``--simulate`` (server/demo/simulate.py) it also plays the morning against
that event: on an event where nothing has happened yet (the first run), or on
a fresh copy of the demo when an earlier simulation already used it. The
event's ``starts_at`` (08:00) and ``report_deadline`` (07:30) are then set to
the real instants the simulated clock reaches them, so the console's
countdowns and the automatic 07:30 report happen while one watches. Without
``--simulate`` the event starts at the next 08:00 in Vietnam (deadline 07:30).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from server.core import report_snapshots as rs
from server.core.agenda import decide_set_agenda
from server.core.events import decide_edit_event
from server.core.facts import EventCreated
from server.core.importing import decide_import
from server.demo import data as today
from server.demo import data_2025
from server.demo.simulate import CEREMONY_CLOCK, DEADLINE_CLOCK, SIM_KEY, Simulation, real_instant
from server.io.clock import now_ms
from server.io.effects import agenda_view, launch_view
from server.io.http.auth import STORE_KEY
from server.io.store import new_token

TZ = "Asia/Ho_Chi_Minh"
#: A simulation plays at most this many points (one client each, in this
#: process); the national demo's other points stay offline.
SIM_MAX_POINTS = 2000


@dataclass(frozen=True, slots=True)
class Demo:
    name: str  # the event's name; also how a rerun finds the event again
    rows: Callable[[int], list[dict[str, object]]]  # seed -> the registry
    agenda: list[dict[str, object]]
    group_level: str  # the event's group_level: totals, reports and the link sheet by this level


DEMOS: dict[str, Demo] = {
    "today": Demo('Lễ phát động phong trào "Bình dân học vụ số" tỉnh Thanh Hóa (demo, 166 xã, phường)',
                  today.thanh_hoa_2026, today.SEED_AGENDA_2026, group_level="commune"),
    # The name the demo had before: an older data directory finds its event again.
    "reference-2025": Demo('Lễ phát động phong trào "Bình dân học vụ số" tỉnh Thanh Hóa (demo)',
                           data_2025.generate_points, data_2025.SEED_AGENDA, group_level="district"),
    "national": Demo('Lễ phát động phong trào "Bình dân học vụ số" toàn quốc (demo, 34 tỉnh, thành phố)',
                     today.national, today.national_agenda(), group_level="province"),
}
DEMO_NAME = DEMOS["today"].name


def _next_morning() -> tuple[str, str]:
    """Today's 08:00 in Vietnam if it is still ahead, else tomorrow's; the deadline 07:30."""
    tz = ZoneInfo(TZ)
    now = datetime.now(tz)
    start = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if start <= now:
        start += timedelta(days=1)
    return start.isoformat(), (start - timedelta(minutes=30)).isoformat()


def simulated_times(origin: float, speed: float) -> tuple[str, str]:
    """``starts_at`` and ``report_deadline``: the real instants at which a
    simulation whose clock reads 06:25 at ``origin`` (epoch seconds) reaches
    08:00 and 07:30, in Vietnam's time."""
    tz = ZoneInfo(TZ)
    return tuple(datetime.fromtimestamp(real_instant(origin, speed, clock), tz).isoformat(timespec="milliseconds")
                 for clock in (CEREMONY_CLOCK, DEADLINE_CLOCK))  # type: ignore[return-value]


async def setup_demo(app: web.Application, seed: int, host: str, port: int,
                     simulate: float | None = None, demo: str = "today") -> None:
    """``simulate``: the speed of a simulated morning, or None for a quiet demo;
    ``demo``: a key of :data:`DEMOS`."""
    spec = DEMOS[demo]
    store = app[STORE_KEY]
    demos = [r for r in store.events.values() if r.state.info.name == spec.name]
    if simulate is not None:
        demos = [r for r in demos if _untouched(r)]
    rt = demos[0] if demos else None
    origin = time.time()
    starts_at, deadline = _next_morning() if simulate is None else simulated_times(origin, simulate)
    if rt is None:
        body: dict[str, Any] = {"name": spec.name, "starts_at": starts_at, "report_deadline": deadline, "timezone": TZ}
        if "group_level" in EventCreated.model_fields:  # until group_level lands
            body["group_level"] = spec.group_level
        rt = await store.create_event(body, "demo")
        table = data_2025.to_csv_rows(spec.rows(seed))
        result = decide_import(rt.state, table, now_ms(), new_token, "demo")
        await rt.commit(result.facts)
        await rt.commit(decide_set_agenda(rt.state, {"items": spec.agenda}, now_ms(), "demo").facts)
    elif simulate is not None:  # an untouched event from an earlier run: its times follow this morning
        await rt.commit(decide_edit_event(rt.state, {"starts_at": starts_at, "report_deadline": deadline},
                                          now_ms(), "demo"))
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    points = list(rt.state.points.values())
    print("\nlaunchday demo —", rt.state.info.name)
    print(f"  event:        {rt.id} ({len(points)} points, grouped by {spec.group_level}), "
          f"starts {rt.state.info.starts_at}, report at {rt.state.info.report_deadline}")
    print(f"  console:      {base}/console/?event={rt.id}")
    print(f"  admin token:  {store.admin_token}")
    print(f"  hall screen:  {base}/hall?event={rt.id}")
    for p in points[:1] + [p for p in points if p.level in ("district", "commune", "village")][:3]:
        print(f"  point {p.code:<16} {base}/p/{p.token}   ({p.name})")
    print(flush=True)
    if simulate is not None:
        always = ("province", spec.group_level)
        played = _sample(points, always, seed)
        if len(played) < len(points):
            print(f"simulation: {len(played)} of the {len(points)} points play; the others stay offline", flush=True)
        listen = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        sim = Simulation(f"http://{listen}:{port}", store.admin_token, rt.id,
                         [{"code": p.code, "token": p.token, "level": p.level, "expected": p.expected}
                          for p in played],
                         agenda_view(rt)["items"], speed=simulate, seed=seed,
                         say=lambda line: print(line, flush=True), origin=origin, always_levels=always)
        app[SIM_KEY] = sim
        sim.start()


def _sample(points: list[Any], always: tuple[str, ...], seed: int) -> list[Any]:
    """At most SIM_MAX_POINTS of ``points``: the root and the halls of
    ``always`` levels first, then a seeded sample of the rest, in the registry's order."""
    if len(points) <= SIM_MAX_POINTS:
        return points
    halls = [p for i, p in enumerate(points) if i == 0 or p.level in always][:SIM_MAX_POINTS]
    rest = [p for p in points if p.level not in always]
    chosen = {p.code for p in halls} | {
        p.code for p in random.Random(seed).sample(rest, min(len(rest), SIM_MAX_POINTS - len(halls)))}
    return [p for p in points if p.code in chosen]


async def stop_demo(app: web.Application) -> None:
    """``on_shutdown``: the simulated points leave before the server waits for its sockets."""
    sim = app.get(SIM_KEY)
    if sim is not None:
        await sim.stop()


def _untouched(rt: Any) -> bool:
    """Nothing has happened on this event yet: no check-in, agenda and launch
    untouched, no automatic report taken."""
    return bool(rt.state.live.totals.to_dict(0.0, str)["checked_in"] == 0
                and agenda_view(rt)["state"] == "not_started" and launch_view(rt)["state"] == "idle"
                and not rs.has_automatic(rt.state))
