"""Ceremony control over REST, and its pushes (docs/protocol.md#agenda, #launch).

Agenda and launch changes are pushed at once (not coalesced) to every point,
hall display and console. The launch's synchrony does not depend on these
pushes arriving together: the ``countdown`` frame carries ``fire_at_ms`` and
each screen fires by its own clock estimate. The ``fired`` frame pushed at
the fire time is only for screens that missed the countdown.
"""

from __future__ import annotations

from aiohttp import web

from server.core import agenda as ag
from server.core import launch as ln
from server.core.errors import BadRequest
from server.io.clock import now_ms
from server.io.effects import agenda_view, launch_view
from server.io.http.auth import (
    actor_of,
    event_of,
    json_body,
    json_object,
    json_response,
    visible_of,
)

# -- REST -------------------------------------------------------------------------


async def get_agenda(request: web.Request) -> web.Response:
    return json_response(agenda_view(event_of(request)))


async def put_agenda(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    decision = ag.decide_set_agenda(rt.state, await json_body(request), now_ms(), actor)
    if decision.facts:
        await rt.commit(decision.facts)
    return json_response(agenda_view(rt))


async def agenda_action(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    await json_object(request, ())  # the action is in the path: a body with fields is refused
    decision = ag.decide_agenda_action(rt.state, request.match_info["action"], now_ms(), actor)
    await rt.commit(decision.facts)
    return json_response(agenda_view(rt))


async def get_launch(request: web.Request) -> web.Response:
    rt, visible = event_of(request), visible_of(request)  # a desk: its own points' figures
    return json_response({**launch_view(rt), "fired_stats": ln.fired_stats(rt.state, visible),
                          "fired_missing": ln.fired_missing(rt.state, visible)})


LAUNCH_ACTIONS = {
    "arm": lambda rt, body, now, actor: ln.decide_arm(rt.state, body, now, actor),
    "press": lambda rt, body, now, actor: ln.decide_press(rt.state, body, now, actor),
    "abort": lambda rt, body, now, actor: ln.decide_abort(rt.state, now, actor),
    "reset": lambda rt, body, now, actor: ln.decide_reset(rt.state, now, actor),
}


# The fields each action's body may name (the core checks arm and press again).
LAUNCH_BODIES: dict[str, tuple[str, ...]] = {"arm": ln.ARM_FIELDS, "press": ln.PRESS_FIELDS, "abort": (), "reset": ()}


async def launch_action(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    action = LAUNCH_ACTIONS.get(request.match_info["action"])
    if action is None:
        raise BadRequest(f"unknown launch action; one of {', '.join(LAUNCH_ACTIONS)}", code="unknown_action")
    body = await json_object(request, LAUNCH_BODIES[request.match_info["action"]])
    decision = action(rt, body, now_ms(), actor)
    if decision.facts:
        await rt.commit(decision.facts)
    return json_response(launch_view(rt))
