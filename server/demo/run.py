"""``launchday demo``: the Thanh Hóa morning on the embedded store.

Creates (once) an event with the generated ~1,000 points and the seed agenda,
then prints where to look. Running it again reuses the same event.

With ``--simulate`` (server/demo/simulate.py) it also plays the morning against
that event: on an event where nothing has happened yet (the first run), or on
a fresh copy of the demo when an earlier simulation already used it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from server.core.agenda import decide_set_agenda
from server.core.importing import decide_import
from server.demo import data as demo_data
from server.io.clock import now_ms
from server.io.effects import agenda_view, launch_view
from server.io.http.auth import STORE_KEY
from server.io.store import new_token

DEMO_NAME = 'Lễ phát động phong trào "Bình dân học vụ số" tỉnh Thanh Hóa (demo)'
TZ = "Asia/Ho_Chi_Minh"


def _next_morning() -> tuple[str, str]:
    """Today's 08:00 in Vietnam if it is still ahead, else tomorrow's."""
    tz = ZoneInfo(TZ)
    now = datetime.now(tz)
    start = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if start <= now:
        start += timedelta(days=1)
    return start.isoformat(), (start - timedelta(minutes=30)).isoformat()


async def setup_demo(app: web.Application, seed: int, host: str, port: int,
                     simulate: float | None = None) -> None:
    """``simulate``: the speed of a simulated morning, or None for a quiet demo."""
    store = app[STORE_KEY]
    demos = [r for r in store.events.values() if r.state.info.name == DEMO_NAME]
    if simulate is not None:
        demos = [r for r in demos if _untouched(r)]
    rt = demos[0] if demos else None
    if rt is None:
        starts_at, deadline = _next_morning()
        rt = await store.create_event(
            {"name": DEMO_NAME, "starts_at": starts_at, "report_deadline": deadline, "timezone": TZ}, "demo")
        table = demo_data.to_csv_rows(demo_data.generate_points(seed))
        result = decide_import(rt.state, table, now_ms(), new_token, "demo")
        await rt.commit(result.facts)
        await _seed_agenda(rt)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    points = list(rt.state.points.values())
    print("\nlaunchday demo —", rt.state.info.name)
    print(f"  event:        {rt.id} ({len(points)} points), starts {rt.state.info.starts_at}")
    print(f"  console:      {base}/console/?event={rt.id}")
    print(f"  admin token:  {store.admin_token}")
    print(f"  hall screen:  {base}/hall?event={rt.id}")
    for p in points[:1] + [p for p in points if p.level in ("district", "commune", "village")][:3]:
        print(f"  point {p.code:<16} {base}/p/{p.token}   ({p.name})")
    print(flush=True)
    if simulate is not None:
        from server.demo.simulate import SIM_KEY, Simulation

        listen = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        sim = Simulation(f"http://{listen}:{port}", store.admin_token, rt.id,
                         [{"code": p.code, "token": p.token, "level": p.level, "expected": p.expected}
                          for p in points],
                         agenda_view(rt)["items"], speed=simulate, seed=seed,
                         say=lambda line: print(line, flush=True))
        app[SIM_KEY] = sim
        sim.start()


async def stop_demo(app: web.Application) -> None:
    """``on_shutdown``: the simulated points leave before the server waits for its sockets."""
    from server.demo.simulate import SIM_KEY

    sim = app.get(SIM_KEY)
    if sim is not None:
        await sim.stop()


def _untouched(rt: Any) -> bool:
    """Nothing has happened on this event yet: no check-in, agenda and launch untouched."""
    return bool(rt.state.live.totals.to_dict(0.0, str)["checked_in"] == 0
            and agenda_view(rt)["state"] == "not_started" and launch_view(rt)["state"] == "idle")


async def _seed_agenda(rt: Any) -> None:
    decision = decide_set_agenda(rt.state, {"items": demo_data.SEED_AGENDA}, now_ms(), "demo")
    await rt.commit(decision.facts)
