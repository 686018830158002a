"""/ws/console: organizers' live view (docs/protocol.md#ws-console).

A ``snapshot`` first, then coalesced ``delta`` frames (at most 5 a second,
built once per tick for every console) and ``agenda``/``launch`` frames at
once. Commands go over REST; frames from the console are only answered.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WSMsgType, web

from server.core import points as pts
from server.core.errors import BadRequest
from server.core.events import event_view
from server.io.http.auth import actor_of, store_of
from server.io.limits import HEARTBEAT_S, MAX_FRAME
from server.io.runtime import EventRuntime
from server.io.ws.hub import Conn


def snapshot(rt: EventRuntime) -> dict[str, Any]:
    state = rt.state
    frame: dict[str, Any] = {
        "type": "snapshot",
        "seq": state.seq,
        "event": event_view(state.info, state.live.group_level),
        "totals": rt.totals(),
        "points": [pts.point_view(state, p) for p in state.points.values()],
        "incidents": [pts.incident_view(state, i) for i in state.incidents.values()],
    }
    frame.update(rt.views())
    return frame


async def handle(request: web.Request) -> web.StreamResponse:
    name = actor_of(request)
    rt = store_of(request).event_or_latest(request.query.get("event"))
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=HEARTBEAT_S)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the device left during the handshake: nothing to serve, nothing to log
        return ws
    conn = Conn(ws, request, "console")
    conn.send(snapshot(rt))
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
