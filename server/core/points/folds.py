"""The folds of the point registry's facts: each applies one fact to the state.

Total: a fact decided on a state that changed before it was folded (a race
between processes or requests) folds as a no-op, never as an error, so old
journals replay unchanged.
"""

from __future__ import annotations

from server.core import facts as f
from server.core.points.validation import POINT_FIELDS, would_cycle
from server.core.state import EventState, Incident, Point
from server.core.text import fold


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
        # and group are its own or its parent's, already known; no rebuild.
        state.points[fact.code] = point = Point(token=fact.token, **values)
        live.tree_version += 1
        live.by_token[fact.token] = fact.code
        live.search[fact.code] = fold(f"{fact.code} {fact.name}")
        live.district_of[fact.code] = (fact.code if fact.level == "district"
                                       else live.district_of.get(fact.parent) if fact.parent else None)
        live.group_of[fact.code] = (fact.code if fact.level == live.group_level
                                    else live.group_of.get(fact.parent) if fact.parent else None)
        live.totals.add(point.level, live.district_of[fact.code], state.contribution(point), +1,
                        live.group_of[fact.code])
        state.regroup_if_needed()  # the first district, the second commune: the default level moves
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
    live.totals.add(point.level, live.district_of.get(fact.code), state.contribution(point), -1,
                    live.group_of.get(fact.code))
    for inc in state.incidents.values():  # a deleted point's incidents are closed with it
        if inc.point == fact.code and inc.open:
            inc.resolved_ms = fact.at_ms
            inc.resolved_by = "point deleted"
            live.totals.incidents_open -= 1
    live.open_incidents.pop(fact.code, None)
    del state.points[fact.code]
    live.tree_version += 1
    live.presence.pop(fact.code, None)
    live.by_token.pop(point.token, None)
    live.search.pop(fact.code, None)
    live.district_of.pop(fact.code, None)
    live.group_of.pop(fact.code, None)
    state.regroup_if_needed()


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
        state.live.totals.shift_attendees(point.level, state.live.district_of.get(fact.code), delta,
                                          state.live.group_of.get(fact.code))
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
