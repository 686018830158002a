"""Creating an event (the first fact of its journal) and editing it.

Times are ISO 8601 with an offset (the console turns its local-time fields
into one, in the event's time zone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.core import agenda as ag
from server.core import facts as f
from server.core import launch as ln
from server.core.errors import BadRequest, Conflict
from server.core.fields import known_fields
from server.core.grouping import parse_group_level
from server.core.state import EventState
from server.core.text import clean

EDITABLE = ("name", "starts_at", "report_deadline", "timezone", "group_level")


def _instant(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{name} must be an ISO 8601 time with an offset", code="validation_error",
                         details=[{"field": name, "message": "missing"}])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise BadRequest(f"{name} must be an ISO 8601 time with an offset, e.g. 2025-05-08T08:00:00+07:00",
                         code="validation_error", details=[{"field": name, "message": "not ISO 8601 with offset"}])
    return moment.isoformat()


def instant_ms(value: str) -> float:
    """Milliseconds since the epoch of an ISO 8601 time with an offset."""
    return datetime.fromisoformat(value).timestamp() * 1000.0


def decide_create_event(event_id: str, body: Any, now_ms: float, actor: str | None) -> f.EventCreated:
    body = known_fields(body, EDITABLE)
    name = _name(body.get("name"))
    timezone = _zone(body.get("timezone") or "Asia/Ho_Chi_Minh")
    starts_at = _instant(body.get("starts_at"), "starts_at")
    deadline = _instant(body.get("report_deadline"), "report_deadline")
    group_level = parse_group_level(body.get("group_level"))
    return f.EventCreated(at_ms=now_ms, actor=actor, event_id=event_id, name=name, starts_at=starts_at,
                          report_deadline=deadline, timezone=timezone, group_level=group_level)


def _name(value: Any) -> str:
    name = clean(value)
    if not name or len(name) > 300:
        raise BadRequest("name is required (at most 300 characters)", code="validation_error",
                         details=[{"field": "name", "message": "required"}])
    return name


def _zone(value: Any) -> str:
    timezone = clean(value)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown time zone {timezone!r}", code="validation_error",
                         details=[{"field": "timezone", "message": "not an IANA time zone"}]) from None
    return timezone


def decide_edit_event(state: EventState, body: Any, now_ms: float, actor: str | None) -> list[f.EventEdited]:
    """``PATCH /api/events/{eid}``: any of name, starts_at, report_deadline,
    timezone, group_level (null: back to the default). Only the fields that change are recorded; none: no fact.
    Changing only the time zone keeps the instants (the ceremony does not
    move); it changes how times are shown."""
    body = known_fields(body, EDITABLE, code="validation_error")  # its code before unknown_field existed
    info = state.info
    changes: dict[str, str] = {}
    timezone = _zone(body["timezone"]) if "timezone" in body else info.timezone
    if timezone != info.timezone:
        changes["timezone"] = timezone
    if "name" in body:
        name = _name(body["name"])
        if name != info.name:
            changes["name"] = name
    for key in ("starts_at", "report_deadline"):
        if key in body:
            value = _instant(body[key], key)
            if instant_ms(value) != instant_ms(getattr(info, key)) or value != getattr(info, key):
                changes[key] = value
    if "group_level" in body:
        group_level = parse_group_level(body["group_level"])
        if group_level != info.group_level:
            changes["group_level"] = group_level or ""  # "": back to the default
    if not changes:
        return []
    return [f.EventEdited(at_ms=now_ms, actor=actor, **changes)]


def apply_event_edited(state: EventState, fact: f.EventEdited) -> None:
    info = state.info
    for key in EDITABLE:
        value = getattr(fact, key)
        if value is not None:
            setattr(info, key, value or None if key == "group_level" else value)
    if fact.group_level is not None:
        state.regroup_if_needed()


def decide_delete_event(state: EventState, now_ms: float, actor: str | None) -> list[f.EventDeleted]:
    """``DELETE /api/events/{eid}`` (admin): not while the ceremony is under way
    (the agenda running or paused, a launch armed or counting down), which a
    mistaken click must not end for a thousand screens."""
    if ag.agenda_of(state).state in ("running", "paused"):
        raise Conflict("the agenda is running; finish it before deleting the event", code="event_in_progress")
    if ln.launch_view(state, now_ms)["state"] in ("armed", "countdown"):
        raise Conflict("a launch is armed; abort it before deleting the event", code="event_in_progress")
    return [f.EventDeleted(at_ms=now_ms, actor=actor)]


def apply_event_deleted(state: EventState, fact: f.EventDeleted) -> None:
    if state.info.deleted_ms is None:
        state.info.deleted_ms = fact.at_ms


def event_view(info: Any, group_level_effective: str | None = None) -> dict[str, Any]:
    """The ``event`` object; ``group_level_effective`` is the state's
    ``live.group_level`` (docs/protocol.md#grouping)."""
    return {
        "id": info.id,
        "name": info.name,
        "starts_at": info.starts_at,
        "report_deadline": info.report_deadline,
        "timezone": info.timezone,
        "created_ms": info.created_ms,
        "group_level": info.group_level,
        "group_level_effective": group_level_effective,
    }
