"""Desks in bulk: one desk per unit at a level (docs/protocol.md#desks).

A province hands each commune, ward or department its own part of the
morning: ``decide_desks`` gives every point of one level a scoped token,
skipping those that already hold a live desk (running it again creates
nothing twice). Pure: the tokens are made by the caller and passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from server.core import facts as f
from server.core import org as orgs
from server.core.errors import BadRequest
from server.core.fields import known_fields
from server.core.labels_desks import DESKS
from server.core.state import EventState, Point
from server.core.text import fold

BULK_FIELDS = ("level", "role")  # the body of POST /api/events/{eid}/desks


@dataclass(frozen=True, slots=True)
class NewDesk:
    token: str
    fact: f.OrganizerTokenIssued
    point: Point


@dataclass(frozen=True, slots=True)
class Bulk:
    created: list[NewDesk]
    existing: list[tuple[str, orgs.Organizer, Point]]  # (token hash, the live desk, its unit)


def decide_desks(org: orgs.OrgState, state: EventState, body: Any, tokens: Iterator[str] | Callable[[], str],
                 now_ms: float, actor: str | None) -> Bulk:
    """One desk per point at ``level`` (in name order) that has no live desk yet."""
    body = known_fields(body, BULK_FIELDS)
    level, role = body.get("level"), body.get("role", "operator")
    if level not in f.LEVELS:
        raise BadRequest(f"level must be one of {', '.join(f.LEVELS)}", code="validation_error",
                         details=[{"field": "level", "message": "unknown level"}])
    if role not in ("operator", "viewer"):
        raise BadRequest("a desk's role is operator or viewer (an admin token cannot be scoped)",
                         code="admin_unscoped" if role == "admin" else "validation_error")
    taken = {o.scope.point: (h, o) for h, o in orgs.desks_of(org, state.info.id)
             if not o.revoked and o.scope is not None}
    units = sorted((p for p in state.points.values() if p.level == level), key=lambda p: (fold(p.name), p.code))
    if not units:
        raise BadRequest(f"no point of level {level!r} in this event", code="validation_error",
                         details=[{"field": "level", "message": "no point at this level"}])
    make = tokens if callable(tokens) else tokens.__next__
    created: list[NewDesk] = []
    existing: list[tuple[str, orgs.Organizer, Point]] = []
    for p in units:
        if p.code in taken:
            h, o = taken[p.code]
            existing.append((h, o, p))
            continue
        token = make()
        body_one = {"name": DESKS["name"][0].format(name=p.name)[:100], "role": role,
                    "scope": {"event": state.info.id, "point": p.code}}
        fact = orgs.decide_issue(org, body_one, token, now_ms, actor, lambda _e: state.points)
        created.append(NewDesk(token, fact, p))
    return Bulk(created, existing)
