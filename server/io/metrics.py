"""Prometheus metrics (served at /metrics). One registry per process."""

from __future__ import annotations

import gc
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
# process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds: what a soak
# run (`make soak-locust`) watches for leaks; read from /proc at each scrape, nothing in between.
ProcessCollector(registry=REGISTRY)

CONNECTIONS = Gauge("launchday_connections", "Open WebSocket connections", ["kind"], registry=REGISTRY)
FRAMES_IN = Counter("launchday_frames_in_total", "WebSocket frames received", ["kind"], registry=REGISTRY)
CHECKINS = Counter("launchday_checkins_total", "Check-ins applied", registry=REGISTRY)
ERRORS = Counter("launchday_errors_total", "Coded errors answered", ["code"], registry=REGISTRY)
JOURNAL_APPENDS = Counter("launchday_journal_facts_total", "Facts appended durably", registry=REGISTRY)
JOURNAL_COMMIT = Histogram(
    "launchday_journal_commit_seconds", "Time of one group commit (write + fsync)",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0), registry=REGISTRY,
)
JOURNAL_BATCH = Histogram(
    "launchday_journal_batch_appends", "Appends sharing one commit",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000), registry=REGISTRY,
)
FANOUT = Histogram(
    "launchday_fanout_seconds", "Time to write one frame to every recipient", ["kind"],
    buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5), registry=REGISTRY,
)
FANOUT_LAST = Gauge(
    "launchday_fanout_last_seconds", "Duration of the last fan-out, by kind", ["kind"], registry=REGISTRY,
)
FANOUT_RECIPIENTS = Gauge(
    "launchday_fanout_last_recipients", "Sockets written by the last fan-out, by kind", ["kind"], registry=REGISTRY,
)
# The server's own side of what a client measures (a client's figure minus
# these is the clients' own delay: their CPU, their loop; docs/benchmarks.md).
# Fine buckets: a bench takes percentiles from the difference of two scrapes.
_MS_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
               0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0)
ACK = Histogram(
    "launchday_ack_seconds", "From a point frame's arrival (read from the socket) to its ack's write, by kind",
    ["kind"], buckets=_MS_BUCKETS, registry=REGISTRY,
)
LAUNCH_WRITTEN = Histogram(
    "launchday_launch_written_seconds",
    "From the launch decision (the key press that started the countdown, on the deciding process's clock) "
    "to this process's last write of the countdown frame to a point socket",
    buckets=_MS_BUCKETS, registry=REGISTRY,
)
LAUNCH_WRITTEN_LAST = Gauge(
    "launchday_launch_written_last_seconds", "The last launch's decision-to-last-write time in this process",
    registry=REGISTRY,
)
SLOW_CLOSED = Counter(
    "launchday_slow_consumers_closed_total", "Sockets closed with 1013 for not keeping up", registry=REGISTRY,
)
# Set at each scrape from the journal's health() (what /healthz reads): 0 while
# Redis is unreachable, or the SQLite journal failed a write, or it is closed.
# An alert needs it as a series: a 503 on /healthz is no metric.
JOURNAL_UP = Gauge(
    "launchday_journal_up", "1 while this process's journal can make a write durable (Redis reachable), else 0",
    registry=REGISTRY,
)

# Collector pauses stop the event loop: a full collection over the objects of
# 10,000 connections takes tens to hundreds of milliseconds, and a launch press
# that lands in one waits for it (docs/benchmarks.md). Generations 1 and 2 only:
# the young generation's frequent, short runs are not worth a clock read each.
GC_PAUSE = Histogram(
    "launchday_gc_pause_seconds", "Garbage-collector pauses (generations 1 and 2)", ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0), registry=REGISTRY,
)
GC_LONGEST = Gauge(
    "launchday_gc_longest_pause_seconds", "Longest collector pause so far, by generation", ["generation"],
    registry=REGISTRY,
)
# The children exist before any collection: the callback must not create one
# (``labels()`` allocates under the metric's lock, and an allocation can start
# a collection, which would call back into that lock).
_GC_CHILDREN = {g: (GC_PAUSE.labels(str(g)), GC_LONGEST.labels(str(g))) for g in (1, 2)}
_gc_started: dict[int, float] = {}
_gc_longest: dict[int, float] = {}


def _on_gc(phase: str, info: dict[str, int]) -> None:
    gen = info["generation"]
    if gen < 1:
        return
    if phase == "start":
        _gc_started[gen] = time.perf_counter()
        return
    started = _gc_started.pop(gen, None)
    if started is not None:
        pause = time.perf_counter() - started
        histogram, longest = _GC_CHILDREN[gen]
        histogram.observe(pause)
        if pause > _gc_longest.get(gen, 0.0):
            _gc_longest[gen] = pause
            longest.set(pause)


gc.callbacks.append(_on_gc)
