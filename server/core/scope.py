"""Desks: what a scoped organizer token sees (docs/protocol.md#desks).

A desk's token carries a scope, one point of one event; it sees that point
and its whole subtree, nothing else. Every view that a desk may read is
filtered here, in one place: :class:`Visible` answers "is this point the
desk's?", and :func:`totals` rolls up the subtree the way the event's
totals roll up the whole tree. Pure: the state and the time are passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from server.core.state import EventState
from server.core.totals import Totals

MAX_DEPTH = 64  # a tree deeper than this is not a registry (loops are refused on import anyway)


@dataclass(frozen=True, slots=True)
class Scope:
    event: str
    point: str

    def view(self) -> dict[str, str]:
        return {"event": self.event, "point": self.point}


def ancestors(state: EventState, code: str) -> list[str]:
    """``code`` and the points above it, nearest first."""
    out: list[str] = []
    cur: str | None = code
    while cur is not None and len(out) < MAX_DEPTH:
        point = state.points.get(cur)
        if point is None or cur in out:
            break
        out.append(cur)
        cur = point.parent
    return out


def in_subtree(state: EventState, root: str, code: str) -> bool:
    """Whether ``code`` is ``root`` or below it."""
    return root in ancestors(state, code)


def _subtree(state: EventState, root: str) -> tuple[list[str], frozenset[str]]:
    """The subtree's codes, in the event's order, cached in the state's derived
    part until a point comes, goes or moves (``Live.tree_version``): one pass
    over the points per change of the tree, not per question."""
    live = state.live
    hit = live.subtrees.get(root)
    if hit is not None and hit[0] == live.tree_version:
        return hit[1], hit[2]
    if root not in state.points:
        codes: list[str] = []
    else:
        inside: dict[str, bool] = {root: True}

        def below(code: str) -> bool:
            path: list[str] = []
            cur: str | None = code
            found = False
            while cur is not None and len(path) < MAX_DEPTH:
                known = inside.get(cur)
                if known is not None:
                    found = known
                    break
                path.append(cur)
                point = state.points.get(cur)
                cur = point.parent if point is not None else None
            for c in path:
                inside[c] = found
            return found

        codes = [c for c in state.points if below(c)]
    entry = (live.tree_version, codes, frozenset(codes))
    live.subtrees[root] = entry
    return entry[1], entry[2]


class Visible:
    """The points one desk may see: ``root`` and its subtree, as the state
    stands when asked (a point moved out of the subtree drops out at once)."""

    __slots__ = ("root", "state")

    def __init__(self, state: EventState, root: str) -> None:
        self.state = state
        self.root = root

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in _subtree(self.state, self.root)[1]

    def codes(self) -> list[str]:
        """Every point of the subtree, in the event's order."""
        return _subtree(self.state, self.root)[0]

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes())

    def __len__(self) -> int:
        return len(self.codes())


def totals(state: EventState, visible: Visible, as_of_ms: float) -> dict[str, Any]:
    """The ``totals`` object of the protocol over the subtree only: ``points``
    is the subtree's size, and every bucket counts the subtree's points."""
    live = state.live
    t = Totals()
    for code in visible.codes():
        p = state.points[code]
        t.add(p.level, live.district_of.get(code), state.contribution(p), +1, live.group_of.get(code))
    t.incidents_open = sum(n for code, n in live.open_incidents.items() if code in visible)
    return t.to_dict(as_of_ms, state.district_name, live.group_level)


def desk_progress(state: EventState, roots: list[str], online: Any = None) -> dict[str, dict[str, int]]:
    """For each desk's root, its subtree's progress, in one pass over the
    points (each walks up its few ancestors): points, checked_in, online,
    attendees, expected, incidents_open."""
    wanted = set(roots)
    out = {r: {"points": 0, "checked_in": 0, "online": 0, "attendees": 0, "expected": 0, "incidents_open": 0}
           for r in roots}
    if not wanted:
        return out
    open_incidents = state.live.open_incidents
    for code, p in state.points.items():
        for root in ancestors(state, code):
            if root in wanted:
                row = out[root]
                checked, on, attendees, expected = state.contribution(p)
                row["points"] += 1
                row["checked_in"] += checked
                row["online"] += on
                row["attendees"] += attendees
                row["expected"] += expected
                row["incidents_open"] += open_incidents.get(code, 0)
    return out
