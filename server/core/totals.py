"""Incremental roll-up counters: overall, by level, by district, by group.

A change of one point subtracts its old contribution and adds its new one,
so the totals cost O(1) per change, never a scan of a thousand points.
See docs/protocol.md#totals for the shape.
"""

from __future__ import annotations

from typing import Any


class Bucket:
    __slots__ = ("attendees", "checked_in", "expected", "online", "points")

    def __init__(self) -> None:
        self.points = 0
        self.checked_in = 0
        self.online = 0
        self.attendees = 0
        self.expected = 0

    def add(self, contribution: tuple[int, int, int, int], sign: int) -> None:
        checked_in, online, attendees, expected = contribution
        self.points += sign
        self.checked_in += sign * checked_in
        self.online += sign * online
        self.attendees += sign * attendees
        self.expected += sign * expected

    def to_dict(self) -> dict[str, int]:
        return {
            "points": self.points,
            "checked_in": self.checked_in,
            "online": self.online,
            "attendees": self.attendees,
            "expected": self.expected,
        }


class Totals:
    __slots__ = ("all", "by_district", "by_group", "by_level", "incidents_open")

    def __init__(self) -> None:
        self.all = Bucket()
        self.by_level: dict[str, Bucket] = {}
        self.by_district: dict[str, Bucket] = {}
        self.by_group: dict[str, Bucket] = {}  # at the event's group level (server/core/grouping.py)
        self.incidents_open = 0

    def add(
        self,
        level: str,
        district: str | None,
        contribution: tuple[int, int, int, int],
        sign: int,
        group: str | None = None,
    ) -> None:
        self.all.add(contribution, sign)
        bucket = self.by_level.get(level)
        if bucket is None:
            bucket = self.by_level[level] = Bucket()
        bucket.add(contribution, sign)
        if district is not None:
            bucket = self.by_district.get(district)
            if bucket is None:
                bucket = self.by_district[district] = Bucket()
            bucket.add(contribution, sign)
        if group is not None:
            bucket = self.by_group.get(group)
            if bucket is None:
                bucket = self.by_group[group] = Bucket()
            bucket.add(contribution, sign)

    def shift_attendees(self, level: str, district: str | None, delta: int, group: str | None = None) -> None:
        """A checked-in point's count changed by ``delta``: only the attendees
        figures move (the hot path of the fold: an ``attendees`` update)."""
        self.all.attendees += delta
        self.by_level[level].attendees += delta  # the point's own add created these buckets
        if district is not None:
            self.by_district[district].attendees += delta
        if group is not None:
            self.by_group[group].attendees += delta

    def to_dict(self, as_of_ms: float, district_name: Any, group_level: str | None = None) -> dict[str, Any]:
        """The ``totals`` object of the protocol; ``district_name(code)`` names
        districts and groups (a point's name), ``group_level`` is the level of
        every group (the event's effective group level)."""
        return {
            "as_of_ms": as_of_ms,
            **self.all.to_dict(),
            "incidents_open": self.incidents_open,
            "by_level": {lvl: b.to_dict() for lvl, b in sorted(self.by_level.items()) if b.points},
            "by_district": {
                code: {"name": district_name(code), **b.to_dict()}
                for code, b in sorted(self.by_district.items())
                if b.points
            },
            "group_level": group_level,
            "by_group": {
                code: {"name": district_name(code), "level": group_level, **b.to_dict()}
                for code, b in sorted(self.by_group.items())
                if b.points
            },
        }
