"""The collector policy: keep full collections off the morning's event loop.

Why. A full (generation 2) collection walks every tracked object of the
process. At 10,000 connected points that is 0.5–1.4 s during which the event
loop stands still, and with the default thresholds one comes along every few
seconds while objects are being created: in a launch burst, a press, its
fan-out and every ack wait for it (docs/benchmarks.md). Most of those objects
live all morning (the state, each connection's request, protocol, transport
and WebSocket objects), so walking them again and again finds nothing.

What. ``gc.freeze()`` moves every object the collector tracks into a
permanent generation that collections skip. We freeze what is long-lived:

1. **after the store loads** (``start``): a full collection first (nothing
   is connected yet), then freeze: the replayed state is never walked again;
2. **after a bulk import** (``after_import``, called by the import handler):
   freeze the new points and their indexes (no collection first: they are alive);
3. **as connections come and settle** (the watcher, every ``CHECK_S``):
   freeze when the number of open sockets has changed by ``SETTLE_MIN`` since
   the last freeze and has then been stable for ``SETTLE_S``, or has grown by
   ``GROW_STEP`` (so 10,000 phones connecting never leave more than a couple
   of hundred connections' objects for a full collection to walk);
4. **after a full collection that took longer than** ``SLOW_PAUSE_S``: it
   just left only live objects in the old generation, the best moment to
   freeze them.

And **no automatic collection at all in a launch's window** (``hold_for_launch``:
from the arming to ``GC_OFF_AFTER_FIRE_S`` after the fire, ``GC_OFF_MAX_S``
at most): measured at 10,000 points with only the rules above, the launch
window still had four full collections of 0.1–0.25 s of CPU each, over what
the burst itself allocates (the firing reports, the frames' objects).

A freeze itself costs microseconds (it splices lists): it is done before a
young collection's survivors pile up, so young garbage is not frozen.

The cost, and the unfreeze rule. A frozen object that later becomes cyclic
garbage is never collected while it stays frozen. Point and state objects
die by reference counting and are not affected; what is affected is a closed
connection: aiohttp's request, protocol, transport and WebSocket objects form
cycles. Measured (1,000 connections opened, frozen and closed, in-process,
``gc.DEBUG_SAVEALL``): 34 objects and about 6.7 KB (shallow sizes) per closed
connection stay behind. So: **refreeze** (``gc.unfreeze(); gc.collect();
gc.freeze()``) once ``REFREEZE_CLOSED`` connections have closed since the
last refreeze (~35 MB held) or when asked to (a deleted point closes its
sockets: ``request_refreeze``), and only at a quiet moment: no launch armed,
counting down, or fired less than ``QUIET_AFTER_FIRE_S`` ago in any event,
the number of sockets stable for ``SETTLE_S``, and **few sockets open** (at
most ``REFREEZE_IDLE`` of the peak): a refreeze walks everything, and with
10,000 sockets open it took 1.6 s of CPU (measured in the bench), which
nobody connected should wait for. Only past ``REFREEZE_CLOSED_MAX`` closed
sockets (~335 MB held) does it run with everyone connected, at a quiet moment.

Thresholds are left at Python's defaults: with the old generation frozen,
young collections walk only what was allocated since, and the automatic
full collections walk only what was not yet frozen.

All of this is per process (``gc`` is process-wide state); ``stop`` undoes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
import weakref
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter, Gauge, Histogram

from server.core import launch as ln
from server.io import metrics
from server.io.clock import now_ms

if TYPE_CHECKING:
    from server.io.runtime import Events

log = structlog.get_logger("launchday.gc")

CHECK_S = 0.25
SETTLE_S = 2.0
SETTLE_MIN = 50
GROW_STEP = 200  # at 500, full collections between freezes took 20-50 ms of CPU (10,000-point bench)
SLOW_PAUSE_S = 0.02
REFREEZE_CLOSED = 5_000
REFREEZE_IDLE = 0.05  # "few sockets open": at most this share of the peak (and at least 100)
REFREEZE_CLOSED_MAX = 50_000  # past this, refreeze at the next quiet moment even with everyone connected
QUIET_AFTER_FIRE_S = 60.0
GC_OFF_AFTER_FIRE_S = 15.0  # the firing reports arrive within ~5 s of the moment
GC_OFF_MAX_S = 600.0

FROZEN = Gauge("launchday_gc_frozen_objects", "Objects in the collector's permanent generation",
               registry=metrics.REGISTRY)
FREEZES = Counter("launchday_gc_freezes_total", "gc.freeze() calls by the collector policy, by reason",
                  ["reason"], registry=metrics.REGISTRY)
REFREEZES = Counter("launchday_gc_refreezes_total", "Unfreeze + full collection + freeze, by reason",
                    ["reason"], registry=metrics.REGISTRY)
# The wall-clock pauses of metrics.GC_PAUSE include the time the process was
# not on a CPU at all; on a shared machine that is most of a "long" pause.
# This is the collector's own CPU time (the loop thread's), for the same
# collections: what the policy can change.
GC_PAUSE_CPU = Histogram(
    "launchday_gc_pause_cpu_seconds", "CPU time of garbage-collector pauses (generations 1 and 2)", ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0), registry=metrics.REGISTRY,
)
_CPU_CHILDREN = {g: GC_PAUSE_CPU.labels(str(g)) for g in (1, 2)}  # made before any callback (no allocation there)
WINDOW_YOUNG = Gauge("launchday_gc_launch_window_young_objects",
                     "Tracked objects allocated (net) while the collector was off for the last launch window",
                     registry=metrics.REGISTRY)
RECLAIMED = Counter("launchday_gc_refreeze_reclaimed_objects_total",
                    "Unreachable objects found by refreezes (frozen garbage released)", registry=metrics.REGISTRY)


def connections(store: Events) -> int:
    """Open WebSocket connections of every event in this process."""
    return sum(len(rt.room.all_points) + len(rt.room.consoles) + len(rt.room.displays)
               for rt in store.events.values())


def launch_active(store: Events, now: float, after_fire_s: float = QUIET_AFTER_FIRE_S) -> bool:
    """Is any event's launch armed, counting down, or fired less than ``after_fire_s`` ago?"""
    for rt in store.events.values():
        current = ln.launch_of(rt.state).current
        if current is None or current.aborted_ms is not None:
            continue
        if current.fire_at_ms is None or now < current.fire_at_ms + after_fire_s * 1000:
            return True
    return False


class GcPolicy:
    def __init__(self, store: Events) -> None:
        self.store = store
        self.check_s = CHECK_S
        self.settle_s = SETTLE_S
        self.settle_min = SETTLE_MIN
        self.grow_step = GROW_STEP
        self.refreeze_closed = REFREEZE_CLOSED
        self.last_reason: str | None = None
        self.freezes = 0
        self.refreezes = 0
        self.refreeze_wanted: str | None = None
        self.closed_since_refreeze = 0
        self._conns_frozen = 0  # sockets open at the last freeze
        self._conns_seen = 0
        self._peak = 0  # most sockets open at once since the last refreeze
        self._changed_at = time.monotonic()
        self._slow_pause = False
        self._gen2_started: float | None = None
        self._cpu_started = [0.0, 0.0, 0.0]
        self._task: asyncio.Task[None] | None = None
        self.held_since: float | None = None  # the collector is off for a launch since (monotonic)
        self.held_windows = 0

    # -- the rules ------------------------------------------------------------

    def start(self) -> None:
        """After the store has loaded: collect once (nothing is connected), freeze, watch."""
        gc.collect()
        self.freeze("startup", young_first=False)
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="gc-policy")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.held_since is not None:
            gc.enable()
            self.held_since = None
        gc.unfreeze()  # the process gets its collector back as it was
        FROZEN.set(0)

    def freeze(self, reason: str, young_first: bool = True) -> None:
        if young_first:
            gc.collect(1)  # young garbage is collected, not frozen
        gc.freeze()
        self.freezes += 1
        self.last_reason = reason
        self._conns_frozen = connections(self.store)
        FREEZES.labels(reason).inc()
        FROZEN.set(gc.get_freeze_count())

    def after_import(self) -> None:
        # No young collection first: after a 10,000-row import the young
        # generations hold the new points (all alive), and walking them cost
        # a 100-250 ms pause for nothing.
        self.freeze("import", young_first=False)

    def request_refreeze(self, reason: str) -> None:
        """Release frozen garbage at the next quiet moment (sockets closed by an admin action)."""
        self.refreeze_wanted = reason

    def refreeze(self, reason: str) -> int:
        """Unfreeze, collect everything, freeze again; the number of objects released."""
        started, cpu = time.perf_counter(), time.thread_time()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        pause_s, cpu_s = time.perf_counter() - started, time.thread_time() - cpu
        self._slow_pause = False  # that collection was ours
        self.refreezes += 1
        self.refreeze_wanted = None
        self.closed_since_refreeze = 0
        self.last_reason = "refreeze:" + reason
        self._conns_frozen = connections(self.store)
        REFREEZES.labels(reason).inc()
        RECLAIMED.inc(found)
        FROZEN.set(gc.get_freeze_count())
        # A warning: the one long pause the policy takes on purpose (a full collection).
        log.warning("gc_refreeze", reason=reason, released=found, frozen=gc.get_freeze_count(),
                    connections=self._conns_frozen, pause_ms=round(pause_s * 1000, 1),
                    cpu_ms=round(cpu_s * 1000, 1))
        return found

    def quiet(self) -> bool:
        stable = time.monotonic() - self._changed_at >= self.settle_s
        return stable and not launch_active(self.store, now_ms())

    def hold_for_launch(self) -> None:
        """No automatic collection from the arming to a little after the fire.

        The press, its fan-out, the countdown's pings, the fire push and the
        firing reports all land in this window: a collection there stops all of
        them. Entering, a young collection and a freeze leave nothing for the
        collector to do; leaving, the automatic collector comes back and a young
        collection plus a freeze takes what the window left (its garbage is
        collected, not frozen). Cyclic garbage made meanwhile waits until then:
        a few minutes at most (``GC_OFF_MAX_S``).
        """
        window = launch_active(self.store, now_ms(), GC_OFF_AFTER_FIRE_S)
        if window and self.held_since is None and gc.isenabled():
            self.freeze("launch window")
            gc.disable()
            self.held_since = time.monotonic()
            self.held_windows += 1
        elif self.held_since is not None and (not window or time.monotonic() - self.held_since > GC_OFF_MAX_S):
            pending = gc.get_count()[0]
            WINDOW_YOUNG.set(pending)
            gc.enable()
            self.held_since = None
            self.freeze("after launch window")
            log.info("gc_launch_window_over", young_objects=pending)

    def step(self) -> None:
        """One look at the process: freeze or refreeze if a rule says so."""
        self.hold_for_launch()
        if self.held_since is not None:
            return
        conns = connections(self.store)
        if conns != self._conns_seen:
            if conns < self._conns_seen:
                self.closed_since_refreeze += self._conns_seen - conns
            self._conns_seen = conns
            self._changed_at = time.monotonic()
        self._peak = max(self._peak, conns)
        if self.closed_since_refreeze >= self.refreeze_closed and self.refreeze_wanted is None:
            self.refreeze_wanted = "connections closed"
        few = conns <= max(100, REFREEZE_IDLE * self._peak)
        if self.refreeze_wanted is not None and self.quiet() and (
                few or self.closed_since_refreeze >= REFREEZE_CLOSED_MAX):
            self.refreeze(self.refreeze_wanted)
            self._peak = conns
            return
        moved = abs(conns - self._conns_frozen)
        settled = time.monotonic() - self._changed_at >= self.settle_s
        if (moved >= self.settle_min and settled) or conns - self._conns_frozen >= self.grow_step:
            self.freeze("connections")
        elif self._slow_pause:
            self.freeze("slow collection")
        self._slow_pause = False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check_s)
            try:
                self.step()
            except Exception:  # the policy must never take the process down
                log.exception("gc_policy_failed")

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        # Runs inside the collector: only note it; the watcher freezes.
        gen = info["generation"]
        if gen < 1:
            return
        if phase == "start":
            self._cpu_started[gen] = time.thread_time()
            if gen == 2:
                self._gen2_started = time.perf_counter()
            return
        _CPU_CHILDREN[gen].observe(time.thread_time() - self._cpu_started[gen])
        if gen == 2:
            started = self._gen2_started
            if started is not None and time.perf_counter() - started > SLOW_PAUSE_S:
                self._slow_pause = True


# -- the hooks (one policy per store: per process in production) ---------------

_POLICIES: weakref.WeakKeyDictionary[Events, GcPolicy] = weakref.WeakKeyDictionary()


def policy_of(store: Events) -> GcPolicy | None:
    return _POLICIES.get(store)


def start(store: Events) -> GcPolicy:
    """App start-up, once the store has loaded."""
    policy = _POLICIES[store] = GcPolicy(store)
    policy.start()
    return policy


async def open_store(store: Events) -> GcPolicy:
    """Load the store with the collector off, then start the policy.

    A replay allocates what will live (the state) and facts that die by
    reference counting: automatic collections during it find nothing, and a
    100,000-fact replay set off dozens of them, each walking the growing
    state. ``start`` then runs the one full collection and freezes.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        await store.open()
    finally:
        if was:
            gc.enable()
    return start(store)


async def stop(store: Events) -> None:
    policy = _POLICIES.pop(store, None)
    if policy is not None:
        await policy.stop()


def after_import(store: Events) -> None:
    """The import handler, after its facts are folded."""
    policy = _POLICIES.get(store)
    if policy is not None:
        policy.after_import()


def request_refreeze(store: Events, reason: str) -> None:
    """A handler that closed sockets for good (a point deleted, a token rotated)."""
    policy = _POLICIES.get(store)
    if policy is not None:
        policy.request_refreeze(reason)
