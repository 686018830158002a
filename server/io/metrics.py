"""Prometheus metrics (served at /metrics). One registry per process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

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
SLOW_CLOSED = Counter(
    "launchday_slow_consumers_closed_total", "Sockets closed with 1013 for not keeping up", registry=REGISTRY,
)
