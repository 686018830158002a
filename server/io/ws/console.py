"""/ws/console: organizers' live view (docs/protocol.md#ws-console).

A ``snapshot`` first, then coalesced ``delta`` frames (at most 5 a second,
built once per tick for every console) and ``agenda``/``launch`` frames at
once. Commands go over REST; frames from the console are only answered.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSMsgType, web

from server.core import points as pts
from server.core import scope
from server.core.errors import BadRequest
from server.core.events import event_view
from server.core.scope import Visible
from server.io.clock import now_ms
from server.io.http.auth import actor_of, identify, store_of, visible_of
from server.io.limits import HEARTBEAT_S, MAX_FRAME
from server.io.runtime import EventRuntime
from server.io.ws.hub import Conn


def snapshot(rt: EventRuntime, visible: Visible | None = None) -> dict[str, Any]:
    """The console's first frame: everything, or (``visible``) a desk's subtree only."""
    state = rt.state
    points = state.points.values() if visible is None else [state.points[c] for c in visible.codes()]
    frame: dict[str, Any] = {
        "type": "snapshot",
        "seq": state.seq,
        "event": event_view(state.info, state.live.group_level),
        "totals": rt.totals() if visible is None else scope.totals(state, visible, now_ms()),
        "points": [pts.point_view(state, p) for p in points],
        "incidents": [pts.incident_view(state, i) for i in state.incidents.values()
                      if visible is None or i.point in visible],
    }
    frame.update(rt.views())
    if visible is not None:
        frame["scope"] = {"point": visible.root, "name": state.district_name(visible.root)}
        frame["launch_fired"] = rt.wiring.delta_extras["launch_fired"](rt, visible)
    return frame


async def handle(request: web.Request) -> web.StreamResponse:
    name, who = actor_of(request), identify(request)
    visible = visible_of(request)  # a desk: its own event and subtree (docs/protocol.md#desks)
    rt = store_of(request).event_or_latest(who.scope.event if who.scope else request.query.get("event"))
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=HEARTBEAT_S)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the device left during the handshake: nothing to serve, nothing to log
        return ws
    conn = Conn(ws, request, "console", desk=visible.root if visible else None, holder=who.holder)
    first = snapshot(rt, visible)
    if visible is not None:
        rt.show_desk(visible.root, [p["code"] for p in first["points"]])
    conn.send(first)
    rt.room.add(conn)
    rt.ensure_ticker()
    rt.log.debug("console_connected", conn=conn.id, organizer=name)
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                conn.send(BadRequest("commands go over REST", code="unknown_message").to_frame(None))
    finally:
        rt.room.remove(conn)
    return ws
