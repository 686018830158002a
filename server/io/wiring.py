"""Every wiring table of the server, in one place.

What a point's frame does, what a folded fact does to the sockets, what the
welcome, snapshot and delta frames carry beside the points, and what a
runtime sets going when it starts: each is one table here, checked when this
module is imported against the union it covers, as ``server/core/fold.py``
checks its folds against the ``Fact`` union. A missing entry stops the start
loudly; nothing registers itself by being imported, and no module writes
into another module's table (a process that wired differently because it
imported fewer modules would behave differently from the others in silence).

- ``DECIDERS``: every mutating point frame type (``frames.MUTATING``) and the
  pure decision it makes (docs/protocol.md#ws-point).
- ``COMMITTERS``: how a kind's facts are made durable where not by
  ``rt.commit`` (firing reports go through a batcher).
- ``EFFECTS``: every fact type of an event's stream (``fold.FOLDS``) and what
  it does to this process's sockets: ``()`` where it does nothing.
- ``VIEWS``: the parts of the welcome and snapshot frames beside the points.
- ``DELTA_EXTRAS``: the fields every console delta carries beside the points.
- ``START_HOOKS``: per part of the state (``fold.EXTENSIONS``), the timer a
  runtime sets when it starts (again after a restart); ``None`` for none.

The route table is ``server/io/http/routes.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from server.core import fold
from server.core import launch as ln
from server.core import points as pts
from server.io import effects as fx
from server.io import timers
from server.io.ws import firing, frames

if TYPE_CHECKING:
    from server.core.scope import Visible
    from server.io.runtime import EventRuntime

Decider = Callable[[Any, str, Any, float], pts.Decision]
Committer = Callable[["EventRuntime", list[Any]], Awaitable[Any]]
Effect = Callable[["EventRuntime", int, Any], None]
View = Callable[["EventRuntime"], Any]
DeltaExtra = Callable[["EventRuntime", "Visible | None"], Any]  # the province's (None) or a desk's
StartHook = Callable[["EventRuntime"], None]

# The parts the welcome and snapshot frames carry (docs/protocol.md#ws-point,
# #console), and the fields beside the points in every delta.
SCREEN_PARTS = frozenset({"agenda", "launch"})
DELTA_FIELDS = frozenset({"launch_fired"})


@dataclass(frozen=True)
class Wiring:
    deciders: Mapping[str, Decider]
    committers: Mapping[str, Committer]
    effects: Mapping[str, tuple[Effect, ...]]
    views: Mapping[str, View]
    delta_extras: Mapping[str, DeltaExtra]
    start_hooks: Mapping[str, StartHook | None]


DECIDERS: dict[str, Decider] = {
    "checkin": lambda s, code, fr, now: pts.decide_checkin(s, code, fr.id, fr.attendees, now),
    "attendees": lambda s, code, fr, now: pts.decide_attendees(s, code, fr.id, fr.count, now),
    "incident": lambda s, code, fr, now: pts.decide_incident(s, code, fr.id, fr.kind, fr.note, now),
    "incident.resolve": lambda s, code, fr, now: pts.decide_point_resolve(s, code, fr.id, fr.incident, now),
    "launch.fired": lambda s, code, fr, now: ln.decide_fired_report(
        s, code, fr.id, fr.fired_ms, fr.offset_ms, fr.rtt_ms, now),
}

COMMITTERS: dict[str, Committer] = {
    "launch.fired": firing.commit_reports,  # 10,000 reports in seconds: one durable write per batch
}

EFFECTS: dict[str, tuple[Effect, ...]] = {
    "event.created": (),
    "event.edited": (fx.event_edited, timers.deadline_moved),
    "event.deleted": (fx.event_deleted,),
    "point.upserted": (fx.point_changed,),
    "point.deleted": (fx.point_deleted,),
    "point.token_rotated": (fx.token_rotated,),
    "point.checked_in": (fx.point_changed,),
    "point.attendees": (fx.point_changed,),
    "incident.opened": (fx.incident_changed,),
    "incident.resolved": (fx.incident_changed,),
    "notice.sent": (fx.notice,),
    "agenda.set": (fx.agenda_changed,),
    "agenda.stepped": (fx.agenda_changed,),
    "launch.armed": (fx.launch_changed, timers.launch_moved),
    "launch.key_pressed": (fx.launch_changed, timers.launch_moved),
    "launch.aborted": (fx.launch_changed, timers.launch_moved),
    "launch.reset": (fx.launch_changed, timers.launch_moved, fx.fired_reset),
    "launch.fired_reported": (fx.fired_reported,),
    "launch.fired_batch": (fx.fired_reported,),
    "report.snapshot_taken": (fx.snapshot_taken,),
    "keyholder.added": (fx.keyholders_changed,),
    "keyholder.revoked": (fx.keyholders_changed,),
}

VIEWS: dict[str, View] = {
    "agenda": fx.agenda_view,
    "launch": fx.launch_view,
}

DELTA_EXTRAS: dict[str, DeltaExtra] = {
    "launch_fired": fx.launch_fired,
}

START_HOOKS: dict[str, StartHook | None] = {
    "agenda": None,  # no timed steps: an operator runs the agenda
    "launch": timers.schedule_fired_push,
    "reports": timers.schedule_deadline,
    "keyholders": None,
}


def _differ(what: str, have: Mapping[str, Any] | frozenset[str], want: frozenset[str]) -> list[str]:
    missing, extra = want - set(have), set(have) - want
    if not (missing or extra):
        return []
    return [f"{what}: missing {sorted(missing)}, unknown {sorted(extra)}"]


def check(w: Wiring) -> Wiring:
    """Raise if any table is out of step with the union it covers."""
    problems = [
        *_differ("DECIDERS (point frame types, frames.MUTATING)", w.deciders, frames.MUTATING),
        *_differ("EFFECTS (fact types, fold.FOLDS)", w.effects, frozenset(fold.FOLDS)),
        *_differ("VIEWS (welcome and snapshot parts)", w.views, SCREEN_PARTS),
        *_differ("DELTA_EXTRAS (delta fields)", w.delta_extras, DELTA_FIELDS),
        *_differ("START_HOOKS (state parts, fold.EXTENSIONS)", w.start_hooks, frozenset(fold.EXTENSIONS)),
    ]
    if not set(w.committers) <= set(w.deciders):
        problems.append(f"COMMITTERS for kinds nobody decides: {sorted(set(w.committers) - set(w.deciders))}")
    if problems:  # a programming error, caught at import by every process and by the tests
        raise RuntimeError("wiring out of step: " + "; ".join(problems))
    return w


WIRING = check(Wiring(
    deciders=MappingProxyType(DECIDERS),
    committers=MappingProxyType(COMMITTERS),
    effects=MappingProxyType(EFFECTS),
    views=MappingProxyType(VIEWS),
    delta_extras=MappingProxyType(DELTA_EXTRAS),
    start_hooks=MappingProxyType(START_HOOKS),
))
