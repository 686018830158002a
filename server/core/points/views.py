"""The point registry as the REST API and the console see it: a point's
view and status, the filters of ``GET /points``, an incident's view."""

from __future__ import annotations

from typing import Any

from server.core.state import EventState, Incident, Point
from server.core.text import fold

STATUSES = ("pending", "checked_in", "online", "offline", "incident")


def status_of(state: EventState, point: Point) -> str:
    if state.live.open_incidents.get(point.code):
        return "incident"
    return "checked_in" if point.checked_in else "pending"


def point_view(state: EventState, point: Point, *, with_token: bool = False) -> dict[str, Any]:
    """The ``point`` object of the REST API and the console frames."""
    from server.core.launch import fired_ms  # the launch builds on the points: imported late

    pres = state.live.presence.get(point.code)
    view: dict[str, Any] = {
        "code": point.code,
        "name": point.name,
        "level": point.level,
        "parent": point.parent,
        "district": state.live.district_of.get(point.code),
        "group": (group := state.live.group_of.get(point.code)),
        "group_name": state.group_name(group),
        "chair": point.chair,
        "phone": point.phone,
        "expected": point.expected,
        "lat": point.lat,
        "lon": point.lon,
        "status": status_of(state, point),
        "checked_in": point.checked_in,
        "attendees": point.attendees,
        "checked_in_ms": point.checked_in_ms,
        "updated_ms": point.updated_ms,
        "online": state.online(point.code),
        "last_seen_ms": pres.last_seen_ms if pres else None,
        "rtt_ms": pres.rtt_ms if pres else None,
        "offset_ms": pres.offset_ms if pres else None,
        "secure": pres.secure if pres else None,
        "incidents_open": state.live.open_incidents.get(point.code, 0),
        "too_many_connections": bool(pres and (pres.crowded or pres.remote_crowded)),
        "fired_ms": fired_ms(state, point.code),
    }
    if with_token:
        view["token"] = point.token
    return view


def matches(state: EventState, point: Point, *, level: str | None = None, parent: str | None = None,
            status: str | None = None, q: str | None = None, district: str | None = None,
            group: str | None = None) -> bool:
    """The filters of ``GET /points`` (docs/protocol.md#points)."""
    if level and point.level != level:
        return False
    if parent is not None and (point.parent or "") != parent:
        return False
    if district and state.live.district_of.get(point.code) != district:
        return False
    if group and state.live.group_of.get(point.code) != group:
        return False
    if status:
        if status == "pending" and point.checked_in:
            return False
        if status == "checked_in" and not point.checked_in:
            return False
        if status == "online" and not state.online(point.code):
            return False
        if status == "offline" and state.online(point.code):
            return False
        if status == "incident" and not state.live.open_incidents.get(point.code):
            return False
    if q:
        needle = fold(q)
        if needle and needle not in state.live.search.get(point.code, ""):
            return False
    return True


def incident_view(state: EventState, inc: Incident) -> dict[str, Any]:
    point = state.points.get(inc.point)
    return {
        "id": inc.id,
        "point": inc.point,
        "point_name": point.name if point else inc.point,
        "chair": point.chair if point else "",
        "phone": point.phone if point else "",
        "district": state.live.district_of.get(inc.point),
        "group": state.live.group_of.get(inc.point),
        "kind": inc.kind,
        "note": inc.note,
        "opened_ms": inc.opened_ms,
        "resolved_ms": inc.resolved_ms,
        "resolved_by": inc.resolved_by,
        "open": inc.open,
    }
