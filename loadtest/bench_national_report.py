"""The report half of ``loadtest/bench_national.py``: where the machine is the
limit, and the markdown section for docs/benchmarks.md."""

from __future__ import annotations

import math
from typing import Any

from loadtest.bench_report import _f, client_q, server_q

BUSY = 0.9  # a side that used this share of its pinned CPUs over a phase was the limit there
# The import is one request on one process: CPU-bound on any machine, so not judged here.
PHASES = ("arrivals", "checkin", "attendees", "launch")
SHORTEST = 3.0  # seconds: a phase shorter than this is not judged either


def limits(result: dict[str, Any], connect_limit_s: float) -> list[str]:
    """One sentence for each place where this machine, not launchday, set a figure."""
    run, out = result["run"], []
    if not run:
        return ["the run did not finish"]
    if run["points"] < run["full_registry"]:
        out.append(f"{run['points']:,} of the registry's {run['full_registry']:,} points (`--points`): a subset,"
                   " not the national size")
    pin = result.get("pinning") or {}
    for name in PHASES:
        p = run["phases"].get(name)
        if not p or p["wall_s"] < SHORTEST:
            continue
        for side, cpus in (("server", len(pin.get("server", [])) or run["cpus"]["server"]),
                           ("client", len(pin.get("client", [])) or run["cpus"]["client"])):
            util = p[f"{side}_util"]
            if util >= BUSY:
                who = "the servers and Redis" if side == "server" else "the client fleets"
                out.append(f"{name}: {who} used {100 * util:.0f} % of their {cpus} CPU{'s' * (cpus > 1)}"
                           f" ({p[f'{side}_cpu_s']:.1f} s of CPU in {p['wall_s']:.1f} s): the CPUs are the limit of"
                           f" this phase's figures")
    cd = run.get("phases", {}).get("launch", {}).get("countdown")
    if cd:  # the fire skew is decided in the countdown: a busy side there is the machine's skew
        for side, who in (("client", "the client fleets"), ("server", "the servers and Redis")):
            if cd[f"{side}_util"] >= BUSY:
                out.append(f"launch countdown (press → fire + 0.2 s, {cd['wall_s']:.1f} s): {who} used"
                           f" {100 * cd[f'{side}_util']:.0f} % of their CPUs: the fire skew and lag are this machine's")
    c = run.get("connect", {})
    if c.get("connect_sync_s", 0) > connect_limit_s:
        out.append(f"arrivals took {c['connect_sync_s']:.0f} s (over {connect_limit_s:.0f} s): the connect rate"
                   " is this machine's")
    if c.get("gate_per_s") and c.get("connect_per_s", 0) >= 0.8 * c["gate_per_s"]:
        out.append(f"the connect rate ({c['connect_per_s']:,.0f}/s) is near the fleets' own clock-sync gate"
                   f" (about {c['gate_per_s']:,.0f}/s: `--sync-concurrency` clients per fleet at once): it measures"
                   " the harness, not the servers")
    f = run.get("fleets", {})
    if f.get("by_fd_limit"):
        out.append(f"{f['n']} fleet processes on {run['cpus']['client']} client CPU(s), because the open-file"
                   f" limit ({f['fd_limit']:,}) caps the sockets of one process: more spinning fleets than CPUs"
                   " add time slices to the fire skew")
    if not pin:
        out.append("not pinned: servers and clients shared every CPU")
    return out


def _cpu(p: dict[str, Any] | None) -> str:
    if not p:
        return "–"
    return (f"{p['server_cpu_s']:.1f} s ({100 * p['server_util']:.0f} %) / {p['client_cpu_s']:.1f} s"
            f" ({100 * p['client_util']:.0f} %)")


def _countdown(cd: dict[str, Any] | None) -> str:
    if not cd:
        return ""
    return f"; press → fire: {100 * cd['server_util']:.0f} % / {100 * cd['client_util']:.0f} %"


def _mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def markdown(result: dict[str, Any]) -> str:
    m, run = result["machine"], result["run"]
    when = result["started_utc"][:16].replace("T", " ")
    pin = result.get("pinning") or {}
    aof = (run or {}).get("redis_aof", {})
    lines = [
        f"### The national morning, {when} UTC", "",
        f"Commit `{m['commit']}`{' with uncommitted changes in the tree' if m['dirty'] else ' (clean tree)'};"
        f" {m['cpu']} × {m['cpus']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, Python {m['python']},"
        f" Redis {result['redis_version']} (`appendonly {aof.get('appendonly', '?')}`, `appendfsync"
        f" {aof.get('appendfsync', '?')}`); `{result['command']}`,"
        f" {result['duration_s']:.0f} s; load average {' '.join(result['loadavg_start'])} at the start,"
        f" {' '.join(m['loadavg'])} at the end; {result['busy_cpus_before']:.1f} CPUs busy in the 3 s before it"
        " started. " + (f"Pinned: {result['procs']} processes and Redis on CPU {','.join(map(str, pin['server']))},"
                        f" the fleets and the bench on CPU {','.join(map(str, pin['client']))}."
                        if pin else "Servers and client fleets share the CPUs."), ""]
    if not run:
        return "\n".join([*lines, "The run did not finish."]) + "\n"
    imp, c, L, lost = run["import"], run["connect"], run.get("launch", {}), run.get("lost", {})
    con = run.get("console", {})
    red, rss = run.get("redis", {}), run.get("rss_kb", {})
    desks = run.get("desks", {})
    lines += [
        f"{run['points']:,} points (the registry: {run['full_registry']:,}, {result['per_unit']} under each unit),"
        f" grouped by {run.get('group_level')}, on {result['procs']} processes; {run['fleets']['n']} fleet"
        f" process(es) of `PointClient`s, clocks off by up to ±5 s; desks: "
        + (f"{desks['connected']} connected." if desks.get("connected") else f"skipped ({desks.get('skipped')}).")
        + "", "",
        "| figure | client side | server side | CPU servers+Redis / clients |", "| --- | --- | --- | --- |",
        f"| import ({imp['rows']:,} rows, {imp['bytes'] / 1e6:.1f} MB, through process 1) |"
        f" {imp['seconds']:.2f} s; on every process after {imp['visible_everywhere_s']:.2f} s | |"
        f" {_cpu(run['phases'].get('import'))} |",
        f"| arrivals: connected and clock-synced | {c['connected']:,} in {c['connect_sync_s']:.1f} s"
        f" ({c['connect_per_s']:,.0f}/s); quiet re-sync done at {c['ready_s']:.1f} s; worst rtt/2"
        f" {c['worst_bound_ms']:.1f} ms | | {_cpu(run['phases'].get('arrivals'))} |"]
    for key, label in (("checkin", "check-in acks"), ("attendees", "`attendees` acks")):
        p = run.get(key)
        if p:
            shape = f", triangular, peak at {100 * p['peak']:.0f} %" if p.get("peak") is not None else ", uniform"
            lines.append(f"| {label} (over {p['spread_s']:.0f} s{shape}; {p['errors']} errors) |"
                         f" {client_q(p['client_ms'])} | {server_q(p['server_ms'])} | {_cpu(p)} |")
    if L:
        sk = L["skew_ms"]
        skew = (f"p50 {sk['p50']:.2f} / p99 {sk['p99']:.2f} / max {sk['max']:.2f} ms (n = {sk['n']:,})"
                if sk["n"] >= 1000 else f"p50 {_f(sk['p50'], '{:.2f}')}, max {_f(sk['max'], '{:.2f}')} ms (n = {sk['n']:,})")
        written = ", ".join(_f(w, "{:.0f}") for w in L["written_ms"])
        lines += [f"| launch: fire skew (clock at fire − `fire_at_ms`, absolute) | {skew}; {L['fired']:,} fired of"
                  f" {L['connected']:,} connected{'' if L['every_connected_fired'] else ' (**not every point**)'} |"
                  f" | {_cpu(L)}{_countdown(L.get('countdown'))} |",
                  f"| launch: press → countdown frame | {client_q(L['lag_ms'])} | decision → last write per"
                  f" process {written} ms | |"]
    lines += [
        f"| console (unscoped, process 1) | {con.get('deltas', 0):,} deltas, {con.get('per_s', 0):.1f}/s,"
        f" {con.get('bytes_per_s', 0) / 1024:,.1f} KiB/s; largest {con.get('largest', 0) / 1024:,.1f} KiB, p50"
        f" {_f(con.get('p50_bytes', math.nan), '{:,.0f}')} B; snapshot {con.get('snapshot_bytes', 0) / 1e6:.1f} MB | | |",
        f"| acknowledged writes lost (must be 0) | **{lost.get('lost')}** of {lost.get('acked_writes', 0):,} acked"
        f" ({lost.get('points_checked', 0):,} points, checked on every process:"
        f" {', '.join(str(p['lost']) for p in lost.get('per_process', []))}) | | |",
        f"| RSS after the rounds | servers {', '.join(_mb(x) for x in rss.get('servers', []))}; Redis"
        f" {_mb(rss.get('redis', 0))}; fleets {', '.join(_mb(x) for x in rss.get('fleets', []))} | | |",
        f"| Redis | `used_memory` {red.get('used_memory', 0) / 2**20:,.0f} MiB; {red.get('ops_per_s', 0):,.0f}"
        f" ops/s over the run ({red.get('seconds', 0):.0f} s), `instantaneous_ops_per_sec`"
        f" {red.get('instantaneous_ops_per_sec_mid', 0):,} after the rounds; AOF"
        f" {red.get('aof_current_size', 0) / 2**20:,.1f} MiB | | |"]
    by_phase = run.get("console_by_phase", {})
    if by_phase:
        lines += ["", "Console deltas by phase: " + "; ".join(
            f"{k} {v['deltas']} ({v['per_s']:.1f}/s, {v['bytes_per_s'] / 1024:,.1f} KiB/s, largest"
            f" {v['largest'] / 1024:,.1f} KiB)" for k, v in by_phase.items()) + "."]
    if desks.get("consoles"):
        d = desks["consoles"]
        lines += ["", f"Desks: {len(d)} scoped consoles, deltas {sum(x['deltas'] for x in d):,} in all, largest"
                      f" {max(x['largest'] for x in d) / 1024:,.1f} KiB, snapshots up to"
                      f" {max(x['snapshot_bytes'] for x in d) / 1024:,.0f} KiB."]
    lim = result.get("limits") or []
    lines += ["", "Where this machine is the limit: " + ("; ".join(lim) + "." if lim else
                                                         "nowhere measured (no side over 90 % of its CPUs).")]
    return "\n".join(lines) + "\n"
