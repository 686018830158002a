"""/ws/point: a site lead's device (docs/protocol.md#ws-point).

A handler is short: parse → decide → commit → ack. ``time.ping`` is answered
before anything else and stamps ``t1`` the moment the frame is handed to us
(no await in between), ``t2`` just before the write.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from server.core import points as pts
from server.core.errors import BadRequest, Conflict, LaunchdayError, TooMany, Unauthorized
from server.io import metrics
from server.io.clock import now_ms
from server.io.http.auth import store_of
from server.io.limits import (
    HEARTBEAT_S,
    MAX_FRAME,
    MAX_POINT_SOCKETS,
    Guard,
    guard_of,
    point_sockets,
)
from server.io.runtime import EventRuntime
from server.io.ws import frames
from server.io.ws.hub import Conn, pong

log = structlog.get_logger("launchday.ws")

_FRAMES_IN = metrics.FRAMES_IN.labels("point")  # resolved once: this runs for every frame
_ACK = {kind: metrics.ACK.labels(kind) for kind in frames.MUTATING}
POINT_SNDBUF = 256 * 1024

def welcome(rt: EventRuntime, code: str) -> dict[str, Any]:
    state = rt.state
    point = state.points[code]
    incidents = [pts.incident_view(state, i) for i in state.incidents.values() if i.point == code and i.open]
    frame: dict[str, Any] = {
        "type": "welcome",
        "server_ms": now_ms(),
        "seq": state.seq,
        "point": {
            "code": point.code, "name": point.name, "level": point.level, "parent": point.parent,
            "expected": point.expected,
            "district": state.live.district_of.get(code),
            "district_name": state.district_name(d) if (d := state.live.district_of.get(code)) else None,
            "group": (g := state.live.group_of.get(code)),
            "group_name": state.group_name(g),
            "chair": point.chair,
        },
        "event": {"id": rt.id, "name": state.info.name, "starts_at": state.info.starts_at,
                  "timezone": state.info.timezone},
        "status": {"checked_in": point.checked_in, "attendees": point.attendees, "incidents": incidents},
    }
    frame.update(rt.views())
    return frame


async def handle(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token", "")
    found = await store_of(request).find_point(token)
    if found is None:
        raise Unauthorized("unknown or rotated point token", code="invalid_token")
    rt, code = found
    if point_sockets(rt, code) >= MAX_POINT_SOCKETS:
        # Refused before the upgrade, so a leaked link cannot pile up sockets;
        # the console shows the point as "too many connections".
        pts.refuse_connection(rt.state, code)
        rt.presence_changed(code)  # every process's console shows it
        raise TooMany(f"this point already has {MAX_POINT_SOCKETS} connections", code="too_many_connections")
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=HEARTBEAT_S)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the device left during the handshake: nothing to serve, nothing to log
        return ws
    _bound_kernel_buffer(request)
    guard = guard_of(request)
    conn = Conn(ws, request, "point", code)
    rt.room.add(conn)
    pts.connect(rt.state, code, now_ms())
    rt.presence_changed(code)
    # No bound logger kept per socket (a structlog bind is ~400 bytes for
    # each idle socket's lifetime): the few log lines name the point themselves.
    rt.log.debug("point_connected", point=code, conn=conn.id)
    try:
        conn.send(welcome(rt, code))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                t1 = now_ms()
                _FRAMES_IN.inc()
                if rt.state.live.by_token.get(token) != code:
                    break  # rotated or deleted while this frame was in flight
                await on_frame(rt, conn, code, msg.data, t1, guard)
            elif msg.type == WSMsgType.BINARY:
                conn.send(BadRequest("frames are JSON text", code="binary_frame").to_frame(None))
    except Exception:  # one connection's failure never touches the others
        rt.log.exception("point_socket_failed", point=code, conn=conn.id)
    finally:
        rt.room.remove(conn)
        pts.disconnect(rt.state, code, now_ms())
        rt.presence_changed(code)
        rt.log.debug("point_disconnected", point=code, conn=conn.id, close_code=ws.close_code)
    return ws


def _bound_kernel_buffer(request: web.Request) -> None:
    """Cap the kernel's send buffer for a point socket. Linux grows it up to
    tcp_wmem's maximum (4 MiB here) for a socket that does not read, where
    the hub's 1 MiB check (hub.SLOW_LIMIT, on the transport's own buffer)
    cannot see it: measured, 100 frozen phones then held 150 MB of kernel
    memory and the other points' launch frame came 5x later. A point gets
    kilobytes a minute; 256 KiB is ample (docs/protocol.md#limits)."""
    sock = request.transport.get_extra_info("socket") if request.transport else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, POINT_SNDBUF)


async def on_frame(rt: EventRuntime, conn: Conn, code: str, text: str, t1: float, guard: Guard) -> None:
    try:
        frame = frames.parse_client_frame(text)
    except BadRequest as err:
        metrics.ERRORS.labels(err.code).inc()
        conn.send(err.to_frame(frames.frame_id(text)))
        return
    kind = frame.type
    if kind == "time.ping":
        pong(conn, frame.t0, t1)
        return
    if kind == "time.sync":
        try:
            pts.clock_synced(rt.state, code, frame.offset_ms, frame.rtt_ms, t1, frame.secure)
        except BadRequest as err:
            conn.send(err.to_frame(None))
            return
        rt.presence_changed(code)
        return
    try:
        # One bucket per point, shared by its sockets (per process: see limits.py).
        wait = guard.mutations.take(f"{rt.id}/{code}", t1)
        if wait > 0:
            raise TooMany("too many changes from this point; send again later", code="rate_limited",
                          retry_after_ms=wait)
        decision = rt.wiring.deciders[kind](rt.state, code, frame, t1)
        if decision.facts:
            commit = rt.wiring.committers.get(kind)
            await (rt.commit(decision.facts) if commit is None else commit(rt, decision.facts))
            point = rt.state.points.get(code)
            if point is None or frame.id not in point.applied:
                # Decided on a state that changed before the fold (another
                # socket of this point raced us): nothing was applied.
                raise Conflict("the point changed meanwhile; send again", code="conflict")
            if kind == "checkin":
                metrics.CHECKINS.inc()
        conn.send({"type": "ack", "id": frame.id, **decision.ack})
        _ACK[kind].observe((now_ms() - t1) / 1000)
    except LaunchdayError as err:
        metrics.ERRORS.labels(err.code).inc()
        conn.send(err.to_frame(frame.id))
