"""Server-clock estimation and precise scheduling for a connection point.

Every ceremony moment on the wire is in milliseconds on the *server's* clock
(docs/protocol.md#time). A site lead's phone or kiosk may be seconds off, so
the client never trusts its own wall clock: it estimates the offset to the
server NTP-style from ``time.ping`` / ``time.pong`` exchanges
(docs/protocol.md#clock-sync) and schedules the launch on a monotonic clock
(docs/protocol.md#launch).

The estimation is pure (plain functions and a small window of samples, no
I/O, clocks passed in), so it is tested table-driven. Only
:meth:`ServerClock.sleep_until_server_ms` and :func:`sleep_until_monotonic`
touch the event loop.

Conventions: ``offset = server - local``, so ``server_ms = local_ms + offset``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "ClockEstimator",
    "LocalClock",
    "Sample",
    "ServerClock",
    "best_sample",
    "compute_sample",
    "monotonic_at",
    "server_ms_at",
    "sleep_until_monotonic",
]

#: How long before the deadline the coarse asyncio sleep wakes up. Large
#: enough to absorb a busy loop popping many timers at once, small enough that
#: the precise stretch costs little.
EARLY_S = 0.030
#: Below this the waiter stops arming asyncio timers and spins.
SPIN_S = 0.002


@dataclass(frozen=True, slots=True)
class Sample:
    """One clock measurement.

    ``local_ms`` and ``mono_s`` are read together when the pong arrives (t3):
    that pair anchors the estimate to the monotonic clock, so a later step of
    the device's wall clock (NTP, a user fixing the date) changes nothing in
    scheduling.
    """

    offset_ms: float
    rtt_ms: float
    local_ms: float
    mono_s: float

    @property
    def error_bound_ms(self) -> float:
        """The true offset lies within ``offset_ms ± rtt_ms / 2`` whatever the path asymmetry."""
        return self.rtt_ms / 2


def compute_sample(t0: float, t1: float, t2: float, t3: float, mono_s: float = 0.0) -> Sample:
    """Turn one ping/pong into a :class:`Sample`.

    ``t0`` client send and ``t3`` client receive (local clock), ``t1`` server
    read and ``t2`` server send (server clock), all ms. The offset is exact
    when both legs take equally long; an asymmetry ``d_out - d_back`` biases it
    by half of that, which the bound ``rtt / 2`` covers. A slightly negative
    rtt (clocks read at different resolutions) is clamped to 0.
    """
    values = (t0, t1, t2, t3)
    if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
        raise ValueError(f"pong times must be finite numbers: {values!r}")
    offset = ((t1 - t0) + (t2 - t3)) / 2
    rtt = max(0.0, (t3 - t0) - (t2 - t1))
    return Sample(offset_ms=offset, rtt_ms=rtt, local_ms=t3, mono_s=mono_s)


def best_sample(samples: Iterable[Sample]) -> Sample | None:
    """The sample with the lowest round trip: the one least touched by queueing.

    On a tie the most recent wins (``samples`` in arrival order): it carries
    the least drift since it was taken.
    """
    return min(reversed(list(samples)), key=lambda s: s.rtt_ms, default=None)


def server_ms_at(sample: Sample, mono_s: float) -> float:
    """Server time at monotonic instant ``mono_s``, by ``sample``."""
    return sample.local_ms + sample.offset_ms + (mono_s - sample.mono_s) * 1000.0


def monotonic_at(sample: Sample, server_ms: float) -> float:
    """Monotonic instant at which the server clock reads ``server_ms``, by ``sample``."""
    return sample.mono_s + (server_ms - sample.local_ms - sample.offset_ms) / 1000.0


class ClockEstimator:
    """A sliding window of recent samples; the best is the lowest rtt.

    The window (rather than all samples ever) lets a periodic re-sync adapt
    when the path or the device clock changes, while still keeping the best
    of the last rounds. ``ready`` needs ``min_samples`` pings: one ping can be
    the unlucky one that queued behind a burst.
    """

    def __init__(self, window: int = 10, min_samples: int = 5) -> None:
        if window < 1 or min_samples < 1:
            raise ValueError("window and min_samples must be >= 1")
        self.min_samples = min_samples
        self._samples: deque[Sample] = deque(maxlen=max(window, min_samples))
        self.count = 0

    def add(self, sample: Sample) -> None:
        self._samples.append(sample)
        self.count += 1

    @property
    def samples(self) -> tuple[Sample, ...]:
        return tuple(self._samples)

    @property
    def ready(self) -> bool:
        return self.count >= self.min_samples

    @property
    def best(self) -> Sample | None:
        return best_sample(self._samples)


class LocalClock:
    """The device's own clock: real wall time plus a simulated error.

    ``offset_ms`` lets tests and the load test play devices whose clocks are
    seconds off. ``wall`` and ``mono`` are injectable for pure tests.
    """

    def __init__(
        self,
        offset_ms: float = 0.0,
        *,
        wall: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.offset_ms = offset_ms
        self._wall = wall
        self.mono = mono

    def now_ms(self) -> float:
        return self._wall() * 1000.0 + self.offset_ms

    def now(self) -> tuple[float, float]:
        """``(local_ms, mono_s)`` read back to back, to anchor a sample."""
        return self.now_ms(), self.mono()


class ServerClock:
    """The client's view of the server clock.

    Uses the best windowed ping sample; before any ping has returned, a
    ``coarse`` sample (from the ``welcome``'s ``server_ms``, bounded by the
    whole handshake) keeps ``server_now_ms`` sane, and without even that the
    local clock stands in.
    """

    def __init__(self, local: LocalClock, *, window: int = 10, min_samples: int = 5) -> None:
        self.local = local
        self.estimator = ClockEstimator(window=window, min_samples=min_samples)
        self.coarse: Sample | None = None
        self._changed: asyncio.Future[None] | None = None
        # Called synchronously on every new estimate (the client re-plans a
        # pending fire without a task of its own).
        self.listeners: list[Callable[[], None]] = []

    # -- feeding -----------------------------------------------------------
    def add_pong(self, t0: float, t1: float, t2: float, t3: float, mono_s: float) -> Sample:
        sample = compute_sample(t0, t1, t2, t3, mono_s)
        self.estimator.add(sample)
        self._notify()
        return sample

    def set_coarse(self, sent_local_ms: float, server_ms: float, recv_local_ms: float,
                   recv_mono_s: float) -> Sample:
        """A bound from the handshake: the server stamped ``server_ms``
        somewhere between our connect and the welcome's arrival."""
        sample = compute_sample(sent_local_ms, server_ms, server_ms, recv_local_ms, recv_mono_s)
        self.coarse = sample
        self._notify()
        return sample

    def _notify(self) -> None:
        # Wakes sleepers so that a countdown scheduled on an older estimate
        # re-reads the newer one (e.g. the re-sync a countdown triggers).
        if self._changed is not None and not self._changed.done():
            self._changed.set_result(None)
        self._changed = None
        for listener in self.listeners:
            listener()

    # -- reading -----------------------------------------------------------
    @property
    def best(self) -> Sample | None:
        return self.estimator.best or self.coarse

    @property
    def synced(self) -> bool:
        return self.estimator.ready

    def age_s(self) -> float:
        """Seconds since the newest ping sample (infinite without one)."""
        samples = self.estimator.samples
        return self.local.mono() - samples[-1].mono_s if samples else math.inf

    @property
    def offset_ms(self) -> float | None:
        best = self.best
        return None if best is None else best.offset_ms

    @property
    def rtt_ms(self) -> float | None:
        best = self.best
        return None if best is None else best.rtt_ms

    @property
    def error_bound_ms(self) -> float | None:
        best = self.best
        return None if best is None else best.error_bound_ms

    def anchor(self) -> Sample:
        best = self.best
        if best is not None:
            return best
        local_ms, mono_s = self.local.now()
        return Sample(offset_ms=0.0, rtt_ms=math.inf, local_ms=local_ms, mono_s=mono_s)

    def server_now_ms(self) -> float:
        return server_ms_at(self.anchor(), self.local.mono())

    def monotonic_deadline(self, target_server_ms: float) -> float:
        return monotonic_at(self.anchor(), target_server_ms)

    # -- waiting -----------------------------------------------------------
    async def sleep_until_server_ms(
        self, target_server_ms: float, *, early_s: float = EARLY_S, spin_s: float = SPIN_S
    ) -> float:
        """Sleep until the server clock reads ``target_server_ms``; return the monotonic deadline.

        The long part is a plain asyncio wait, woken early whenever the
        estimate changes so that the deadline is recomputed from the newest
        estimate; the last ``early_s`` is handed to :func:`sleep_until_monotonic`.
        Many clients sharing one loop should each pass a slightly different
        ``early_s`` (the point client adds up to another ``EARLY_S`` at
        random): their coarse wake-ups then spread out instead of landing on
        the loop all at once, where each costs tens of microseconds.
        """
        loop = asyncio.get_running_loop()
        while True:
            deadline = self.monotonic_deadline(target_server_ms)
            remaining = deadline - self.local.mono()
            if remaining <= early_s:
                break
            if self._changed is None or self._changed.done():
                self._changed = loop.create_future()
            await asyncio.wait({self._changed}, timeout=remaining - early_s)
        await sleep_until_monotonic(deadline, early_s=early_s, spin_s=spin_s, mono=self.local.mono)
        return deadline


async def sleep_until_monotonic(
    deadline: float,
    *,
    early_s: float = EARLY_S,
    spin_s: float = SPIN_S,
    mono: Callable[[], float] = time.monotonic,
) -> None:
    """Return as soon as ``mono() >= deadline``, and never before.

    Why not one ``asyncio.sleep``: epoll's timeout has 1 ms granularity
    (asyncio rounds it), and when a loop has a thousand timers due at once it
    pops all of them before running the first callback, so a timer alone
    fires a few ms late (docs/protocol.md#launch). So: a coarse sleep to
    ``early_s`` before the deadline; short sleeps, each re-checked, down to
    ``spin_s``; then a busy-wait on the monotonic clock for the last stretch.
    Not ``time.sleep(0)`` in that loop: it is a system call that lets the
    kernel give a busy machine's CPU to another process for a whole time
    slice, right at the moment. The spin blocks the loop for at most
    ``spin_s``; other clients sharing the loop with the same deadline run
    right after it, already due (each costs one task step, tens of µs).
    """
    remaining = deadline - mono()
    if remaining > early_s:
        await asyncio.sleep(remaining - early_s)
    # Each timer may wake late (rounding, a busy loop), so re-check before the next.
    while (remaining := deadline - mono()) > spin_s:  # noqa: ASYNC110 - a deadline, not an event
        await asyncio.sleep(remaining - spin_s)
    while mono() < deadline:  # a deliberate spin of at most spin_s
        pass
