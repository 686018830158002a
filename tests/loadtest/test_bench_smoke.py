"""The load-test harness cannot rot: a smoke run of ``loadtest/bench.py``.

N = 200 points against a real ``launchday serve`` and the reference servers
(the Node one only if its ``node_modules`` is already installed: a test does
not run npm), through the same fleet processes as the full run. Only that
the harness runs and fills its JSON is asserted; no timing is (the figures
come from ``make bench`` on a quiet machine, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.utils import ROOT, timeout


@pytest.mark.timeout(180)
def test_bench_smoke_produces_every_figure(tmp_path) -> None:
    out = tmp_path / "bench.json"
    res = subprocess.run(
        [sys.executable, "-m", "loadtest.bench", "--smoke", "--no-docs", "--no-install", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout(120))
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    result = json.loads(out.read_text())
    assert {"machine", "started_utc", "command", "runs", "rows"} <= set(result)
    (run,) = result["runs"]
    assert run["n"] == 200 and run["fleets"] >= 2

    targets = run["targets"]
    assert "launchday" in targets and "websockets ref" in targets
    assert "node ref" in targets or "node" in run["skipped"]
    for name, t in targets.items():
        assert t["connected"] == 200 and t["failed"] == 0, name
        assert t["connect_per_s"] > 0 and "rss_per_conn_kb" in t, name
        assert t["trials"] and all(x["missing"] == 0 for x in t["trials"]), name
        assert t["lag_ms"]["p50"] > 0 and t["lag_ms"]["p99"] >= t["lag_ms"]["p50"], name
        assert t["fanout_ms"] > 0, name
    assert run["trial_console"] and run["server_cpu_total_s"] > 0

    morning = run["morning"]
    assert morning["checkin"]["n"] == 200 and morning["checkin"]["errors"] == 0
    assert morning["checked_in"] == 200
    # the server's own side of the same acks, from /metrics (every check-in acked once)
    assert morning["checkin"]["server_side_ms"]["n"] == 200
    assert morning["checkin"]["server_side_ms"]["p99_le"] >= morning["checkin"]["server_side_ms"]["p50_le"] > 0
    for key in ("launch", "launch_no_resync"):
        launch = morning[key]
        assert launch["clients"] == 200 and launch["fired"] == 200, key
        assert launch["skew_ms"]["p99"] >= 0 and launch["lag_ms"]["n"] == 200, key
        assert launch["fanout_ms"] > 0 and launch["console"]["deltas"] > 0, key
        assert launch["trickle_ack_server_ms"]["n"] > 0 and launch["trickle_ack_client_ms"]["n"] > 0, key
        assert launch["launch_written_ms"] >= 0, key
    assert result["pinning"] == {} or set(result["pinning"]) == {"server", "client"}

    keys = {r["key"] for r in result["rows"]}
    assert {"rss", "ratio_ws", "skew_launch", "skew_launch_no_resync", "console_trials", "console_launch",
            "console_launch_no_resync"} <= keys
