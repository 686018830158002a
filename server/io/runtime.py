"""One event at run time: its state, its journal tail, its sockets.

The fold is driven by the journal's tail, not by the handler that appended:
``commit`` appends, then waits until the tail has applied its facts. With the
embedded journal that is the same process a moment later; with a shared
journal every process folds the same facts in the same order. Side effects
(pushes, console deltas, closing a rotated token's sockets) follow from the
facts as they are applied, so they happen in every process too.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import structlog

from server.core import fold as st
from server.core import launch as ln
from server.core import scope
from server.core.errors import Unavailable
from server.core.points import incident_view, point_view
from server.core.scope import Visible
from server.io.clock import now_ms
from server.io.journal import Entry, Journal, JournalRewound
from server.io.wiring import WIRING, Wiring
from server.io.ws.hub import CLOSE_SERVICE_RESTART, Room

log = structlog.get_logger("launchday.runtime")

DELTA_INTERVAL_S = 0.2  # at most 5 console frames a second (docs/protocol.md#console)
SNAPSHOT_EVERY = 10_000  # facts between snapshots: bounds replay work at restart


@dataclass(slots=True)
class Changes:
    """What one console delta carries: changed points, incidents, removed
    points, points whose ``fired_ms`` changed; and the first and last sorted by
    desk root (``_send_delta``)."""

    points: set[str]
    incidents: set[str]
    removed: set[str]
    fired: set[str]
    desk_points: dict[str, list[str]] = field(default_factory=dict)
    desk_fired: dict[str, list[str]] = field(default_factory=dict)


class Events(Protocol):
    """What holds a process's running events (the store), as the parts that
    watch them (presence, the collector policy) see it: they never import the
    store, which starts them."""

    events: dict[str, EventRuntime]

    async def open(self) -> None: ...


class EventRuntime:
    def __init__(self, journal: Journal, state: st.EventState, snapshot_seq: int = 0,
                 wiring: Wiring = WIRING) -> None:
        self.journal = journal
        self.wiring = wiring  # the tables of server/io/wiring.py (a test may pass others)
        self.state = state
        self.id = state.info.id
        self.room = Room()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._waiter_ids = 0
        self._tail_task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._snapshot_seq = snapshot_seq
        self._snapshotting = False
        self.dirty_points: set[str] = set()
        self.removed_points: set[str] = set()
        self.dirty_incidents: set[str] = set()
        self.fired_points: set[str] = set()  # their fired_ms changed: the delta's compact "fired"
        self.dirty_other = False
        self.rebuilds_seen = state.live.rebuilds  # server/io/effects.py: regrouped()
        # The points each desk's consoles were shown, by root: a point that
        # leaves a subtree is sent as removed to that desk only.
        self.desk_shown: dict[str, set[str]] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.log = log.bind(event_id=self.id)
        # Set when the tail stopped on a fact this process cannot fold: the
        # event refuses writes and /healthz says why (never a silent skip).
        self.failed: str | None = None
        # Set by the store: tells the other processes of a cluster who is connected here.
        self.presence_board: Any = None
        # Set by the store: called when this event's deletion is folded.
        self.on_deleted: Callable[[EventRuntime], None] | None = None

    @classmethod
    async def load(cls, journal: Journal, stream: str) -> EventRuntime:
        snap = await journal.load_snapshot(stream)
        state = st.restore(orjson.loads(snap[1])) if snap else None
        entries = await journal.read(stream, state.seq if state else 0)
        if entries or state is None:
            state = st.fold_facts(entries, state)
        return cls(journal, state, snap[0] if snap else 0)

    def start(self) -> None:
        self._tail_task = asyncio.create_task(self._tail(), name=f"tail-{self.id}")
        for hook in self.wiring.start_hooks.values():
            if hook is not None:
                hook(self)

    async def stop(self) -> None:
        for timer in self.timers.values():
            timer.cancel()
        for task in (self._tail_task, self._ticker):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.save_snapshot()

    # -- commit and the fold --------------------------------------------------

    async def commit(self, facts: list[Any], expect_seq: int | None = None) -> int:
        """Append durably, then return once this process has folded the facts."""
        self._refuse_if_failed()  # nothing is appended to an event this process cannot fold
        seq = await self.journal.append(self.id, facts, expect_seq)
        await self.wait_seq(seq)
        return seq

    def _refuse_if_failed(self) -> None:
        if self.failed is not None:
            raise Unavailable(f"this event cannot be folded here: {self.failed}", code="unavailable")

    async def wait_seq(self, seq: int) -> None:
        """Return once this process has folded the journal up to ``seq``."""
        self._refuse_if_failed()
        if self.state.seq < seq:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiter_ids += 1
            heapq.heappush(self._waiters, (seq, self._waiter_ids, future))
            await future

    async def _tail(self) -> None:
        while self.failed is None:
            try:
                async for entries in self.journal.tail(self.id, self.state.seq):
                    self.apply_entries(entries)
                    if self.failed is not None:
                        return
            except JournalRewound as exc:
                await self._rebuild(str(exc))

    async def _rebuild(self, why: str) -> None:
        """The journal lost history this process had folded (a failover that
        rewound): fold it again as it now is, and make every screen start over."""
        self.log.error("journal_rewound", reason=why, seq=self.state.seq)
        fresh = await EventRuntime.load(self.journal, self.id)
        self.state = fresh.state
        self._snapshot_seq = fresh._snapshot_seq
        self.room.close_all(CLOSE_SERVICE_RESTART, "state rebuilt; reconnect")

    def _fail(self, reason: str) -> None:
        self.failed = reason
        self.log.critical("tail_stopped", reason=reason, seq=self.state.seq)
        for _, _, future in self._waiters:
            if not future.done():
                future.set_exception(Unavailable(f"this event cannot be folded here: {reason}",
                                                 code="unavailable"))
        self._waiters = []

    def apply_entries(self, entries: list[Entry]) -> None:
        for seq, fact in entries:
            if seq <= self.state.seq:
                continue
            if seq != self.state.seq + 1:
                self._fail(f"the journal skipped from seq {self.state.seq} to {seq}")
                return
            try:
                st.apply(self.state, fact, seq)
            except st.UnknownFact as exc:
                # Never skip what we cannot fold: a snapshot would seal the loss.
                self._fail(f"{exc}; upgrade this process")
                return
            except Exception:  # a bug in one fold: every process of this version fails alike
                self.log.exception("apply_failed", seq=seq, fact_type=fact.type)
                self.state.seq = seq
            for hook in self.wiring.effects.get(fact.type, ()):
                try:
                    hook(self, seq, fact)
                except Exception:  # an effect is this process's sockets only
                    self.log.exception("effect_failed", seq=seq, fact_type=fact.type)
        while self._waiters and self._waiters[0][0] <= self.state.seq:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
        if self.state.seq - self._snapshot_seq >= SNAPSHOT_EVERY and not self._snapshotting:
            asyncio.get_running_loop().create_task(self.save_snapshot())

    async def save_snapshot(self) -> None:
        if self.state.seq <= self._snapshot_seq:
            return
        self._snapshotting = True
        try:
            seq = self.state.seq
            data = orjson.dumps(st.snapshot_parts(self.state))
            await self.journal.save_snapshot(self.id, seq, data)
            self._snapshot_seq = seq
        finally:
            self._snapshotting = False

    # -- console deltas ---------------------------------------------------------

    def touch(self, code: str | None = None) -> None:
        """Something the console shows changed; it goes out with the next delta."""
        if code is None:
            self.dirty_other = True
        else:
            self.dirty_points.add(code)
        if self._ticker is None and self.room.has_consoles:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def presence_changed(self, code: str) -> None:
        """A socket of ``code`` opened or closed here, or its clock figures changed."""
        self.touch(code)
        if self.presence_board is not None:
            self.presence_board.changed(self, code)

    def ensure_ticker(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        """Coalesce: one delta per interval at most, built once for every console."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        try:
            while self.room.has_consoles:
                # A fixed rate, not "sleep after the work": the sleep's own
                # lateness does not push every later delta back. But never two
                # deltas less than an interval apart (at most 5 in any second):
                # the next is due an interval after this one was sent.
                due += DELTA_INTERVAL_S
                await asyncio.sleep(max(0.0, due - loop.time()))
                if (self.dirty_points or self.dirty_incidents or self.removed_points or self.fired_points
                        or self.dirty_other):
                    self._send_delta(self._take_dirty())
                due = max(due, loop.time())
        finally:
            self._ticker = None

    def views(self) -> dict[str, Any]:
        """The welcome's and snapshot's parts beside the points (agenda, launch: wiring.VIEWS)."""
        return {name: view(self) for name, view in self.wiring.views.items()}

    def totals(self) -> dict[str, Any]:
        return self.state.totals_view(now_ms())

    def _take_dirty(self) -> Changes:
        taken = Changes(self.dirty_points, self.dirty_incidents, self.removed_points, self.fired_points)
        self.dirty_points = set()
        self.dirty_incidents = set()
        self.removed_points = set()
        self.fired_points = set()
        self.dirty_other = False
        return taken

    def delta_frame(self, ch: Changes, desk: str | None = None) -> dict[str, Any]:
        """A delta of these changes, for the province or (``desk``, a root) for
        one desk's consoles: its subtree's points, incidents and totals only. A
        point that left the subtree (moved or deleted) is in its ``removed``
        if the desk was shown it (docs/protocol.md#desks)."""
        state = self.state
        visible = None if desk is None else Visible(state, desk)
        mine = ch.points if desk is None else ch.desk_points.get(desk, ())
        fired = ch.fired if desk is None else ch.desk_fired.get(desk, ())
        points = [point_view(state, state.points[c]) for c in mine if c in state.points]
        incidents = [incident_view(state, inc) for i in ch.incidents if (inc := state.incidents.get(i)) is not None
                     and (visible is None or inc.point in visible)]
        frame: dict[str, Any] = {
            "type": "delta",
            "seq": state.seq,
            "totals": self.totals() if visible is None else scope.totals(state, visible, now_ms()),
            "points": points,
            "incidents": incidents,
        }
        if fired:
            # A point's screen fired (or a reset cleared it): its fired_ms only, not
            # its whole view; at the fire that is every point at once (docs/protocol.md#console).
            frame["fired"] = {c: ln.fired_ms(state, c) for c in fired if c in state.points}
        if visible is None:
            gone = ch.removed
        else:
            shown = self.desk_shown.setdefault(desk or "", set())
            gone = {c for c in shown.intersection(ch.removed) | shown.intersection(ch.points) if c not in visible}
            shown.difference_update(gone)
            shown.update(p["code"] for p in points)
        if gone:
            frame["removed"] = sorted(gone)
        for name, extra in self.wiring.delta_extras.items():
            frame[name] = extra(self, visible)
        return frame

    def _send_delta(self, ch: Changes) -> None:
        """One delta for the province's consoles, and one per desk root for the
        desks' consoles. The changed points are sorted into the desks' subtrees
        once, each by a walk up its few ancestors: the cost grows with the
        changes, not with changes x desks (200 desks in a launch burst)."""
        if self.room.desks:
            ch.desk_points = self._by_desk(ch.points)
            ch.desk_fired = self._by_desk(ch.fired)
        self.room.broadcast_consoles(self.delta_frame(ch), lambda root: self.delta_frame(ch, root))

    def _by_desk(self, codes: set[str]) -> dict[str, list[str]]:
        buckets: dict[str, list[str]] = {root: [] for root in self.room.desks}
        for code in codes:
            for above in scope.ancestors(self.state, code):
                bucket = buckets.get(above)
                if bucket is not None:
                    bucket.append(code)
        return buckets

    def show_desk(self, desk: str, codes: list[str]) -> None:
        """A desk's console was sent these points (its snapshot)."""
        self.desk_shown.setdefault(desk, set()).update(codes)

