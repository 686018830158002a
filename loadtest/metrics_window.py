"""Figures read from the server's own /metrics between two scrapes: its ack
times (the server's side of what a client measures) and its collector's pauses."""

from __future__ import annotations

import math

from loadtest._procs import scrape


def histogram_window(before: dict[str, float], after: dict[str, float], name: str,
                     labels: str = "") -> dict[str, float]:
    """n and percentiles of a Prometheus histogram between two scrapes. A
    percentile is the upper bound of the bucket it falls in (so "≤ x"); under
    1,000 samples the p99 is not a percentile: report the max bound instead."""
    prefix = f"{name}_bucket{{{labels + ',' if labels else ''}le="
    bounds = sorted((float(k[len(prefix):].strip('"}')), after[k] - before.get(k, 0.0))
                    for k in after if k.startswith(prefix) and "+Inf" not in k)
    count_key = f"{name}_count{{{labels}}}" if labels else f"{name}_count"
    n = after.get(count_key, 0.0) - before.get(count_key, 0.0)
    out = {"n": n, "p50_le": math.nan, "p99_le": math.nan, "max_le": math.nan}
    if n <= 0:
        return out
    for q, key in ((0.5, "p50_le"), (0.99, "p99_le"), (1.0, "max_le")):
        want = math.ceil(q * n)
        out[key] = next((b for b, c in bounds if c >= want), math.inf)
    return out


def gc_stats(port: int) -> dict[str, float]:
    """The server's collector pauses so far (generation 2: the full collections)."""
    m = scrape(port)
    g = '{generation="2"}'
    return {"gen2_count": m.get(f"launchday_gc_pause_seconds_count{g}", 0.0),
            "gen2_s": m.get(f"launchday_gc_pause_seconds_sum{g}", 0.0),
            "longest_s": m.get(f"launchday_gc_longest_pause_seconds{g}", 0.0)}


def gc_delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {"gen2_count": b["gen2_count"] - a["gen2_count"], "gen2_s": b["gen2_s"] - a["gen2_s"],
            "longest_s": b["longest_s"]}


def server_side(m0: dict[str, float], m1: dict[str, float], labels: str) -> dict[str, float]:
    """The server's own ack times (launchday_ack_seconds) between two scrapes, in ms (bucket bounds)."""
    h = histogram_window(m0, m1, "launchday_ack_seconds", labels)
    return {"n": h["n"], **{k: h[k] * 1000.0 for k in ("p50_le", "p99_le", "max_le")}}
