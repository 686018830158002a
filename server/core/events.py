"""Creating an event: the first fact of its journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.core import facts as f
from server.core.errors import BadRequest
from server.core.text import clean


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
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="validation_error")
    name = clean(body.get("name"))
    if not name or len(name) > 300:
        raise BadRequest("name is required (at most 300 characters)", code="validation_error",
                         details=[{"field": "name", "message": "required"}])
    starts_at = _instant(body.get("starts_at"), "starts_at")
    deadline = _instant(body.get("report_deadline"), "report_deadline")
    timezone = clean(body.get("timezone") or "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(f"unknown time zone {timezone!r}", code="validation_error",
                         details=[{"field": "timezone", "message": "not an IANA time zone"}]) from None
    return f.EventCreated(at_ms=now_ms, actor=actor, event_id=event_id, name=name, starts_at=starts_at,
                          report_deadline=deadline, timezone=timezone)


def event_view(info: Any) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "starts_at": info.starts_at,
        "report_deadline": info.report_deadline,
        "timezone": info.timezone,
        "created_ms": info.created_ms,
    }
