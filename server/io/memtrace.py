"""Where the memory goes: a ``tracemalloc`` switch for measurements, off by default.

``LAUNCHDAY_TRACEMALLOC=N`` (frames per traceback, e.g. 12) read once when
``launchday serve`` starts: tracemalloc traces every allocation from then
on, and each ``SIGUSR2`` dumps a snapshot to
``<data>/tracemalloc-<k>.dump`` (k = 1, 2, ...) with a JSON line beside it
(``tracemalloc-<k>.json``: VmRSS, traced bytes, the gc's object count).
``loadtest/socket_memory.py`` compares two snapshots by traceback.

Unset (the default), nothing here runs: no signal handler, no tracing, no
cost on any path. Tracing slows every allocation and adds its own memory, so
the RSS figures of a run with it on are not the ones to report.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import tracemalloc
from pathlib import Path
from types import FrameType

ENV = "LAUNCHDAY_TRACEMALLOC"


def install(data: Path) -> bool:
    """Start tracing and handle SIGUSR2 if ``LAUNCHDAY_TRACEMALLOC`` asks for it; True if it did."""
    raw = os.environ.get(ENV, "").strip()
    if not raw or raw == "0":
        return False
    frames = int(raw) if raw.isdigit() else 12
    tracemalloc.start(max(1, frames))
    count = 0

    def dump(_sig: int, _frame: FrameType | None) -> None:
        nonlocal count
        count += 1
        snap = tracemalloc.take_snapshot()
        base = data / f"tracemalloc-{count}"
        snap.dump(str(base) + ".dump")
        current, peak = tracemalloc.get_traced_memory()
        info = {"k": count, "rss_kb": rss_kb(), "traced": current, "traced_peak": peak,
                "gc_objects": len(gc.get_objects()), "frozen": gc.get_freeze_count()}
        Path(str(base) + ".json").write_text(json.dumps(info) + "\n")

    signal.signal(signal.SIGUSR2, dump)
    return True


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0
