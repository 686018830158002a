"""The fold: every fact type and what it does to an event's state, in one table.

Why one explicit table: a fold that depends on which modules a process
happened to import diverges silently between processes (a process that never
imported the launch module would skip ``launch.armed``, and its next snapshot
would make the loss permanent). So the complete list is written here, checked
against the ``Fact`` union when this module is imported, and a fact type the
table does not know is a loud error (:class:`UnknownFact`) that stops the
event's tail: never a skip that a snapshot then seals.

The same holds for the parts of the state kept by other modules
(``EXTENSIONS``): a snapshot carries exactly these parts, and restoring a
snapshot with a part this process does not know is an error too.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from server.core import agenda, events, keyholders, launch, points, report_snapshots
from server.core import facts as f
from server.core.state import EventInfo, EventState, Extension, Incident, Point, new_state

Applier = Callable[[EventState, Any], None]


class UnknownFact(Exception):
    """A fact (or a snapshot part) this process cannot fold: it was written by
    a newer version, or the journal is not ours. The event's tail stops."""


def _created(state: EventState, fact: f.EventCreated) -> None:
    """``event.created`` is folded by :func:`new_state`; seen again, it must
    name the same event."""
    if fact.event_id != state.info.id:
        raise UnknownFact(f"event.created for {fact.event_id!r} in the stream of {state.info.id!r}")


# Every fact type of an event's stream, and its fold.
FOLDS: dict[str, Applier] = {
    "event.created": _created,
    "event.edited": events.apply_event_edited,
    "event.deleted": events.apply_event_deleted,
    "point.upserted": points.apply_upsert,
    "point.deleted": points.apply_delete,
    "point.token_rotated": points.apply_rotate,
    "point.checked_in": points.apply_checkin,
    "point.attendees": points.apply_attendees,
    "incident.opened": points.apply_incident,
    "incident.resolved": points.apply_resolve,
    "notice.sent": lambda state, fact: None,  # pushed to the screens; the audit log reads the fact
    "agenda.set": agenda.apply_set,
    "agenda.stepped": agenda.apply_step,
    "launch.armed": launch.apply_arm,
    "launch.key_pressed": launch.apply_press,
    "launch.aborted": launch.apply_abort,
    "launch.reset": launch.apply_reset,
    "launch.fired_reported": launch.apply_fired,
    "launch.fired_batch": launch.apply_fired_batch,
    "report.snapshot_taken": report_snapshots.apply_snapshot,
    "keyholder.added": keyholders.apply_added,
    "keyholder.revoked": keyholders.apply_revoked,
}

# Fact types of the organizers' stream (``_org``), folded by server.core.org.
ORG_FACTS = frozenset({"org.token_issued", "org.token_revoked", "org.session_opened", "org.session_closed"})

# The parts of the state kept by other modules, by their name in a snapshot.
EXTENSIONS: dict[str, Extension] = {
    "agenda": agenda.EXTENSION,
    "launch": launch.EXTENSION,
    "reports": report_snapshots.EXTENSION,
    "keyholders": keyholders.EXTENSION,
}

_BASE_PARTS = frozenset({"info", "seq", "points", "incidents"})


def fact_types() -> frozenset[str]:
    """Every ``type`` of the ``Fact`` union in server.core.facts."""
    union = typing.get_args(typing.get_args(f.Fact)[0])
    return frozenset(typing.get_args(cls.model_fields["type"].annotation)[0] for cls in union)


def _check_complete() -> None:
    known = fact_types()
    missing = known - FOLDS.keys() - ORG_FACTS
    extra = (FOLDS.keys() | ORG_FACTS) - known
    if missing or extra:  # a programming error, caught at import by every process and by the tests
        raise RuntimeError(f"fold table out of step with facts.Fact: missing {sorted(missing)}, "
                           f"not facts {sorted(extra)}")


_check_complete()


# -- the fold --------------------------------------------------------------------


def apply(state: EventState, fact: Any, seq: int) -> EventState:
    """Fold one fact (journal position ``seq``) into ``state``.

    Raises :class:`UnknownFact` (and leaves the state and its seq untouched)
    for a type the table does not know.
    """
    handler = FOLDS.get(fact.type)
    if handler is None:
        raise UnknownFact(f"unknown fact type {fact.type!r} at seq {seq}")
    handler(state, fact)
    state.seq = seq
    return state


def fold_facts(facts: list[tuple[int, Any]], state: EventState | None = None) -> EventState:
    """The state after ``facts`` (seq, fact), from scratch or from ``state``."""
    for seq, fact in facts:
        if state is None:
            if not isinstance(fact, f.EventCreated):
                raise ValueError("a journal starts with event.created")
            state = new_state(fact)
        apply(state, fact, seq)
    if state is None:
        raise ValueError("no facts")
    return state


# -- snapshot --------------------------------------------------------------------


def snapshot(state: EventState) -> dict[str, Any]:
    return {
        "info": asdict(state.info),
        "seq": state.seq,
        "points": [asdict(p) for p in state.points.values()],
        "incidents": [asdict(i) for i in state.incidents.values()],
        **{name: ext.dump(state) for name, ext in EXTENSIONS.items()},
    }


def snapshot_parts(state: EventState) -> dict[str, Any]:
    """The snapshot with the state's own dataclasses (not copied to dicts),
    for a serializer that walks dataclasses natively (orjson): building a
    snapshot of a thousand points and 100,000 message ids then takes
    milliseconds of the event loop, not half a second."""
    return {
        "info": state.info,
        "seq": state.seq,
        "points": list(state.points.values()),
        "incidents": list(state.incidents.values()),
        **{name: ext.dump(state) for name, ext in EXTENSIONS.items()},
    }


def restore(data: dict[str, Any]) -> EventState:
    unknown = data.keys() - _BASE_PARTS - EXTENSIONS.keys()
    if unknown:
        raise UnknownFact(f"snapshot has parts this process does not know: {sorted(unknown)}")
    state = EventState(info=EventInfo(**data["info"]), seq=data["seq"])
    state.points = {p["code"]: Point(**p) for p in data["points"]}
    state.incidents = {i["id"]: Incident(**i) for i in data["incidents"]}
    for name, ext in EXTENSIONS.items():
        if data.get(name) is not None:
            ext.load(state, data[name])
    state.rebuild()
    return state
