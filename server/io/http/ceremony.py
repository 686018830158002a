"""Ceremony control over REST, and its pushes (docs/protocol.md#agenda, #launch).

Agenda and launch changes are pushed at once (not coalesced) to every point,
hall display and console. The launch's synchrony does not depend on these
pushes arriving together: the ``countdown`` frame carries ``fire_at_ms`` and
each screen fires by its own clock estimate. The ``fired`` frame pushed at
the fire time is only for screens that missed the countdown.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from server.core import agenda as ag
from server.core import launch as ln
from server.core.errors import BadRequest
from server.io.http.auth import event_of, json_body, json_response, need
from server.io.runtime import DELTA_EXTRAS, START_HOOKS, VIEWS, EventRuntime, effect, now_ms
from server.io.ws import point as ws_point

routes = web.RouteTableDef()

VIEWS["agenda"] = lambda rt: ag.agenda_view(rt.state, now_ms())
VIEWS["launch"] = lambda rt: ln.launch_view(rt.state, now_ms())
DELTA_EXTRAS["launch_fired"] = lambda rt: ln.fired_stats(rt.state)
ws_point.DECIDERS["launch.fired"] = lambda s, code, fr, now: ln.decide_fired_report(
    s, code, fr.id, fr.fired_ms, fr.offset_ms, fr.rtt_ms, now)



# -- pushes ---------------------------------------------------------------------


def push_agenda(rt: EventRuntime) -> None:
    frame = {"type": "agenda", "agenda": VIEWS["agenda"](rt)}
    rt.room.broadcast_points(frame)
    rt.room.broadcast_consoles(frame)


def push_launch(rt: EventRuntime) -> None:
    frame = {"type": "launch", "launch": VIEWS["launch"](rt)}
    rt.room.broadcast_points(frame)
    rt.room.broadcast_consoles(frame)


@effect("agenda.set", "agenda.stepped")
def _agenda_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    push_agenda(rt)


@effect("launch.armed", "launch.key_pressed", "launch.aborted", "launch.reset")
def _launch_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    push_launch(rt)
    schedule_fired_push(rt)


@effect("launch.fired_reported")
def _fired_reported(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.touch()


# The ``fired`` push is for screens that missed the countdown. It goes out a
# little after the moment, not at it: a frame arriving at the fire instant
# makes every device (a weak phone, a process playing hundreds of devices)
# parse JSON exactly when it should be drawing the launch.
FIRED_PUSH_DELAY_S = 0.5


def schedule_fired_push(rt: EventRuntime) -> None:
    """Shortly after fire_at_ms, push the ``fired`` state (for late screens and consoles)."""
    old = rt.timers.pop("fired", None)
    if old is not None:
        old.cancel()
    current = ln.launch_of(rt.state).current
    if current is None or current.fire_at_ms is None or current.aborted_ms is not None:
        return
    delay = (current.fire_at_ms - now_ms()) / 1000.0
    if delay < 0:
        return
    rt.timers["fired"] = asyncio.get_running_loop().call_later(delay + FIRED_PUSH_DELAY_S, _fired_now, rt)


def _fired_now(rt: EventRuntime) -> None:
    rt.timers.pop("fired", None)
    push_launch(rt)
    rt.touch()


START_HOOKS.append(schedule_fired_push)


# -- REST -------------------------------------------------------------------------


@routes.get("/api/events/{eid}/agenda")
async def get_agenda(request: web.Request) -> web.Response:
    need(request, "viewer")
    return json_response(VIEWS["agenda"](event_of(request)))


@routes.put("/api/events/{eid}/agenda")
async def put_agenda(request: web.Request) -> web.Response:
    actor = need(request, "operator")
    rt = event_of(request)
    decision = ag.decide_set_agenda(rt.state, await json_body(request), now_ms(), actor)
    if decision.facts:
        await rt.commit(decision.facts)
    return json_response(VIEWS["agenda"](rt))


@routes.post("/api/events/{eid}/agenda/{action}")
async def agenda_action(request: web.Request) -> web.Response:
    actor = need(request, "operator")
    rt = event_of(request)
    decision = ag.decide_agenda_action(rt.state, request.match_info["action"], now_ms(), actor)
    await rt.commit(decision.facts)
    return json_response(VIEWS["agenda"](rt))


@routes.get("/api/events/{eid}/launch")
async def get_launch(request: web.Request) -> web.Response:
    need(request, "viewer")
    rt = event_of(request)
    return json_response({**VIEWS["launch"](rt), "fired_stats": ln.fired_stats(rt.state),
                              "fired_missing": ln.fired_missing(rt.state)})


LAUNCH_ACTIONS = {
    "arm": lambda rt, body, now, actor: ln.decide_arm(rt.state, body, now, actor),
    "press": lambda rt, body, now, actor: ln.decide_press(rt.state, body, now, actor),
    "abort": lambda rt, body, now, actor: ln.decide_abort(rt.state, now, actor),
    "reset": lambda rt, body, now, actor: ln.decide_reset(rt.state, now, actor),
}


@routes.post("/api/events/{eid}/launch/{action}")
async def launch_action(request: web.Request) -> web.Response:
    actor = need(request, "operator")
    rt = event_of(request)
    action = LAUNCH_ACTIONS.get(request.match_info["action"])
    if action is None:
        raise BadRequest(f"unknown launch action; one of {', '.join(LAUNCH_ACTIONS)}", code="unknown_action")
    body = await json_body(request) if request.can_read_body else {}
    decision = action(rt, body, now_ms(), actor)
    if decision.facts:
        await rt.commit(decision.facts)
    return json_response(VIEWS["launch"](rt))
