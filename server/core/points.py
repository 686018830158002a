"""The point registry, check-in, counts and incidents: decisions and their folds.

Every ``decide_*`` function is pure: it reads the state, takes the time and any
fresh token as arguments, and returns the facts to append (or raises a coded
error). A message id already applied returns no facts and the ack it got the
first time (docs/protocol.md#idempotency).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Conflict, NotFound
from server.core.labels import row_error
from server.core.state import EventState, Incident, Point, Presence
from server.core.text import clean, fold

POINT_FIELDS = ("code", "name", "level", "parent", "chair", "phone", "expected")
_DEFAULTS: dict[str, Any] = {"parent": None, "chair": "", "phone": "", "expected": 0}
STATUSES = ("pending", "checked_in", "online", "offline", "incident")
MAX_COUNT = 1_000_000
MAX_NOTE = 500
# Open incidents one point may have: enough for sound, picture, power and
# network failing at once, few enough that one point cannot drown the
# organizers' board. Checked when deciding, not in the fold (old journals
# must replay unchanged): sockets of one point racing may pass it by a few.
MAX_OPEN_INCIDENTS = 5


@dataclass(slots=True)
class Decision:
    """What a command decided: facts to append, and the extra fields of its ack."""

    facts: list[Any] = field(default_factory=list)
    ack: dict[str, Any] = field(default_factory=dict)


# -- validation of point fields -------------------------------------------


def validate_fields(raw: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Clean and check point fields. Returns (clean values, [row error]), each
    error made by :func:`server.core.labels.row_error` (column, code, params,
    message in English and Vietnamese).

    ``partial`` (a PATCH) checks only the fields given.
    """
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name in POINT_FIELDS:
        if name not in raw:
            if not partial:
                out[name] = None if name == "parent" else (0 if name == "expected" else "")
            continue
        value = raw[name]
        if name == "expected":
            number = _whole_number(value)
            if number is None:
                errors.append(row_error(name, "not_whole_number", value=clean(value)))
            else:
                out[name] = number
        elif name == "parent":
            out[name] = clean(value) or None
        elif name == "level":
            level = clean(value).lower()
            if not level:
                errors.append(row_error(name, "required"))
            elif level not in f.LEVELS:
                errors.append(row_error(name, "unknown_level", value=clean(value), choices=", ".join(f.LEVELS)))
            else:
                out[name] = level
        else:
            if value is not None and not isinstance(value, (str, int, float)):
                errors.append(row_error(name, "not_text"))
                continue
            out[name] = clean(value)
    if not partial or "code" in raw:
        code = out.get("code", "")
        if not code:
            errors.append(row_error("code", "required"))
        elif len(code) > 64 or any(c in code for c in "/?#%") or code != code.strip():
            errors.append(row_error("code", "bad_code"))
    if (not partial or "name" in raw) and not out.get("name"):
        errors.append(row_error("name", "required"))
    for name in ("name", "chair", "phone"):
        if len(out.get(name) or "") > 200:
            errors.append(row_error(name, "too_long"))
    return out, errors


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value <= MAX_COUNT else None
    text = clean(value).replace(" ", "")
    if text == "":
        return 0
    if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT:
        return int(text)
    return None


def would_cycle(state: EventState, code: str, parent: str | None, extra: dict[str, str | None] | None = None) -> bool:
    """True if making ``parent`` the parent of ``code`` closes a loop."""
    parents = extra or {}
    seen = {code}
    cur = parent
    while cur is not None:
        if cur in seen:
            return True
        seen.add(cur)
        if cur in parents:
            cur = parents[cur]
        elif cur in state.points:
            cur = state.points[cur].parent
        else:
            return False
    return False


def _upsert(point: Point | None, values: dict[str, Any], token: str, now_ms: float, actor: str | None) -> f.PointUpserted | None:
    """The fact that makes ``point`` carry ``values``, or None if nothing changes."""
    merged = {name: getattr(point, name) for name in POINT_FIELDS} if point else dict(_DEFAULTS)
    merged.update(values)
    if point is not None and all(getattr(point, n) == merged[n] for n in POINT_FIELDS):
        return None
    return f.PointUpserted(at_ms=now_ms, actor=actor, token=point.token if point else token, **merged)


# -- organizer commands -------------------------------------------------------


def decide_create(state: EventState, raw: dict[str, Any], now_ms: float, token: str, actor: str | None) -> Decision:
    values, errors = validate_fields(raw)
    if errors:
        raise BadRequest("invalid point", code="validation_error", details=_details(errors))
    if values["code"] in state.points:
        raise Conflict(f"point {values['code']!r} already exists", code="duplicate_code")
    _check_parent(state, values["code"], values["parent"])
    fact = _upsert(None, values, token, now_ms, actor)
    assert fact is not None
    return Decision([fact])


def decide_patch(state: EventState, code: str, raw: dict[str, Any], now_ms: float, actor: str | None) -> Decision:
    point = get_point(state, code)
    if "code" in raw and clean(raw["code"]) != code:
        raise BadRequest("a point's code cannot change; delete and create it", code="validation_error")
    unknown = sorted(set(raw) - set(POINT_FIELDS))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}", code="validation_error")
    values, errors = validate_fields(raw, partial=True)
    if errors:
        raise BadRequest("invalid point", code="validation_error", details=_details(errors))
    if "parent" in values:
        _check_parent(state, code, values["parent"])
    fact = _upsert(point, values, "", now_ms, actor)
    return Decision([fact] if fact else [])


def decide_delete(state: EventState, code: str, now_ms: float, actor: str | None) -> Decision:
    get_point(state, code)
    children = [p.code for p in state.points.values() if p.parent == code]
    if children:
        raise Conflict(
            f"point {code!r} is the parent of {len(children)} points",
            code="has_children",
            details={"children": children[:20]},
        )
    return Decision([f.PointDeleted(at_ms=now_ms, actor=actor, code=code)])


def decide_rotate(state: EventState, code: str, token: str, now_ms: float, actor: str | None) -> Decision:
    get_point(state, code)
    return Decision([f.TokenRotated(at_ms=now_ms, actor=actor, code=code, token=token)])


def decide_resolve_incident(state: EventState, incident_id: str, now_ms: float, actor: str | None) -> Decision:
    incident = state.incidents.get(incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id!r}", code="incident_not_found")
    if not incident.open:
        raise Conflict("the incident is already resolved", code="incident_closed")
    return Decision([f.IncidentResolved(at_ms=now_ms, actor=actor, code=incident.point, incident=incident_id)])


def _check_parent(state: EventState, code: str, parent: str | None) -> None:
    if parent is None:
        return
    if parent not in state.points:
        raise BadRequest(f"parent {parent!r} is not a point of this event", code="validation_error",
                         details=[{"column": "parent", "message": "unknown parent"}])
    if would_cycle(state, code, parent):
        raise BadRequest("that parent would make a loop", code="validation_error",
                         details=[{"column": "parent", "message": "parent loop"}])


def _details(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(errors)


def upsert_applied(state: EventState, fact: f.PointUpserted) -> bool:
    """Whether a folded upsert took effect (it loses a race with a tree change)."""
    point = state.points.get(fact.code)
    return point is not None and point.parent == fact.parent and point.level == fact.level


def get_point(state: EventState, code: str) -> Point:
    point = state.points.get(code)
    if point is None:
        raise NotFound(f"no point {code!r} in this event", code="point_not_found")
    return point


# -- point (site lead) commands -------------------------------------------------


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BadRequest(f"{name} must be a whole number from 0 to {MAX_COUNT}", code="invalid_count")
    return value


def decide_checkin(state: EventState, code: str, msg_id: str, attendees: Any, now_ms: float) -> Decision:
    point = get_point(state, code)
    if msg_id in point.applied:
        return Decision([], point.applied[msg_id])
    n = _count(attendees, "attendees")
    return Decision([f.CheckedIn(at_ms=now_ms, code=code, msg_id=msg_id, attendees=n)])


def decide_attendees(state: EventState, code: str, msg_id: str, count: Any, now_ms: float) -> Decision:
    point = get_point(state, code)
    if msg_id in point.applied:
        return Decision([], point.applied[msg_id])
    n = _count(count, "count")
    if not point.checked_in:
        raise Conflict("check the point in before updating its count", code="not_checked_in")
    return Decision([f.AttendeesCounted(at_ms=now_ms, code=code, msg_id=msg_id, count=n)])


def incident_id(code: str, msg_id: str) -> str:
    """Derived from the message id, so deciding twice (a retry racing itself,
    two processes) names the same incident, and nothing random is needed."""
    digest = hashlib.blake2s(f"{code}\0{msg_id}".encode(), digest_size=6).hexdigest()
    return f"inc-{digest}"


def decide_incident(state: EventState, code: str, msg_id: str, kind: Any, note: Any, now_ms: float) -> Decision:
    point = get_point(state, code)
    if msg_id in point.applied:
        return Decision([], point.applied[msg_id])
    if kind not in f.INCIDENT_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(f.INCIDENT_KINDS)}", code="invalid_kind")
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise BadRequest(f"note must be text of at most {MAX_NOTE} characters", code="invalid_note")
    if state.live.open_incidents.get(code, 0) >= MAX_OPEN_INCIDENTS:
        raise Conflict(f"this point already has {MAX_OPEN_INCIDENTS} open incidents; resolve one first",
                       code="too_many_incidents")
    inc = incident_id(code, msg_id)
    return Decision(
        [f.IncidentOpened(at_ms=now_ms, code=code, msg_id=msg_id, incident=inc, kind=kind, note=clean(note))],
        {"incident": inc},
    )


def decide_point_resolve(state: EventState, code: str, msg_id: str, incident: Any, now_ms: float) -> Decision:
    point = get_point(state, code)
    if msg_id in point.applied:
        return Decision([], point.applied[msg_id])
    inc = state.incidents.get(incident) if isinstance(incident, str) else None
    if inc is None or inc.point != code:
        raise NotFound(f"no incident {incident!r} at this point", code="incident_not_found")
    if not inc.open:
        raise Conflict("the incident is already resolved", code="incident_closed")
    return Decision([f.IncidentResolved(at_ms=now_ms, code=code, msg_id=msg_id, incident=inc.id)])


# -- presence (ephemeral, not facts) --------------------------------------------


def _presence(state: EventState, code: str, mutate: Callable[[Presence], None]) -> None:
    """Change a point's presence, keeping the ``online`` counters exact."""
    if code in state.points:
        state.change_point(code, lambda p: mutate(state.presence(code)))
    else:
        mutate(state.presence(code))


def connect(state: EventState, code: str, now_ms: float) -> None:
    def opened(pres: Presence) -> None:
        pres.sockets += 1
        pres.last_seen_ms = now_ms

    _presence(state, code, opened)


def refuse_connection(state: EventState, code: str) -> None:
    """A socket was refused for having too many: the console shows the point
    as "too many connections" (its link has leaked; rotate it) until the
    point has no socket left."""
    state.presence(code).crowded = True


def disconnect(state: EventState, code: str, now_ms: float) -> None:
    pres = state.presence(code)
    if pres.sockets <= 1:
        pres.crowded = False
    if pres.sockets <= 0:
        return

    def closed(pres: Presence) -> None:
        pres.sockets -= 1
        pres.last_seen_ms = now_ms

    _presence(state, code, closed)


def set_remote(state: EventState, code: str, sockets: int, last_seen_ms: float | None,
               offset_ms: float | None, rtt_ms: float | None, crowded: bool = False) -> bool:
    """What the other processes of a cluster hold of this point (their socket
    count, their newest clock figures, whether one of them refused a socket
    for too many). True if anything changed."""
    pres = state.live.presence.get(code)
    if pres is None and sockets == 0 and not crowded:
        return False
    pres = state.presence(code)
    newer = last_seen_ms is not None and (pres.last_seen_ms is None or last_seen_ms > pres.last_seen_ms)
    if pres.remote == sockets and not newer and pres.remote_crowded == crowded:
        return False

    def seen(p: Presence) -> None:
        p.remote = sockets
        p.remote_crowded = crowded
        if newer:
            p.last_seen_ms = last_seen_ms
            if offset_ms is not None and rtt_ms is not None:
                p.offset_ms, p.rtt_ms = offset_ms, rtt_ms

    _presence(state, code, seen)
    return True


def clock_synced(state: EventState, code: str, offset_ms: Any, rtt_ms: Any, now_ms: float) -> None:
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (offset_ms, rtt_ms)):
        raise BadRequest("offset_ms and rtt_ms must be numbers", code="validation_error")
    if rtt_ms < 0:
        raise BadRequest("rtt_ms must be ≥ 0", code="validation_error")
    pres = state.presence(code)
    pres.offset_ms = float(offset_ms)
    pres.rtt_ms = float(rtt_ms)
    pres.last_seen_ms = now_ms


# -- the folds --------------------------------------------------------------


def apply_upsert(state: EventState, fact: f.PointUpserted) -> None:
    old = state.points.get(fact.code)
    values = {n: getattr(fact, n) for n in POINT_FIELDS}
    live = state.live
    # A new point closes no loop: no stored point names a code that does not
    # exist as its parent (a parent must exist, a point with children cannot be
    # deleted). So only an edit walks up the tree: a deep chain imports in
    # linear time.
    if fact.parent is not None and (fact.parent not in state.points
                                    or (old is not None and would_cycle(state, fact.code, fact.parent))):
        # Decided on a tree that changed before this fold (the parent was
        # deleted, or a racing patch would close a loop): the edit lost.
        return
    if old is None:
        # Imports append parents before children, so a new point's district
        # is its own (a district) or its parent's, already known; no rebuild.
        state.points[fact.code] = point = Point(token=fact.token, **values)
        live.by_token[fact.token] = fact.code
        live.search[fact.code] = fold(f"{fact.code} {fact.name}")
        live.district_of[fact.code] = (fact.code if fact.level == "district"
                                       else live.district_of.get(fact.parent) if fact.parent else None)
        live.totals.add(point.level, live.district_of[fact.code], state.contribution(point), +1)
        return
    if old.parent != fact.parent or old.level != fact.level:
        # The tree's shape changed: districts below may move. Rare (an
        # organizer's edit), so recompute every derived view.
        for name, value in values.items():
            setattr(old, name, value)
        state.rebuild()
        return

    def edit(point: Point) -> None:
        for name, value in values.items():
            setattr(point, name, value)

    state.change_point(fact.code, edit)
    live.search[fact.code] = fold(f"{fact.code} {fact.name}")


def apply_delete(state: EventState, fact: f.PointDeleted) -> None:
    point = state.points.get(fact.code)
    if point is None or any(p.parent == fact.code for p in state.points.values()):
        return  # a child was added after the delete was decided: the delete lost
    live = state.live
    live.totals.add(point.level, live.district_of.get(fact.code), state.contribution(point), -1)
    for inc in state.incidents.values():  # a deleted point's incidents are closed with it
        if inc.point == fact.code and inc.open:
            inc.resolved_ms = fact.at_ms
            inc.resolved_by = "point deleted"
            live.totals.incidents_open -= 1
    live.open_incidents.pop(fact.code, None)
    del state.points[fact.code]
    live.presence.pop(fact.code, None)
    live.by_token.pop(point.token, None)
    live.search.pop(fact.code, None)
    live.district_of.pop(fact.code, None)


def apply_rotate(state: EventState, fact: f.TokenRotated) -> None:
    point = state.points.get(fact.code)
    if point is None:
        return
    state.live.by_token.pop(point.token, None)
    point.token = fact.token
    state.live.by_token[fact.token] = fact.code


def apply_checkin(state: EventState, fact: f.CheckedIn) -> None:
    point = state.points.get(fact.code)
    if point is None or fact.msg_id in point.applied:
        return

    def mutate(p: Point) -> None:
        if not p.checked_in:
            p.checked_in_ms = fact.at_ms
        p.checked_in = True
        p.attendees = fact.attendees
        p.updated_ms = fact.at_ms
        p.applied[fact.msg_id] = {}

    state.change_point(fact.code, mutate)


def apply_attendees(state: EventState, fact: f.AttendeesCounted) -> None:
    point = state.points.get(fact.code)
    if point is None or fact.msg_id in point.applied or not point.checked_in:
        return
    # The point stays checked in: of its contribution only the attendees move,
    # so shift them instead of subtracting and re-adding the whole contribution
    # (the most frequent fact of a morning; half the cost of a full replay).
    delta = fact.count - point.attendees
    if delta:
        state.live.totals.shift_attendees(point.level, state.live.district_of.get(fact.code), delta)
    point.attendees = fact.count
    point.updated_ms = fact.at_ms
    point.applied[fact.msg_id] = {}


def apply_incident(state: EventState, fact: f.IncidentOpened) -> None:
    point = state.points.get(fact.code)
    if point is None or fact.msg_id in point.applied or fact.incident in state.incidents:
        return
    state.incidents[fact.incident] = Incident(
        id=fact.incident, point=fact.code, kind=fact.kind, note=fact.note, opened_ms=fact.at_ms
    )
    point.applied[fact.msg_id] = {"incident": fact.incident}
    state.live.open_incidents[fact.code] = state.live.open_incidents.get(fact.code, 0) + 1
    state.live.totals.incidents_open += 1


def apply_resolve(state: EventState, fact: f.IncidentResolved) -> None:
    inc = state.incidents.get(fact.incident)
    point = state.points.get(fact.code)
    if fact.msg_id is not None and point is not None:
        if fact.msg_id in point.applied:
            return
        point.applied[fact.msg_id] = {}
    if inc is None or not inc.open:
        return
    inc.resolved_ms = fact.at_ms
    inc.resolved_by = fact.actor or "point"
    left = state.live.open_incidents.get(inc.point, 0) - 1
    if left > 0:
        state.live.open_incidents[inc.point] = left
    else:
        state.live.open_incidents.pop(inc.point, None)
    state.live.totals.incidents_open -= 1


# -- views -------------------------------------------------------------------


def status_of(state: EventState, point: Point) -> str:
    if state.live.open_incidents.get(point.code):
        return "incident"
    return "checked_in" if point.checked_in else "pending"


def point_view(state: EventState, point: Point, *, with_token: bool = False) -> dict[str, Any]:
    """The ``point`` object of the REST API and the console frames."""
    pres = state.live.presence.get(point.code)
    view: dict[str, Any] = {
        "code": point.code,
        "name": point.name,
        "level": point.level,
        "parent": point.parent,
        "district": state.live.district_of.get(point.code),
        "chair": point.chair,
        "phone": point.phone,
        "expected": point.expected,
        "status": status_of(state, point),
        "checked_in": point.checked_in,
        "attendees": point.attendees,
        "checked_in_ms": point.checked_in_ms,
        "updated_ms": point.updated_ms,
        "online": state.online(point.code),
        "last_seen_ms": pres.last_seen_ms if pres else None,
        "rtt_ms": pres.rtt_ms if pres else None,
        "offset_ms": pres.offset_ms if pres else None,
        "incidents_open": state.live.open_incidents.get(point.code, 0),
        "too_many_connections": bool(pres and (pres.crowded or pres.remote_crowded)),
    }
    if with_token:
        view["token"] = point.token
    return view


def matches(state: EventState, point: Point, *, level: str | None = None, parent: str | None = None,
            status: str | None = None, q: str | None = None, district: str | None = None) -> bool:
    """The filters of ``GET /points`` (docs/protocol.md#points)."""
    if level and point.level != level:
        return False
    if parent is not None and (point.parent or "") != parent:
        return False
    if district and state.live.district_of.get(point.code) != district:
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
        "kind": inc.kind,
        "note": inc.note,
        "opened_ms": inc.opened_ms,
        "resolved_ms": inc.resolved_ms,
        "resolved_by": inc.resolved_by,
        "open": inc.open,
    }
