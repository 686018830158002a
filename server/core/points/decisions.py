"""The point registry's commands, check-in, counts and incidents: decisions.

Every ``decide_*`` function is pure: it reads the state, takes the time and any
fresh token as arguments, and returns the facts to append (or raises a coded
error). A message id already applied returns no facts and the ack it got the
first time (docs/protocol.md#idempotency). The facts are folded by
:mod:`server.core.points.folds`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Conflict, NotFound
from server.core.fields import known_fields
from server.core.points.validation import (
    MAX_COUNT,
    MAX_NOTE,
    POINT_FIELDS,
    validate_fields,
    would_cycle,
)
from server.core.state import EventState, Point
from server.core.text import clean

_DEFAULTS: dict[str, Any] = {"parent": None, "chair": "", "phone": "", "expected": 0, "lat": None, "lon": None}
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


def _upsert(point: Point | None, values: dict[str, Any], token: str, now_ms: float, actor: str | None) -> f.PointUpserted | None:
    """The fact that makes ``point`` carry ``values``, or None if nothing changes."""
    merged = {name: getattr(point, name) for name in POINT_FIELDS} if point else dict(_DEFAULTS)
    merged.update(values)
    if point is not None and all(getattr(point, n) == merged[n] for n in POINT_FIELDS):
        return None
    return f.PointUpserted(at_ms=now_ms, actor=actor, token=point.token if point else token, **merged)


# -- organizer commands -------------------------------------------------------


def decide_create(state: EventState, raw: dict[str, Any], now_ms: float, token: str, actor: str | None) -> Decision:
    known_fields(raw, POINT_FIELDS)
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
    known_fields(raw, POINT_FIELDS, code="validation_error")  # its code before unknown_field existed
    if "code" in raw and clean(raw["code"]) != code:
        raise BadRequest("a point's code cannot change; delete and create it", code="validation_error")
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
