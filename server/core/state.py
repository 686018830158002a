"""Event state: the fold of the journal's facts, plus derived and ephemeral views.

``EventState`` holds what the facts say (snapshotted and restored). Its
``live`` part is derived (the token index, the district and the group of each point, the
roll-up counters) or ephemeral (presence, clock-sync figures): it is rebuilt
on restore and never journaled.

The fold itself (``apply``, ``snapshot``, ``restore``) is in
:mod:`server.core.fold`, with the complete table of fact types. It is total: a fact whose
precondition no longer holds when it is applied (two sockets of one point
racing, a repeated message id) is a no-op, so the fold is the same in every
process that reads the same journal, whatever order the deciders ran in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.grouping import default_group_level
from server.core.text import fold
from server.core.totals import Totals


@dataclass(slots=True)
class EventInfo:
    id: str
    name: str
    starts_at: str
    report_deadline: str
    timezone: str
    created_ms: float
    deleted_ms: float | None = None
    group_level: str | None = None  # as set; None: the default (server/core/grouping.py)


@dataclass(slots=True)
class Point:
    code: str
    name: str
    level: str
    parent: str | None
    chair: str
    phone: str
    expected: int
    token: str
    checked_in: bool = False
    attendees: int = 0
    checked_in_ms: float | None = None
    updated_ms: float | None = None
    lat: float | None = None  # optional coordinates (docs/protocol.md#import)
    lon: float | None = None
    # message id -> the extra fields of its ack; durable, so a replayed id is
    # answered, not applied, across reconnects and restarts.
    applied: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(slots=True)
class Incident:
    id: str
    point: str
    kind: str
    note: str
    opened_ms: float
    resolved_ms: float | None = None
    resolved_by: str | None = None

    @property
    def open(self) -> bool:
        return self.resolved_ms is None


@dataclass(slots=True)
class Presence:
    """Ephemeral: who is connected now, and the last clock-sync figures.

    ``sockets`` are this process's own; ``remote`` is what the other processes
    of a cluster say they hold (server/io/presence.py), so ``online`` is the
    same in every process. The clock figures are the newest of either."""

    sockets: int = 0
    last_seen_ms: float | None = None
    offset_ms: float | None = None
    rtt_ms: float | None = None
    remote: int = 0
    crowded: bool = False  # an upgrade was refused for too many sockets (docs/protocol.md#limits)
    remote_crowded: bool = False  # another process of the cluster refused one
    secure: bool | None = None  # the page's secure context, from time.sync (None: not said)


class Live:
    """Derived indexes and counters, and presence; rebuilt, never journaled."""

    __slots__ = (
        "by_token",
        "district_of",
        "group_level",
        "group_of",
        "open_incidents",
        "presence",
        "rebuilds",
        "search",
        "subtrees",
        "totals",
        "tree_version",
    )

    def __init__(self) -> None:
        self.by_token: dict[str, str] = {}
        self.district_of: dict[str, str | None] = {}
        # The effective group level (set or defaulted) and each point's group at it.
        self.group_level: str | None = None
        self.group_of: dict[str, str | None] = {}
        self.rebuilds = 0  # how many times rebuild() ran: a shell re-sends every point's view when it moves
        # Moves whenever a point comes, goes or changes parent: the desks' subtrees
        # (server/core/scope.py) are cached by root against it.
        self.tree_version = 0
        self.subtrees: dict[str, tuple[int, list[str], frozenset[str]]] = {}
        self.search: dict[str, str] = {}
        self.open_incidents: dict[str, int] = {}
        self.presence: dict[str, Presence] = {}
        self.totals = Totals()


@dataclass(slots=True)
class EventState:
    info: EventInfo
    seq: int = 0
    points: dict[str, Point] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    # State kept by other core modules (agenda, launch), by name; each module
    # creates its part lazily and registers an Extension to snapshot it.
    ext: dict[str, Any] = field(default_factory=dict)
    live: Live = field(default_factory=Live, compare=False, repr=False)

    # -- derived views ---------------------------------------------------

    def presence(self, code: str) -> Presence:
        pres = self.live.presence.get(code)
        if pres is None:
            pres = self.live.presence[code] = Presence()
        return pres

    def online(self, code: str) -> bool:
        pres = self.live.presence.get(code)
        return pres is not None and (pres.sockets > 0 or pres.remote > 0)

    def district_name(self, code: str) -> str:
        point = self.points.get(code)
        return point.name if point else code

    def totals_view(self, as_of_ms: float) -> dict[str, Any]:
        """The ``totals`` object of the protocol (docs/protocol.md#totals)."""
        return self.live.totals.to_dict(as_of_ms, self.district_name, self.live.group_level)

    def contribution(self, point: Point) -> tuple[int, int, int, int]:
        """(checked_in, online, attendees, expected) that one point adds to totals."""
        return (
            1 if point.checked_in else 0,
            1 if self.online(point.code) else 0,
            point.attendees if point.checked_in else 0,
            point.expected,
        )

    def rebuild(self) -> None:
        """Recompute every derived index and counter from the points (after a
        restore or a change of the tree's shape)."""
        live = self.live
        live.rebuilds += 1
        live.tree_version += 1
        live.by_token = {p.token: p.code for p in self.points.values()}
        live.search = {c: fold(f"{p.code} {p.name}") for c, p in self.points.items()}
        live.district_of = self.districts()
        live.group_level = level = self.effective_group_level(recount=True)
        live.group_of = self.nearest(level) if level is not None else dict.fromkeys(self.points)
        live.open_incidents = {}
        for inc in self.incidents.values():
            if inc.open:
                live.open_incidents[inc.point] = live.open_incidents.get(inc.point, 0) + 1
        live.totals = Totals()
        for p in self.points.values():
            live.totals.add(p.level, live.district_of[p.code], self.contribution(p), +1, live.group_of[p.code])
        live.totals.incidents_open = sum(live.open_incidents.values())

    def effective_group_level(self, *, recount: bool = False) -> str | None:
        """The level the roll-up groups by: the event's own, or the default
        from the number of points of each level: the live counters' (O(levels))
        or, with ``recount``, the points' own (a rebuild, O(points))."""
        if self.info.group_level is not None:
            return self.info.group_level
        if not recount:
            by_level = self.live.totals.by_level
            return default_group_level(lambda lvl: b.points if (b := by_level.get(lvl)) else 0)
        counts: dict[str, int] = {}
        for p in self.points.values():
            counts[p.level] = counts.get(p.level, 0) + 1
        return default_group_level(lambda lvl: counts.get(lvl, 0))

    def regroup_if_needed(self) -> None:
        """After a point came or went, or the event's group level was edited:
        when the effective level moved (the first district, the second
        commune), recompute every derived view. At most a few times per import."""
        if self.effective_group_level() != self.live.group_level:
            self.rebuild()

    def group_name(self, code: str | None) -> str | None:
        return self.district_name(code) if code is not None else None

    def districts(self) -> dict[str, str | None]:
        return self.nearest("district")

    def nearest(self, level: str) -> dict[str, str | None]:
        """Every point's nearest point at ``level`` on its way up (itself if
        at it), in time linear in the points: each walk up stops at the first
        point already resolved (a 50,000-deep chain costs 50,000 steps, not
        50,000²)."""
        out: dict[str, str | None] = {}
        for start in self.points:
            path: list[str] = []
            on_path: set[str] = set()
            cur: str | None = start
            found: str | None = None
            while cur is not None and cur not in out:
                point = self.points.get(cur)
                if point is None or cur in on_path:
                    break  # a dangling parent, or a loop (neither is stored; be safe)
                if point.level == level:
                    found = cur
                    break
                path.append(cur)
                on_path.add(cur)
                cur = point.parent
            else:
                if cur is not None:
                    found = out[cur]
            if found is not None and found not in out:
                out[found] = found
            for code in path:
                out[code] = found
        return out

    def find_district(self, code: str) -> str | None:
        seen: set[str] = set()
        cur: str | None = code
        while cur is not None and cur not in seen:
            seen.add(cur)
            point = self.points.get(cur)
            if point is None:
                return None
            if point.level == "district":
                return cur
            cur = point.parent
        return None

    def change_point(self, code: str, mutate: Callable[[Point], None]) -> None:
        """Apply ``mutate`` to a point, keeping the roll-up counters exact."""
        point = self.points[code]
        district = self.live.district_of.get(code)
        group = self.live.group_of.get(code)
        self.live.totals.add(point.level, district, self.contribution(point), -1, group)
        mutate(point)
        self.live.totals.add(point.level, district, self.contribution(point), +1, group)


# -- parts kept by other core modules ------------------------------------


class Extension:
    """A part of the state kept by another core module (agenda, launch, reports).

    The complete list of extensions, like the complete table of folds, is in
    :mod:`server.core.fold`: nothing registers itself by being imported.
    """

    def dump(self, state: EventState) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def load(self, state: EventState, data: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def new_state(fact: f.EventCreated) -> EventState:
    return EventState(
        info=EventInfo(
            id=fact.event_id,
            name=fact.name,
            starts_at=fact.starts_at,
            report_deadline=fact.report_deadline,
            timezone=fact.timezone,
            created_ms=fact.at_ms,
            group_level=fact.group_level,
        )
    )
