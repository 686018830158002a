"""The console bench cannot rot: ``loadtest/bench_console.py`` at 300 points.

Both parts at a tiny size: in-process (import, roll-up per fact, deltas, the
snapshot) and with a real ``launchday serve``, Chromium and a fleet of 100
PointClients over 4 s. Only that the harness runs and fills its figures is
asserted, and what is correctness, not timing: every row imported, every
change acknowledged, the page received deltas and rendered, no page error.
No timing is asserted (the figures come from ``make bench-console`` on a
quiet machine, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.utils import ROOT, timeout


@pytest.mark.timeout(120)
def test_bench_console_smoke_produces_every_figure(tmp_path) -> None:
    """Breaks if the harness stops running, the console's measuring hook
    (``window.__consoleStats``) or a tab's ready signal the bench waits on
    changes shape, a figure stops being filled, or a run writes the docs with
    ``--no-docs``."""
    out = tmp_path / "console.json"
    docs = (ROOT / "docs" / "benchmarks.md").read_bytes()
    res = subprocess.run(
        [sys.executable, "-m", "loadtest.bench_console", "--points", "300", "--facts", "100", "--import-runs", "1",
         "--delta-runs", "5", "--snapshot-runs", "2", "--load-points", "100", "--load-seconds", "4",
         "--no-docs", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout(100))
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == docs
    result = json.loads(out.read_text())
    assert {"machine", "started_utc", "command", "pinning", "in_process", "live"} <= set(result)
    ip = result["in_process"]
    assert ip["points"] == 300 and ip["import"]["facts"] == 300
    assert set(ip["per_fact"]) == {"checkin/fold", "checkin/fold + effects", "attendees/fold",
                                   "attendees/fold + effects"}
    assert all(v["apply_us"]["n"] == 100 for v in ip["per_fact"].values())
    assert set(ip["delta"]) == {"1", "100"} and ip["delta"]["100"]["bytes"] > ip["delta"]["1"]["bytes"]
    assert ip["snapshot"]["points"] == 300 and ip["snapshot"]["gzip_bytes"] < ip["snapshot"]["bytes"]
    live = result["live"]
    assert live["import"]["created"] == 300 and live["import"]["errors"] == 0
    first = live["first_paint"]
    assert first["points"] == 300 and first["first_render_ms"] > 0 and first["supported"]
    assert live["map_first"]["input_to_paint_ms"] > 0 and live["map_first"]["mode"] == "cells"
    load = live["load"]
    assert load["changes"] == 200 and load["errors"] == 0
    assert load["deltas"]["n"] > 0 and load["render_ms"]["all"]["n"] > 0 and load["parse_ms"]["n"] > 0
    assert load["clicks"]["points"]["input_to_paint_ms"] > 0 and load["clicks"]["map"]["input_to_paint_ms"] > 0
    assert live["page_errors"] == []
    assert "### The whole country in the console" in res.stdout
