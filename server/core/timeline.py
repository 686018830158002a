"""The morning's check-in curve, from the journal's facts.

``Timeline`` is fed the facts of one event in journal order (incrementally:
the I/O shell feeds it only what was appended since the last call) and keeps
each change to the two cumulative figures, points checked in and attendees,
with the time it happened. ``series`` cuts those changes into buckets.

The rules mirror the fold (server/core/points/folds.py), so the last bucket agrees
with the live totals: a message id applied once counts once, a count for a
point not checked in is ignored, a deleted point takes its contribution
away, and a point created again starts from nothing. Presence (online) is
not in the journal, so it is not in the timeline.

Pure: no I/O, no clock (the caller passes ``now_ms``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest

MIN_BUCKET_S = 1
MAX_BUCKET_S = 3600
# At most this many buckets in one answer (a day of minutes); older buckets
# are dropped from the front, the cumulative figures stay exact.
MAX_BUCKETS = 1440


@dataclass(slots=True)
class _PointTrack:
    checked_in: bool = False
    attendees: int = 0
    applied: set[str] = field(default_factory=set)


@dataclass(slots=True, frozen=True)
class Change:
    at_ms: float
    checked_in: int  # +1 a first check-in, -1 a checked-in point deleted, else 0
    attendees: int  # the change in the attendee total


class Timeline:
    """Changes to the cumulative figures, fed fact by fact."""

    __slots__ = ("_points", "_sorted", "changes", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self._points: dict[str, _PointTrack] = {}
        self.changes: list[Change] = []
        self._sorted = True

    def feed(self, seq: int, fact: Any) -> None:
        """Take one fact (journal position ``seq``); facts already seen are skipped."""
        if seq <= self.seq:
            return
        self.seq = seq
        if isinstance(fact, f.PointUpserted):
            self._points.setdefault(fact.code, _PointTrack())
        elif isinstance(fact, f.PointDeleted):
            track = self._points.pop(fact.code, None)
            if track is not None and track.checked_in:
                self._add(Change(fact.at_ms, -1, -track.attendees))
        elif isinstance(fact, f.CheckedIn):
            track = self._points.get(fact.code)
            if track is None or fact.msg_id in track.applied:
                return
            track.applied.add(fact.msg_id)
            first = not track.checked_in
            self._add(Change(fact.at_ms, 1 if first else 0, fact.attendees - (0 if first else track.attendees)))
            track.checked_in = True
            track.attendees = fact.attendees
        elif isinstance(fact, f.AttendeesCounted):
            track = self._points.get(fact.code)
            if track is None or fact.msg_id in track.applied or not track.checked_in:
                return
            track.applied.add(fact.msg_id)
            if fact.count != track.attendees:
                self._add(Change(fact.at_ms, 0, fact.count - track.attendees))
            track.attendees = fact.count

    def feed_all(self, entries: list[tuple[int, Any]]) -> Timeline:
        for seq, fact in entries:
            self.feed(seq, fact)
        return self

    def _add(self, change: Change) -> None:
        # Facts decided in several processes may be a few ms out of order.
        if self.changes and change.at_ms < self.changes[-1].at_ms:
            self._sorted = False
        self.changes.append(change)

    def totals(self) -> tuple[int, int]:
        """(checked in, attendees) after every fact fed."""
        return (sum(1 for t in self._points.values() if t.checked_in),
                sum(t.attendees for t in self._points.values() if t.checked_in))

    def series(self, bucket_ms: float, now_ms: float, from_ms: float | None = None) -> list[dict[str, Any]]:
        """Buckets ``[start_ms, end_ms)`` from the first change (or ``from_ms``)
        to ``now_ms``, aligned on multiples of ``bucket_ms`` since the epoch.

        Each bucket: ``checked_in`` and ``attendees`` as they stood at its end
        (cumulative since the start of the journal), ``checkins`` the first
        check-ins inside it. No changes and no ``from_ms``: no buckets.
        """
        if not self._sorted:
            self.changes.sort(key=lambda c: c.at_ms)
            self._sorted = True
        changes = self.changes
        if from_ms is None:
            if not changes:
                return []
            from_ms = changes[0].at_ms
        start = (from_ms // bucket_ms) * bucket_ms
        end = max(now_ms, start)
        count = int((end - start) // bucket_ms) + 1
        if count > MAX_BUCKETS:
            start += (count - MAX_BUCKETS) * bucket_ms
            count = MAX_BUCKETS
        # Everything before the first bucket is its starting point.
        times = [c.at_ms for c in changes]
        i = bisect.bisect_left(times, start)
        checked_in = sum(c.checked_in for c in changes[:i])
        attendees = sum(c.attendees for c in changes[:i])
        out: list[dict[str, Any]] = []
        for k in range(count):
            lo = start + k * bucket_ms
            hi = lo + bucket_ms
            first = 0
            while i < len(changes) and changes[i].at_ms < hi:
                c = changes[i]
                checked_in += c.checked_in
                attendees += c.attendees
                first += c.checked_in if c.checked_in > 0 else 0
                i += 1
            out.append({"start_ms": lo, "end_ms": hi, "checked_in": checked_in, "attendees": attendees,
                        "checkins": first})
        return out


def bucket_seconds(raw: str | None, default: int = 60) -> int:
    """The ``bucket_s`` query parameter: a whole number of seconds, 1 to 3600."""
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not MIN_BUCKET_S <= int(raw) <= MAX_BUCKET_S:
        raise BadRequest(f"bucket_s must be a whole number of seconds from {MIN_BUCKET_S} to {MAX_BUCKET_S}",
                         code="validation_error", details=[{"field": "bucket_s", "message": "1 to 3600"}])
    return int(raw)


def timeline_view(timeline: Timeline, bucket_s: int, now_ms: float, from_ms: float | None = None,
                  ) -> dict[str, Any]:
    """The answer of ``GET /timeline`` (docs/protocol.md#timeline)."""
    checked_in, attendees = timeline.totals()
    return {
        "bucket_s": bucket_s,
        "as_of_ms": now_ms,
        "seq": timeline.seq,
        "checked_in": checked_in,
        "attendees": attendees,
        "buckets": timeline.series(bucket_s * 1000.0, now_ms, from_ms),
    }
