"""The report half of ``loadtest/bench.py``: target rows and the markdown section."""

from __future__ import annotations

import math
from typing import Any

REF_WS, REF_NODE = "websockets ref", "node ref"


def _f(x: Any, fmt: str = "{:.1f}") -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def _lag(run: dict[str, Any], name: str) -> float | None:
    t = run["targets"].get(name)
    return t["lag_ms"]["p99"] if t else None


LAUNCHES = (("launch", "as shipped"), ("launch_no_resync", "no countdown re-sync"))


def console_gaps(run: dict[str, Any]) -> dict[str, float]:
    """The longest wait for a delta: in the side-by-side trials, and in each launch of step 2."""
    out = {}
    if run.get("trial_console"):
        out["trials"] = max(c["max_gap_s"] for c in run["trial_console"])
    for key, _ in LAUNCHES:
        if key in run.get("morning", {}):
            out[key] = run["morning"][key]["console"]["max_gap_s"]
    return out


def console_gap(run: dict[str, Any], keys: tuple[str, ...] = ("trials", "launch", "launch_no_resync")) -> float | None:
    gaps = [v for k, v in console_gaps(run).items() if k in keys]
    return max(gaps) if gaps else None


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The targets, checked on the largest N of the run (the targets are for 10,000 points)."""
    if not result["runs"]:
        return []
    run = max(result["runs"], key=lambda r: r["n"])
    n, out = run["n"], []

    def row(key: str, figure: str, value: float | None, unit: str, op: str, limit: float, fmt: str) -> None:
        if value is None or math.isnan(value):
            return
        ok = value <= limit if op == "<=" else value < limit
        out.append({"key": key, "figure": figure, "value": value, "unit": unit, "op": op, "limit": limit,
                    "measured": f"{fmt.format(value)}{unit}", "target": f"{op} {limit:g}{unit}", "ok": ok})

    ld = run["targets"].get("launchday", {})
    row("rss", f"idle RSS per connection, {n:,} points", ld.get("rss_per_conn_kb"), " KB", "<=", 30, "{:.1f}")
    lag, ws, node = _lag(run, "launchday"), _lag(run, REF_WS), _lag(run, REF_NODE)
    if lag is not None and ws:
        row("ratio_ws", f"launch lag p99 ÷ `websockets` reference, {n:,} points", lag / ws, "×", "<=", 1.1, "{:.2f}")
    if lag is not None and node:
        row("ratio_node", f"launch lag p99 ÷ Node `ws` reference, {n:,} points", lag / node, "×", "<", 1.0, "{:.2f}")
    for key, tag in LAUNCHES:
        skew = run.get("morning", {}).get(key, {}).get("skew_ms", {}).get("p99")
        row(f"skew_{key}", f"fire skew p99, {n:,} points, clocks ±5 s ({tag})", skew, " ms", "<=", 5, "{:.2f}")
    if "trials" in console_gaps(run):
        row("console_trials", f"console: longest wait for a delta through the fan-outs (trials), {n:,} points",
            console_gaps(run)["trials"], " s", "<=", 1.0, "{:.2f}")
    for key, tag in LAUNCHES:
        if key in console_gaps(run):
            row(f"console_{key}", f"console: longest wait for a delta, launch burst, {n:,} points ({tag})",
                console_gaps(run)[key], " s", "<=", 1.0, "{:.2f}")
    return out


def cause(run: dict[str, Any], key: str) -> str:
    """What was measured alongside a figure (quoted where it misses)."""
    t, m = run["targets"], run.get("morning", {})
    L = m.get("launch_no_resync" if key.endswith("no_resync") else "launch", {})
    if key.startswith("ratio"):
        ref = REF_WS if key == "ratio_ws" else REF_NODE
        ld, rf = t["launchday"], t[ref]
        lt = ld["trials"]
        return (f"launchday p99 {ld['lag_ms']['p99']:.1f} ms (trials {', '.join(f'{x:.0f}' for x in ld['lag_ms']['trial_p99s'])})"
                f" against {rf['lag_ms']['p99']:.1f} ms ({', '.join(f'{x:.0f}' for x in rf['lag_ms']['trial_p99s'])});"
                f" loop time of the fan-out in the server {ld['fanout_ms']:.1f} ms against {rf['fanout_ms']:.1f} ms;"
                f" launchday's press → REST answer (decide, journal fsync, fold, fan-out, answer)"
                f" {_median([x['answer_ms'] for x in lt]):.1f} ms; lag p50 {ld['lag_ms']['p50']:.1f} against"
                f" {rf['lag_ms']['p50']:.1f} ms; the client fleets used {_median([x['fleet_cpu_s'] for x in lt]):.2f} s"
                f" of CPU per launchday trial and the whole machine {_median([x['busy_cpu_s'] for x in lt]):.2f} s")
    if key.startswith("skew"):
        e = L.get("offset_error_ms", {})
        return (f"offset estimate error (|estimate − the simulated offset|) p99 {e.get('p99', math.nan):.2f} ms, max"
                f" {e.get('max', math.nan):.2f} ms; worst rtt/2 bound after sync {m.get('worst_bound_ms', math.nan):.2f}"
                f" ms; {L.get('fired')} of {L.get('clients')} fired; the fleets used {L.get('fleet_cpu_s', 0):.1f} s of"
                f" CPU and the machine {L.get('busy_cpu_s', 0):.1f} s in the {L.get('window_s', 0):.1f} s launch window")
    if key == "console_trials":
        gaps = [c["max_gap_s"] for c in run.get("trial_console", [])]
        return (f"per trial {', '.join(f'{g:.2f}' for g in gaps)} s; the launchday fan-outs took"
                f" {', '.join(f'{x:.0f}' for x in (y['fanout_ms'] for y in t['launchday']['trials']))} ms")
    if key.startswith("console"):
        c = L.get("console", {})
        return (f"longest gap {c.get('max_gap_s', math.nan):.2f} s in the launch ({L.get('tag')}), beginning"
                f" {c.get('gap_began_s', math.nan) - 1:.2f} s after the press (the fire at +5 s); longest in the"
                f" side-by-side trials {console_gaps(run).get('trials', math.nan):.2f} s; the server used"
                f" {L.get('server_cpu_s', 0):.1f} s of CPU ({L.get('server_sys_s', 0):.1f} s in the kernel) in the"
                f" {L.get('window_s', 0):.1f} s launch window; trickle acks meanwhile p99"
                f" {L.get('trickle_ack_ms', {}).get('p99', math.nan):.0f} ms, max {L.get('trickle_ack_ms', {}).get('max', math.nan):.0f} ms")
    if key == "rss":
        ld = t["launchday"]
        return f"VmRSS {ld['rss_before_kb']:,} KB → {ld['rss_after_kb']:,} KB with {ld['connected']:,} sockets"
    return ""


def client_q(d: dict[str, Any]) -> str:
    """Client-side figures with their n: a p99 of fewer than 1,000 samples is no percentile, so the max."""
    n = int(d.get("n") or 0)
    if not n:
        return "–"
    if n < 1000:
        return f"p50 {_f(d.get('p50'))}, max {_f(d.get('max'))} ms (n = {n:,})"
    return f"p50 {_f(d.get('p50'))} / p99 {_f(d.get('p99'))} / max {_f(d.get('max'))} ms (n = {n:,})"


def server_q(d: dict[str, Any] | None) -> str:
    """Server-side figures from /metrics histograms: each bound is its bucket's upper edge (≤)."""
    n = int((d or {}).get("n") or 0)
    if not n:
        return "–"
    if n < 1000:
        return f"p50 ≤ {_f(d.get('p50_le'))}, max ≤ {_f(d.get('max_le'))} ms (n = {n:,})"
    return f"p50 ≤ {_f(d.get('p50_le'))} / p99 ≤ {_f(d.get('p99_le'))} / max ≤ {_f(d.get('max_le'))} ms (n = {n:,})"


def sides_table(result: dict[str, Any]) -> list[str]:
    """The same acks seen from both ends: a client-side delay shows as the difference."""
    out = ["", "The same acks from both ends (server: `launchday_ack_seconds`, a frame's arrival to its ack's"
           " write; client: send → ack read):", "",
           "| points | what | client side | server side | CPU server / clients |", "| ---: | --- | --- | --- | --- |"]
    for run in result["runs"]:
        mo = run.get("morning", {})
        ck = mo.get("checkin")
        if ck:
            out.append(f"| {run['n']:,} | check-in acks | {client_q(ck)} | {server_q(ck.get('server_side_ms'))}"
                       f" | {_f(ck.get('server_cpu_s'))} / {_f(ck.get('fleet_cpu_s'))} s |")
        for key, tag in LAUNCHES:
            L = mo.get(key)
            if not L or "trickle_ack_server_ms" not in L:
                continue
            out.append(f"| {run['n']:,} | `attendees` acks through the launch ({tag}) |"
                       f" {client_q(L.get('trickle_ack_client_ms', {}))} | {server_q(L.get('trickle_ack_server_ms'))}"
                       f" | {_f(L.get('server_cpu_s'))} / {_f(L.get('fleet_cpu_s'))} s |")
            out.append(f"| {run['n']:,} | launch: press → last countdown write ({tag}) | lag via PointClient"
                       f" {client_q(L.get('lag_ms', {}))} | {_f(L.get('launch_written_ms'))} ms | |")
    return out if len(out) > 5 else []


def _median(xs: list[float]) -> float:
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    return xs[len(xs) // 2] if xs else math.nan


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    when = result["started_utc"][:16].replace("T", " ")
    lines = [
        f"### Launch morning at scale, {when} UTC", "",
        f"Commit `{m['commit']}`{' with uncommitted changes in the tree' if m['dirty'] else ' (clean tree)'};"
        f" {m['cpu']} × {m['cpus']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, Python {m['python']};"
        f" `{result['command']}`, {result['duration_s']:.0f} s; load average {' '.join(result['loadavg_start'])} at"
        f" the start, {' '.join(m['loadavg'])} at the end; {result['busy_cpus_before']:.1f} CPUs busy in the 3 s"
        " before it started. " + (f"Pinned: servers on CPU {','.join(map(str, result['pinning']['server']))},"
                                  f" clients (fleets and the bench) on CPU {','.join(map(str, result['pinning']['client']))}."
                                  if result.get("pinning") else "Servers and client fleets share the CPUs."), "",
        "launchday (`launchday serve`, uvloop):", "",
        "| points | fleets | connect | RSS / conn | check-in ack p50 / p99 | launch lag p50 / p99 / max | fan-out in"
        " the server | fire skew p99 / max, as shipped | fire skew p99 / max, no countdown re-sync"
        " | lag via PointClient p99 | console max gap | server CPU |",
        "| ---: | ---: | ---: | ---: | --- | --- | ---: | --- | --- | ---: | --- | ---: |",
    ]
    for run in result["runs"]:
        ld, mo = run["targets"].get("launchday", {}), run.get("morning", {})
        L, L2, ck = mo.get("launch", {}), mo.get("launch_no_resync", {}), mo.get("checkin", {})
        lag, gaps = ld.get("lag_ms", {}), console_gaps(run)
        gap_text = " / ".join(f"{gaps[k]:.2f} s" for k in ("trials", "launch", "launch_no_resync") if k in gaps)
        lines.append(
            f"| {run['n']:,} | {run['fleets']} | {_f(ld.get('connect_per_s'), '{:,.0f}')}/s"
            f" | {_f(ld.get('rss_per_conn_kb'))} KB | {_f(ck.get('p50'))} / {_f(ck.get('p99'))} ms"
            f" | {_f(lag.get('p50'))} / {_f(lag.get('p99'))} / {_f(lag.get('max'))} ms | {_f(ld.get('fanout_ms'))} ms"
            f" | {_f(L.get('skew_ms', {}).get('p99'), '{:.2f}')} / {_f(L.get('skew_ms', {}).get('max'), '{:.2f}')} ms"
            f" | {_f(L2.get('skew_ms', {}).get('p99'), '{:.2f}')} / {_f(L2.get('skew_ms', {}).get('max'), '{:.2f}')} ms"
            f" | {_f(L.get('lag_ms', {}).get('p99'))} ms | {gap_text or '–'}"
            f" | {_f(run.get('server_cpu_total_s'))} s |")
    lines += ["", "Console max gap: side-by-side trials / launch as shipped / launch without the countdown re-sync.",
              "", "Side by side, the same bare clients (`fleet --mode plain`), median of the trials:", "",
              "| points | server | connect | RSS / conn | lag p50 | lag p99 | lag max | fan-out in the server"
              " | launchday p99 ÷ this |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in result["runs"]:
        base = _lag(run, "launchday")
        for name, t in run["targets"].items():
            lg = t["lag_ms"]
            ratio = f"{base / lg['p99']:.2f}×" if base and name != "launchday" else ""
            lines.append(f"| {run['n']:,} | {name} | {t['connect_per_s']:,.0f}/s | {t['rss_per_conn_kb']:.1f} KB"
                         f" | {lg['p50']:.1f} ms | {lg['p99']:.1f} ms | {lg['max']:.1f} ms | {t['fanout_ms']:.1f} ms"
                         f" | {ratio} |")
        for name, why in run.get("skipped", {}).items():
            lines.append(f"| {run['n']:,} | {name} ref | skipped: {why} | | | | | | |")
    lines += sides_table(result)
    for run in result["runs"]:
        if run.get("desk_consoles"):
            lines += ["", f"{run['n']:,} points with {run['desk_consoles']} desks' consoles connected (one commune"
                      f" each): they received {run.get('desk_frames', 0):,} frames, {run.get('desk_bytes', 0):,} bytes."]
    if result["rows"]:
        lines += ["", "Targets:", "", "| target | measured | limit | result |", "| --- | ---: | --- | --- |"]
        lines += [f"| {r['figure']} | {r['measured']} | {r['target']} | {'PASS' if r['ok'] else '**MISS**'} |"
                  for r in result["rows"]]
    lines += ["", "Details:", ""]
    for run in result["runs"]:
        n, mo = run["n"], run.get("morning", {})
        for name, t in run["targets"].items():
            tr = t["trials"]
            fan = ", ".join(f"{x:.1f}" for x in (y["fanout_ms"] for y in tr))
            lines.append(
                f"- {n:,}, {name}: {t['connected']:,} connected in {t['connect_s']:.2f} s ({t['failed']} failed,"
                f" server CPU {t['connect_cpu_s']:.1f} s); VmRSS {t['rss_before_kb']:,} → {t['rss_after_kb']:,} KB;"
                f" trial p99s {', '.join(f'{x:.1f}' for x in t['lag_ms']['trial_p99s'])} ms; fan-out"
                f" {fan} ms; server CPU per trial"
                f" {_median([x['server_cpu_s'] for x in tr]):.2f} s, fleets {_median([x['fleet_cpu_s'] for x in tr]):.2f} s"
                + (f"; press → REST answer {_median([x['answer_ms'] for x in tr]):.1f} ms" if name.startswith("launchday") else "")
                + (f"; {t['gc']['gen2_count']:.0f} full collections in the trials ({1000 * t['gc']['gen2_s']:.0f} ms),"
                   f" the longest so far {1000 * t['gc']['longest_s']:.0f} ms" if "gc" in t else "")
                + (f"; {sum(x['missing'] for x in tr)} frames missing" if any(x["missing"] for x in tr) else "") + ".")
        if mo:
            ck, L = mo.get("checkin", {}), mo.get("launch", {})
            lines.append(
                f"- {n:,}, PointClients: connected and clock-synced in {mo.get('ready_s', math.nan):.1f} s (server CPU"
                f" {mo.get('connect_sync_cpu_s', math.nan):.1f} s), worst rtt/2 {mo.get('worst_bound_ms', math.nan):.2f} ms;"
                f" {ck.get('n', 0):,} check-ins over {ck.get('spread_s', math.nan):.1f} s: ack p50 {_f(ck.get('p50'))},"
                f" p99 {_f(ck.get('p99'))}, max {_f(ck.get('max'))} ms, {ck.get('errors')} errors, server CPU"
                f" {ck.get('server_cpu_s', math.nan):.1f} s.")
            for key, _ in LAUNCHES:
                L = mo.get(key)
                if not L:
                    continue
                e, c = L["offset_error_ms"], L["console"]
                lines.append(
                    f"- {n:,}, launch ({L['tag']}{', rehearsal' if L.get('rehearsal') else ''}): {L['fired']:,} of"
                    f" {L['clients']:,} fired (skew p50 {L['skew_ms']['p50']:.2f}, p99 {L['skew_ms']['p99']:.2f}, max"
                    f" {L['skew_ms']['max']:.2f} ms; by fleet process p50/p99 "
                    + ", ".join(f"{f['p50']:.1f}/{f['p99']:.1f}" for f in L.get("skew_by_fleet_ms", []))
                    + f" ms; offset estimate error p99 {e['p99']:.2f}, max {e['max']:.2f} ms),"
                    f" {L.get('reported')} `launch.fired` reports counted; press → answer {L['answer_ms']:.1f} ms,"
                    f" fan-out {L['fanout_ms']:.1f} ms, PointClient lag p50 {L['lag_ms']['p50']:.1f} / p99"
                    f" {L['lag_ms']['p99']:.1f} / max {L['lag_ms']['max']:.1f} ms; in the {L['window_s']:.1f} s window"
                    f" server CPU {L['server_cpu_s']:.1f} s ({L.get('server_sys_s', 0):.1f} s kernel), machine"
                    f" {L['busy_cpu_s']:.1f} s; console: {c['deltas']} deltas, longest gap {c['max_gap_s']:.2f} s;"
                    f" trickle `attendees` acks p99 {L['trickle_ack_ms']['p99']:.0f}, max {L['trickle_ack_ms']['max']:.0f} ms;"
                    f" {L['gc']['gen2_count']:.0f} full collections ({1000 * L['gc']['gen2_s']:.0f} ms).")
    big = max(result["runs"], key=lambda r: r["n"]) if result["runs"] else None
    misses = [r for r in result["rows"] if not r["ok"]]
    if misses and big:
        lines += ["", "Misses:", ""]
        for r in misses:
            lines.append(f"- **{r['figure']}**: {r['measured']} against {r['target']}. Measured with it:"
                         f" {cause(big, r['key'])}.")
    return "\n".join(lines) + "\n"
