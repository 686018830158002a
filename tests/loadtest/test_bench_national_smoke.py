"""The national bench cannot rot: ``loadtest/bench_national.py`` at 500 points.

Its own Redis (AOF, ``appendfsync always``), 3 ``launchday serve --redis``
processes and a fleet of PointClients, through every phase of the full run
(import, arrivals, check-ins, an attendees round, the acknowledged-writes
check on every process, the launch), with short spreads. Only that the
harness runs and fills its JSON is asserted, and the two figures that are
correctness, not timing: 0 acknowledged writes lost, every connected point
fired. No timing is asserted (the figures come from ``make bench-national``
on a quiet machine, docs/benchmarks.md).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.utils import ROOT, timeout


@pytest.mark.timeout(180)
def test_bench_national_smoke_produces_every_figure(tmp_path) -> None:
    """Breaks if the harness stops running, a phase stops filling its figures,
    a fleet stops reporting its acknowledged counts, or a run writes the docs
    with ``--no-docs``."""
    out = tmp_path / "national.json"
    docs = (ROOT / "docs" / "benchmarks.md").read_bytes()
    res = subprocess.run(
        [sys.executable, "-m", "loadtest.bench_national", "--points", "500", "--checkin-spread", "3",
         "--attendees-spread", "2", "--countdown-ms", "3000", "--no-docs", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout(150))
    assert res.returncode == 0, (res.stdout[-3000:], res.stderr[-3000:])
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == docs
    result = json.loads(out.read_text())
    assert {"machine", "started_utc", "command", "run", "limits", "pinning", "redis_version"} <= set(result)
    run = result["run"]
    assert run["points"] == 500 and run["group_level"] == "province"
    assert run["redis_aof"] == {"appendonly": "yes", "appendfsync": "always"}
    assert run["import"]["created"] == 500 and run["import"]["errors"] == 0
    assert run["connect"]["connected"] == 500 and run["connect"]["connect_per_s"] > 0
    for kind in ("checkin", "attendees"):
        assert run[kind]["client_ms"]["n"] == 500 and run[kind]["errors"] == 0, kind
        assert run[kind]["server_ms"]["n"] == 500, kind  # summed over the 3 processes' /metrics
    assert run["lost"]["acked_writes"] == 1000 and run["lost"]["lost"] == 0
    assert [p["lost"] for p in run["lost"]["per_process"]] == [0, 0, 0]
    launch = run["launch"]
    assert launch["fired"] == launch["connected"] == 500 and launch["every_connected_fired"]
    assert len(launch["written_ms"]) == 3 and launch["skew_ms"]["n"] == 500
    assert run["console"]["deltas"] > 0 and run["console"]["largest"] > 0
    assert run["desks"].get("connected") == 34 or run["desks"].get("skipped")
    assert len(run["rss_kb"]["servers"]) == 3 and run["redis"]["used_memory"] > 0 and run["redis"]["ops_per_s"] > 0
    assert any("subset" in line for line in result["limits"])
    assert "### The national morning" in res.stdout and "acknowledged writes lost" in res.stdout
