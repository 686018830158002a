"""The report half of ``loadtest/bench_console.py``: its markdown section for docs/benchmarks.md."""

from __future__ import annotations

import math
from typing import Any


def _f(x: Any, fmt: str = "{:.1f}") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def q(d: dict[str, Any], unit: str = "ms", fmt: str = "{:.1f}") -> str:
    """p50 / p99 / max with n; under 1,000 samples the p99 is no percentile, so p50 / max."""
    n = int(d.get("n") or 0)
    if not n:
        return "–"
    if n < 1000:
        return f"p50 {_f(d['p50'], fmt)}, max {_f(d['max'], fmt)} {unit} (n = {n:,})"
    return f"p50 {_f(d['p50'], fmt)} / p99 {_f(d['p99'], fmt)} / max {_f(d['max'], fmt)} {unit} (n = {n:,})"


def machine_line(r: dict[str, Any]) -> str:
    m, pin = r["machine"], r.get("pinning")
    return (f"Commit `{m['commit']}`{' with uncommitted changes in the tree' if m['dirty'] else ' (clean tree)'};"
            f" {m['cpu']} × {m['cpus']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, Python {m['python']};"
            f" `{r['command']}`, {r['duration_s']:.0f} s; load average {' '.join(r['loadavg_start'])} at the start,"
            f" {' '.join(m['loadavg'])} at the end; {r['busy_cpus_before']:.1f} CPUs busy in the 3 s before it"
            " started. " + (f"Pinned: `launchday serve` on CPU {','.join(map(str, pin['server']))}; the bench, the"
                            f" fleet and Chromium on CPU {','.join(map(str, pin['client']))}." if pin else
                            "Unpinned: the server, the fleet and Chromium share the CPUs."))


def markdown(r: dict[str, Any]) -> str:
    when = r["started_utc"][:16].replace("T", " ")
    ip = r["in_process"]
    im = ip["import"]
    lines = [f"### The whole country in the console, {when} UTC", "", machine_line(r), "",
             f"{r['points']:,} points ({'a subset of ' if r.get('subset') else ''}the national registry,"
             f" {r['per_unit']} under each unit), grouped by province.",
             "", "In one process (the pure core and the runtime's view building, no sockets):", "",
             "| figure | how | measured |", "| --- | --- | --- |",
             f"| import | `decide_import` on the sheet, then the fold of its {im['facts']:,} facts into a fresh state;"
             f" median of {im['n']} | {im['decide_ms']:,.0f} + {im['fold_ms']:,.0f} = {im['total_ms']:,.0f} ms |"]
    for key, v in ip["per_fact"].items():
        kind, path = key.split("/")
        how = "`fold.apply`" if path == "fold" else "`EventRuntime.apply_entries` (the fold and its effects)"
        lines.append(f"| roll-up per `{kind}` fact | {how}, each fact timed alone, distinct points"
                     f" (decide: {q(v['decide_us'], 'µs')}) | {q(v['apply_us'], 'µs')} |")
    for k, d in ip["delta"].items():
        lines.append(f"| console delta, {int(k):,} dirty point{'s' * (k != '1')} | `delta_frame` built, then encoded (`orjson` and the"
                     f" WebSocket frame) | build {q(d['build_ms'], 'ms', '{:.2f}')}; encode p50"
                     f" {_f(d['encode_ms']['p50'], '{:.2f}')} ms; {d['bytes']:,} bytes |")
    s = ip["snapshot"]
    lines.append(f"| console snapshot | `snapshot()` built, then encoded; bytes on the wire and gzip -6 (the server"
                 f" sends it uncompressed) | build {q(s['build_ms'], 'ms', '{:.0f}')}; encode p50"
                 f" {_f(s['encode_ms']['p50'], '{:.0f}')} ms; {s['bytes']:,} bytes ({s['gzip_bytes']:,} gzip) |")
    lv = r.get("live")
    if lv:
        i, fp, mf, L = lv["import"], lv["first_paint"], lv["map_first"], lv["load"]
        lines += ["", "With `launchday serve` (embedded store) and Chromium (headless, 1440×900, vi-VN) logged in"
                  " with `/console/#token=…`:", "", "| figure | how | measured |", "| --- | --- | --- |",
                  f"| import over HTTP | `POST /api/events/{{eid}}/points/import`, {i['bytes'] / 1e6:.1f} MB CSV, n = 1;"
                  f" server CPU {i['server_cpu_s']:.1f} s | {i['seconds']:.2f} s |",
                  f"| dashboard's first render | navigation start → the end of the first render after the snapshot"
                  f" (`__consoleStats.renders[0].at` − `performance.timeOrigin`); snapshot arrived at"
                  f" {_f(fp['snapshot_arrived'], '{:,.0f}')} ms, parsed in {_f(fp['parse_ms'], '{:,.0f}')} ms, rendered"
                  f" in {_f(fp['render_ms'], '{:,.0f}')} ms; first contentful paint (the shell)"
                  f" {_f(fp['fcp'], '{:,.0f}')} ms; {len(fp['longtasks'])} long tasks, the longest"
                  f" {max(fp['longtasks'], default=0):,.0f} ms; JS heap {_f((fp['heap'] or 0) / 2**20, '{:.0f}')} MiB"
                  f" | {fp['first_render_ms']:,.0f} ms |",
                  f"| Map tab, first open | click (`event.timeStamp`) → a wall drawn in `#map-board` → the next"
                  f" animation frame and task ({mf['mode']}, {mf['cells']} cells) | {mf['input_to_paint_ms']:,.0f} ms"
                  f" (ready {mf['input_to_ready_ms']:,.0f} ms) |",
                  f"| load | a fleet of {L['points']:,} PointClients: each checks in (uniform over the first half),"
                  f" then updates its count (the second half); acks {q(L['ack_ms'])}; {L['errors']} errors"
                  f" | {L['changes']:,} changes, {L['changes_per_s']:.0f}/s |",
                  f"| deltas received | `__consoleStats.deltas`, first to last arrival; median"
                  f" {L['deltas']['points_p50']:,.0f} points a delta, {_f(L['delta_chars']['p50'], '{:,.0f}')}"
                  f" characters (max {_f(L['delta_chars']['max'], '{:,.0f}')}) | {L['deltas']['n']:,} deltas,"
                  f" {L['deltas_per_s']:.2f}/s |",
                  f"| parse per frame | `__consoleStats.parse` (JSON.parse and apply){'' if L['parse_aligned'] else ', every frame type'}"
                  f" | {q(L['parse_ms'], 'ms', '{:.2f}')} |"]
        for name in ("all", "dashboard", "map", "points"):
            tab = "every tab" if name == "all" else f"on the {name.capitalize()} tab"
            lines.append(f"| render per animation frame, {tab} | `__consoleStats.renders` (every screen's listener)"
                         f" | {q(L['render_ms'][name], 'ms', '{:.2f}')} |")
        lt = L["longtasks"]
        lines.append(f"| long tasks during the load | `longtask` PerformanceObserver: count, longest, total"
                     f" | {lt['count']}, {lt['max_ms']:,.0f} ms, {lt['total_ms']:,.0f} ms |")
        for view, what in (("map", "Map tab, again (rebuilt: points changed while it was hidden)"),
                           ("points", "Points tab, first open (its table's rows)")):
            c = L["clicks"][view]
            lines.append(f"| input → paint under the load, {what} | the click's `event.timeStamp` → ready → the next"
                         f" animation frame and task | {c['input_to_paint_ms']:,.0f} ms (ready"
                         f" {c['input_to_ready_ms']:,.0f} ms) |")
        lines += ["", f"During the load ({L['seconds']:.1f} s): the server used {L['server_cpu_s']:.1f} s of CPU"
                  f" ({100 * L['server_util']:.0f} % of one CPU), the fleet {L['fleet_cpu_s']:.1f} s, the whole machine"
                  f" {L['busy_cpus']:.2f} CPUs busy on average. Server RSS {lv['rss_after_import_kb'] / 1024:,.0f} MiB"
                  f" after the import, {lv['rss_end_kb'] / 1024:,.0f} MiB at the end."
                  + (f" Page errors: {'; '.join(lv['page_errors'])}." if lv.get("page_errors") else "")]
    return "\n".join(lines) + "\n"
