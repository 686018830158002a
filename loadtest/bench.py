"""Launch morning at scale: launchday side by side with reference servers (not a test).

    .venv/bin/python -m loadtest.bench                      # N = 1,000, 5,000, 10,000 (~10 min)
    .venv/bin/python -m loadtest.bench --points 10000       # one size
    .venv/bin/python -m loadtest.bench --smoke --no-docs    # N = 200, a few seconds of each (the test suite's)

`--wait-quiet S` first waits up to S seconds for a quiet machine; `--out FILE.json`
keeps the raw figures; `--no-docs` skips this page; `--profile DIR` runs
`py-spy record` on the launchday server during the launch bursts (its figures
are then not for the table: the profiler shares the CPUs).

For each N it starts, on free 127.0.0.1 ports with temporary data directories:
`launchday serve` (uvloop, the default), `launchday serve --no-uvloop`, and
the reference servers of `loadtest/refs/`: a minimal `websockets` server
broadcasting with `websockets.broadcast` (on uvloop), and a minimal Node.js
`ws` server (skipped with the reason printed where node/npm are missing or
`npm install` fails). Every process's RLIMIT_NOFILE is raised to its hard limit.
The clients are fleet processes (`loadtest/fleet.py`, one per 2,500 points,
at least two), on the same two CPUs as the servers.

1. **Side by side, the same clients** (`fleet --mode plain`): bare WebSocket
   clients on uvloop that stamp `time.time()` when they read a frame, before
   any parsing. N sockets per server (launchday: one per point, on
   `/ws/point?token=…`). **Connect rate**: N connections, 100 in flight, to
   the welcome (launchday) or hello frame (references). **RSS per
   connection**: the server's VmRSS before and 2 s after, over N. Then
   trials, interleaved across the servers in rotating order: launchday is
   armed (a rehearsal, 3 s countdown) and the bench takes `time.time()`
   just before it sends `POST …/launch/press`; a reference is poked by a
   control WebSocket message. **Lag** = each client's receipt of the
   `countdown` frame (the same bytes for the references) − that time, all
   on this machine's clock. The headline per server is the median over the
   trials of each trial's p50 and p99, and the max of all; the ratios compare
   those p99s. The servers' own loop time for the fan-out is read after each
   trial (launchday: `launchday_fanout_last_seconds{kind="points"}`).
2. **The launch morning, with the protocol client** (`fleet --mode point`,
   launchday on uvloop): N `checkin.PointClient`s, each with its clock off by
   up to ±5 s, connect and clock-sync (a quiet round after everyone is in);
   every point checks in once, at 1,000 check-ins a second (**check-in ack
   latency**, send → ack); then a real launch (5 s countdown): **fire skew**
   = |the machine's clock when a client fired − `fire_at_ms`|, the lag as
   PointClient's `on_launch` sees it, the server's fan-out time.
3. Throughout, an organizer console (`/ws/console`, admin bearer token) is
   connected to launchday, and 4 more points send an `attendees` update every
   100 ms between them (so that there is always something for a delta):
   **console max gap** = the longest time between two `delta` frames from 1 s
   before each press to 3 s after the fire. **Server CPU** = utime + stime
   from `/proc/<pid>/stat`, by phase.

Targets (10,000 points, clients on the same 2-CPU machine): idle RSS ≤ 30 KB per
connection; lag p99 ≤ 1.1× the `websockets` reference and below the Node `ws`
reference; fire skew p99 ≤ 5 ms; no console gap over 1 s during the burst.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from loadtest import _procs
from loadtest._procs import (
    ROOT,
    Fleet,
    RefServer,
    Server,
    ask_all,
    busy_s,
    cpu_s,
    cpu_split,
    scrape,
)
from loadtest.bench_clients import Console, DeskConsoles, H, Trickle, stats
from loadtest.bench_report import markdown, rows
from loadtest.metrics_window import gc_delta, gc_stats, server_side

DOCS = ROOT / "docs" / "benchmarks.md"
MATCH = '"state":"countdown"'
TRICKLE = 4  # extra points that keep the console's deltas coming
FANOUT_KEY = 'launchday_fanout_last_seconds{kind="points"}'
# launchday run other ways, side by side with the default (uvloop): (name, serve options, environment)
VARIANTS: list[tuple[str, tuple[str, ...], dict[str, str] | None]] = [("launchday --no-uvloop", ("--no-uvloop",), None)]
EVENT = {"name": "Lễ phát động (bench)", "starts_at": "2025-05-08T08:00:00+07:00",
         "report_deadline": "2025-05-08T07:30:00+07:00", "timezone": "Asia/Ho_Chi_Minh"}


class Run:
    """Everything measured at one N."""

    def __init__(self, n: int, args: argparse.Namespace, tmp: Path, s: aiohttp.ClientSession) -> None:
        self.n, self.args, self.tmp, self.s = n, args, tmp, s
        self.k = max(2, math.ceil(n / 2500))
        self.out: dict[str, Any] = {"n": n, "fleets": self.k, "targets": {}, "skipped": {}}

    async def call(self, srv: Server, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        async with self.s.request(method, srv.base + path, headers={**H, **kw.pop("headers", {})}, **kw) as r:
            body = await r.read()
            if r.status not in ok:
                raise RuntimeError(f"{method} {path}: {r.status} {body[:300]!r}")
            return json.loads(body) if body else None

    async def launchday(self, name: str, extra: tuple[str, ...],
                        env: dict[str, str] | None = None) -> tuple[Server, str, list[str]]:
        from loadtest.bench_foundation import demo_csv

        srv = Server(self.tmp / name.replace(" ", "_").replace(",", "") / "data", extra=extra, env=env).start()
        eid = str((await self.call(srv, "POST", "/api/events", (201,), json=EVENT))["id"])
        await self.call(srv, "POST", f"/api/events/{eid}/points/import", data=demo_csv(extra=max(0, self.n + TRICKLE - 1018)),
                        headers={"Content-Type": "text/csv"})
        tokens = [p["token"] for p in await self.call(srv, "GET", f"/api/events/{eid}/points")]
        return srv, eid, tokens[: self.n + TRICKLE]

    # -- 1. side by side ---------------------------------------------------------

    async def side_by_side(self) -> None:
        a, fleets, targets = self.args, [], {}
        payload = self.tmp / "payload.json"
        payload.write_text(json.dumps({"type": "launch", "launch": {
            "state": "countdown", "countdown_ms": 3000, "keys_required": 1, "keys_pressed": ["bench"],
            "fire_at_ms": time.time() * 1000, "rehearsal": True, "armed_ms": time.time() * 1000,
            "pressed": [{"key": "bench", "at_ms": time.time() * 1000}]}}, separators=(",", ":")))
        ld = self.ld
        targets["launchday"] = {"proc": ld, "eid": self.eid, "tokens": self.tokens[: self.n]}
        if not a.no_variants:
            for name, extra, env in VARIANTS:
                srv, eid2, tok2 = await self.launchday(name, extra, env)
                targets[name] = {"proc": srv, "eid": eid2, "tokens": tok2[: self.n]}
        refs = [("websockets", True)]
        why = _procs.node_ready(install=not a.no_install)
        if why is None:
            refs.append(("node", True))
        else:
            self.out["skipped"]["node"] = why
            print(f"  node reference skipped: {why}", flush=True)
        for kind, uv in refs:
            ref = RefServer(kind, payload, self.tmp, uv).start()
            ctl = await self.s.ws_connect(f"ws://127.0.0.1:{ref.port}/control")
            targets[f"{kind} ref"] = {"proc": ref, "ctl": ctl}
        spec = [[{"name": name, "url": f"ws://127.0.0.1:{t['proc'].port}/ws/point?token=",
                  "tokens": t["tokens"][i::self.k]} if "tokens" in t else
                 {"name": name, "url": f"ws://127.0.0.1:{t['proc'].port}/", "n": len(range(i, self.n, self.k))}
                 for name, t in targets.items()] for i in range(self.k)]
        for i in range(self.k):
            (self.tmp / f"targets-{i}.json").write_text(json.dumps(spec[i]))
            fleets.append(await Fleet(["--mode", "plain", "--targets", str(self.tmp / f"targets-{i}.json")],
                                      f"plain-{self.n}-{i}", self.tmp).start())
        await asyncio.gather(*(f.line(60) for f in fleets))
        try:
            for name, t in targets.items():
                t["out"] = self.out["targets"][name] = await self.connect(name, t["proc"], fleets)
            order = list(targets)
            for name in order:  # a first launch warms caches and code paths up: not counted
                await self.trial(name, targets[name], fleets, record=False)
            prof = _procs.profile(self.args.profile, ld.pid, f"trials-{self.n}", self.args.native)
            gc0 = {name: gc_stats(t["proc"].port) for name, t in targets.items() if "eid" in t}
            for trial in range(a.trials):
                r = trial % len(order)
                for name in order[r:] + order[:r]:
                    res = await self.trial(name, targets[name], fleets)
                    targets[name]["out"]["trials"].append(res)
                    print(f"  trial {trial + 1} {name:<22} lag p50 {res['lag']['p50']:7.1f} p99 {res['lag']['p99']:7.1f}"
                          f" max {res['lag']['max']:7.1f} ms, fan-out {res['fanout_ms']:6.1f} ms"
                          f"{', missing ' + str(res['missing']) if res['missing'] else ''}", flush=True)
            _procs.stop_profile(prof)
            for name, before in gc0.items():
                targets[name]["out"]["gc"] = gc_delta(before, gc_stats(targets[name]["proc"].port))
            for name in targets:
                await ask_all(fleets, {"cmd": "close", "target": name}, 60)
        finally:
            for f in fleets:
                await f.stop()
            for t in targets.values():
                if "ctl" in t:
                    await t["ctl"].close()
                if t["proc"] is not ld:
                    t["proc"].stop()
        for t in self.out["targets"].values():
            tr = t["trials"]
            t["lag_ms"] = {"p50": statistics.median(x["lag"]["p50"] for x in tr),
                           "p99": statistics.median(x["lag"]["p99"] for x in tr),
                           "max": max(x["lag"]["max"] for x in tr), "trial_p99s": [x["lag"]["p99"] for x in tr]}
            t["fanout_ms"] = statistics.median(x["fanout_ms"] for x in tr)

    async def connect(self, name: str, proc: Any, fleets: list[Fleet]) -> dict[str, Any]:
        await asyncio.sleep(1.0)
        rss0, c0 = _procs.rss_kb(proc.pid), cpu_s(proc.pid)
        res = await ask_all(fleets, {"cmd": "connect", "target": name, "parallel": max(10, 100 // self.k)},
                            120 + self.n / 20)
        c1 = cpu_s(proc.pid)
        n = sum(r["n"] for r in res)
        seconds = max(r["t1_mono"] for r in res) - min(r["t0_mono"] for r in res)
        await asyncio.sleep(2.0)
        rss1 = _procs.rss_kb(proc.pid)
        failed = sum(r["failed"] for r in res)
        print(f"  {name:<24} {n:,} connected in {seconds:.2f} s ({n / seconds:,.0f}/s), {failed} failed;"
              f" RSS {rss0:,} → {rss1:,} KB ({(rss1 - rss0) / max(n, 1):.1f} KB each)", flush=True)
        if failed:
            print(f"    first errors: {[e for r in res for e in r['first_errors']][:3]}", flush=True)
        return {"connected": n, "failed": failed, "connect_s": seconds, "connect_per_s": n / seconds,
                "connect_cpu_s": c1 - c0, "rss_before_kb": rss0, "rss_after_kb": rss1,
                "rss_per_conn_kb": (rss1 - rss0) / max(n, 1), "trials": []}

    async def trial(self, name: str, t: dict[str, Any], fleets: list[Fleet], record: bool = True) -> dict[str, Any]:
        proc, launchday = t["proc"], "eid" in t
        base = f"/api/events/{t.get('eid')}/launch"
        if launchday:
            await self.call(proc, "POST", base + "/arm", json={"countdown_ms": 3000, "keys_required": 1,
                                                               "rehearsal": True})
        armed = await ask_all(fleets, {"cmd": "arm", "target": name, "match": MATCH}, 30)
        await asyncio.sleep(0.3)
        c0, f0, b0 = cpu_split(proc.pid), sum(a["cpu_s"] for a in armed), busy_s()
        poke = time.time()
        if launchday:
            await self.call(proc, "POST", base + "/press", json={"key": "bench"})
            answer_ms = (time.time() - poke) * 1000.0
        else:
            await t["ctl"].send_str("broadcast")
            fan = await t["ctl"].receive_json(timeout=60)
            answer_ms = (time.time() - poke) * 1000.0
        got = await ask_all(fleets, {"cmd": "collect", "target": name, "timeout_s": 15}, 60)
        c1, f1, b1 = cpu_split(proc.pid), sum(r["cpu_s"] for r in got), busy_s()
        if launchday:
            fanout_ms = scrape(proc.port).get(FANOUT_KEY, math.nan) * 1000.0
            if proc is self.ld and record:  # the deltas from 1 s before the press to 0.5 s after the last receipt
                await asyncio.sleep(0.5)
                self.out.setdefault("trial_console", []).append(self.console.max_gap(poke - 1.0, time.time()))
            st, _ = await self._status(proc, base + "/abort")
            if st != 200:  # the countdown ran out first: wait for the fire, then reset
                await asyncio.sleep(3.7)
            await self.call(proc, "POST", base + "/reset")
        else:
            fanout_ms = float(fan["fanout_s"]) * 1000.0
        lag = [x - poke * 1000.0 for r in got for x in r["recv_ms"]]
        return {"lag": stats(lag), "missing": sum(r["missing"] for r in got), "closed": sum(r["closed"] for r in got),
                "close_codes": sorted({c for r in got for c in r["close_codes"]}), "fanout_ms": fanout_ms,
                "answer_ms": answer_ms, "server_cpu_s": sum(c1) - sum(c0), "server_sys_s": c1[1] - c0[1],
                "fleet_cpu_s": f1 - f0, "busy_cpu_s": b1 - b0}

    async def _status(self, srv: Server, path: str) -> tuple[int, Any]:
        async with self.s.post(srv.base + path, headers=H) as r:
            return r.status, await r.read()

    # -- 2. the morning, with the protocol client -----------------------------------

    async def morning(self) -> None:
        srv, eid, a = self.ld, self.eid, self.args
        # No more fleets than CPUs here: each spins through the last 2 ms before
        # the fire, and more spinning processes than CPUs turn the scheduler's
        # time slices into fire skew (measured: docs/benchmarks.md).
        # Pinned, the fleets share the client CPUs only: as many fleets as those.
        cpus = len(_procs.PIN["client"]) if _procs.PIN else (os.cpu_count() or 2)
        k = a.point_fleets or min(self.k, cpus)
        fleets = []
        for i in range(k):
            f = self.tmp / f"tokens-{i}.txt"
            f.write_text("\n".join(self.tokens[: self.n][i::k]))
            fleets.append(await Fleet(
                ["--server", srv.base, "--tokens", str(f), "--seed", str(i + 1), "--commands", "--uvloop",
                 "--offset-ms", "5000", "--quiet-concurrency", str(max(5, 40 // k)), "--fire-timeout", "60",
                 "--linger-s", "2"], f"point-{self.n}-{i}", self.tmp).start())
        out: dict[str, Any] = {"fleets": k}
        self.out["morning"] = out
        try:
            c0, t0 = cpu_s(srv.pid), time.perf_counter()
            ready = await asyncio.gather(*(f.line(120 + self.n / 10) for f in fleets))
            out["ready_s"] = time.perf_counter() - t0
            out["connect_sync_s"] = max(r["connect_sync_s"] for r in ready)
            out["connect_sync_cpu_s"] = cpu_s(srv.pid) - c0
            out["worst_bound_ms"] = max(r["worst_bound_ms"] for r in ready)
            print(f"  PointClients: {sum(r['n'] for r in ready):,} connected and synced in {out['ready_s']:.1f} s",
                  flush=True)
            spread = self.n / a.checkin_rate
            c0, m0 = cpu_s(srv.pid), scrape(srv.port)
            res = await ask_all(fleets, {"cmd": "checkin", "go_at": time.time() + 1.0, "spread_s": spread},
                                120 + spread)
            self.fleet_cpu = sum(r["cpu_s"] for r in res)
            lat = [x for r in res for x in r["latencies_ms"]]
            out["checkin"] = {**stats(lat), "spread_s": spread, "errors": sum(r["errors"] for r in res),
                              "server_cpu_s": cpu_s(srv.pid) - c0, "fleet_cpu_s": self.fleet_cpu,
                              "server_side_ms": server_side(m0, scrape(srv.port), 'kind="checkin"')}
            totals = await self.call(srv, "GET", f"/api/events/{eid}/totals")
            out["checked_in"] = totals["checked_in"] - TRICKLE
            print(f"  check-in at {a.checkin_rate:,.0f}/s: ack p50 {out['checkin']['p50']:.1f} p99"
                  f" {out['checkin']['p99']:.1f} ms, {out['checkin']['errors']} errors", flush=True)
            # A: the clients as they ship (a countdown makes a point re-sync if its
            # estimate is over 10 s old: here every point at once); a rehearsal.
            out["launch"] = await self.launch(fleets, "as shipped", {}, rehearsal=True)
            await self.call(srv, "POST", f"/api/events/{eid}/launch/reset")
            await asyncio.sleep(1.0 if a.smoke else 5.0)
            # B: the real launch with that re-sync off, to tell the fan-out and the
            # timers from the re-sync storm (the estimates are then up to 60 s old).
            out["launch_no_resync"] = await self.launch(fleets, "no countdown re-sync",
                                                        {"countdown_resync_after_s": 1e9}, rehearsal=False)
        finally:
            for f in fleets:
                await f.stop()
        self.out["server_cpu_total_s"] = cpu_s(srv.pid)
        self.out["server_rss_end_kb"] = _procs.rss_kb(srv.pid)

    async def launch(self, fleets: list[Fleet], tag: str, opts: dict[str, Any], rehearsal: bool) -> dict[str, Any]:
        """Arm, press, wait for every client to fire; what the fleets and the server saw."""
        srv, base = self.ld, f"/api/events/{self.eid}/launch"
        await self.call(srv, "POST", base + "/arm", json={"countdown_ms": 3000 if self.args.smoke else 5000,
                                                         "keys_required": 1, "rehearsal": rehearsal})
        await asyncio.sleep(0.5)
        for f in fleets:
            await f.send({"cmd": "launch", **opts})
        c0, b0, u0, gc0 = cpu_s(srv.pid), busy_s(), cpu_split(srv.pid), gc_stats(srv.port)
        m_before, t_before = scrape(srv.port), time.time()
        lag0 = {k: v for k, v in m_before.items() if k.startswith("launchday_loop_lag")}
        prof = _procs.profile(self.args.profile, srv.pid, f"launch-{tag.replace(' ', '-')}-{self.n}",
                              self.args.native)
        poke = time.time()
        launch = await self.call(srv, "POST", base + "/press", json={"key": "bench"})
        answer_ms = (time.time() - poke) * 1000.0
        fire_at = float(launch["fire_at_ms"])

        async def after_fired_push() -> tuple[float, dict[str, float]]:  # the reports' window starts here
            await asyncio.sleep(max(0.0, fire_at / 1000 + 0.7 - time.time()))
            return cpu_s(srv.pid), scrape(srv.port)

        reports0 = asyncio.create_task(after_fired_push())
        await asyncio.sleep(1.0)
        fanout_ms = scrape(srv.port).get(FANOUT_KEY, math.nan) * 1000.0
        results = await asyncio.gather(*(f.line(120) for f in fleets))
        fleet_cpu, self.fleet_cpu = sum(r["cpu_s"] for r in results) - self.fleet_cpu, sum(r["cpu_s"] for r in results)
        await asyncio.sleep(max(0.0, fire_at / 1000 + 3.0 - time.time()))
        m_after, t_after = scrape(srv.port), time.time()
        _procs.stop_profile(prof)
        clients = [c for r in results for c in r["clients"]]
        skew = [abs(c["fired_local_wall_ms"] - fire_at) for c in clients if c["fired_local_wall_ms"] is not None]
        est = [abs(c["offset_ms"] + c["simulated_offset_ms"]) for c in clients if c["offset_ms"] is not None]
        lag = [c["launch_recv_wall_ms"] - poke * 1000 for c in clients if c["launch_recv_wall_ms"] is not None]
        per_fleet = [stats([abs(c["fired_local_wall_ms"] - fire_at) for c in r["clients"]
                            if c["fired_local_wall_ms"] is not None]) for r in results]
        got = await self.call(srv, "GET", base)
        # firing reports: wait until every fired client's report is counted (batched, spread over ~5 s)
        until = time.time() + 20
        while (got.get("fired_stats") or {}).get("count", 0) < len(skew) and time.time() < until:
            await asyncio.sleep(0.25)
            got = await self.call(srv, "GET", base)
        r_cpu0, r_m0 = await reports0
        r_m1 = scrape(srv.port)
        # the server loop's own lateness in the window: ticks late by more than 50 ms, wall and busy
        loop_lag = {name: {"ticks": r_m1.get(f"{name}_count", 0.0) - lag0.get(f"{name}_count", 0.0),
                      "over_50ms": (r_m1.get(f"{name}_count", 0.0) - r_m1.get(f'{name}_bucket{{le="0.05"}}', 0.0))
                      - (lag0.get(f"{name}_count", 0.0) - lag0.get(f'{name}_bucket{{le="0.05"}}', 0.0)),
                      "over_20ms": (r_m1.get(f"{name}_count", 0.0) - r_m1.get(f'{name}_bucket{{le="0.02"}}', 0.0))
                      - (lag0.get(f"{name}_count", 0.0) - lag0.get(f'{name}_bucket{{le="0.02"}}', 0.0))}
                    for name in ("launchday_loop_lag_seconds", "launchday_loop_lag_busy_seconds")}
        print(f"  server loop: {loop_lag['launchday_loop_lag_seconds']['over_50ms']:.0f} ticks late by > 50 ms,"
              f" of which busy > 50 ms {loop_lag['launchday_loop_lag_busy_seconds']['over_50ms']:.0f}"
              f" (of {loop_lag['launchday_loop_lag_seconds']['ticks']:.0f})", flush=True)
        reports = {"counted": (got.get("fired_stats") or {}).get("count"), "server_cpu_s": cpu_s(srv.pid) - r_cpu0,
                   "window_s": time.time() - (fire_at / 1000 + 0.7),
                   "durable_writes": r_m1.get("launchday_fired_batches_total", 0.0)
                   - r_m0.get("launchday_fired_batches_total", 0.0),
                   "batched": r_m1.get("launchday_fired_reports_total", 0.0)
                   - r_m0.get("launchday_fired_reports_total", 0.0),
                   "journal_facts": r_m1.get("launchday_journal_facts_total", 0.0)
                   - r_m0.get("launchday_journal_facts_total", 0.0)}
        print(f"  reports: {reports['counted']} counted, {reports['durable_writes']:.0f} batch writes"
              f" ({reports['batched']:.0f} reports), server CPU {reports['server_cpu_s']:.2f} s in the"
              f" {reports['window_s']:.1f} s after the fired push", flush=True)
        L = {"tag": tag, "skew_by_fleet_ms": per_fleet, "rehearsal": rehearsal, "clients": len(clients), "fired": len(skew),
             "skew_ms": stats(skew), "offset_error_ms": stats(est), "lag_ms": stats(lag), "fanout_ms": fanout_ms,
             "answer_ms": answer_ms, "server_cpu_s": cpu_s(srv.pid) - c0,
             "server_sys_s": cpu_split(srv.pid)[1] - u0[1], "fleet_cpu_s": fleet_cpu, "busy_cpu_s": busy_s() - b0,
             "window_s": time.time() - poke, "console": self.console.max_gap(poke - 1.0, fire_at / 1000 + 3.0),
             "trickle_ack_ms": self.trickle.between(poke - 1.0, fire_at / 1000 + 3.0),
             # the same acks as the server saw them (arrival → write), and the launch decision → last write
             "trickle_ack_client_ms": self.trickle.between(t_before, t_after),
             "trickle_ack_server_ms": server_side(m_before, m_after, 'kind="attendees"'),
             "launch_written_ms": r_m1.get("launchday_launch_written_last_seconds", math.nan) * 1000.0,
             "reported": (got.get("fired_stats") or {}).get("count"), "gc": gc_delta(gc0, gc_stats(srv.port)),
             "reports": reports, "loop_lag": loop_lag}
        print(f"  launch ({tag}): {L['fired']:,}/{L['clients']:,} fired, skew p99 {L['skew_ms']['p99']:.2f} max"
              f" {L['skew_ms']['max']:.2f} ms; PointClient lag p99 {L['lag_ms']['p99']:.1f} ms; press → answer"
              f" {answer_ms:.0f} ms, fan-out {fanout_ms:.1f} ms; console max gap {L['console']['max_gap_s']:.2f} s;"
              f" server CPU {L['server_cpu_s']:.1f} s", flush=True)
        return L

    async def setup(self) -> None:
        """launchday (the default way), its organizer console and the trickle of updates."""
        self.ld, self.eid, self.tokens = await self.launchday("launchday", ())
        self.console = Console(self.s, self.ld.base, self.eid)
        await self.console.start()
        if self.args.desk_consoles:
            self.desks = DeskConsoles(self.s, self.ld.base, self.eid)
            await self.desks.start(self.args.desk_consoles, self)
            self.out["desk_consoles"] = self.desks.n
        self.trickle = Trickle(self.s, self.ld.base, self.tokens[self.n:])
        await self.trickle.start()

    async def run(self) -> dict[str, Any]:
        print(f"\nN = {self.n:,} ({self.k} fleet processes)", flush=True)
        try:
            await self.setup()
            if "side" in self.args.phases:
                await self.side_by_side()
            if "morning" in self.args.phases:
                await self.morning()
        finally:
            if getattr(self, "trickle", None):
                self.trickle.stop()
            if getattr(self, "desks", None):
                self.out["desk_frames"], self.out["desk_bytes"] = self.desks.frames, self.desks.bytes
                self.desks.stop()
            if getattr(self, "console", None) and self.console.task:
                self.console.task.cancel()
            if getattr(self, "ld", None) and self.ld.proc and self.ld.proc.poll() is None:
                # the collector's pauses over the whole run (the morning), bucket by bucket
                self.out["gc_metrics"] = {k: v for k, v in scrape(self.ld.port).items()
                                          if k.startswith(("launchday_gc_", "launchday_loop_", "launchday_journal_"))}
            if getattr(self, "ld", None):
                self.out["server_cpu_total_s"] = cpu_s(self.ld.pid) if self.ld.proc and self.ld.proc.poll() is None \
                    else self.out.get("server_cpu_total_s")
                self.ld.stop()
        return self.out


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m loadtest.bench", description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--smoke", action="store_true", help="N = 200, 2 trials, no --no-uvloop variant")
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--checkin-rate", type=float, default=1000.0, help="check-ins per second in step 2")
    ap.add_argument("--no-variants", action="store_true", help="skip launchday --no-uvloop")
    ap.add_argument("--no-install", action="store_true", help="do not run npm install for the Node reference")
    ap.add_argument("--profile", type=Path, metavar="DIR", help="py-spy the launchday server during the bursts")
    ap.add_argument("--native", action="store_true", help="with --profile: native frames too (uvloop, syscalls)")
    ap.add_argument("--point-fleets", type=int, default=0,
                    help="fleet processes for step 2 (default: as many as CPUs, at most one per 2,500 points)")
    ap.add_argument("--phases", default="side,morning", help="side (side by side) and/or morning (PointClients)")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    ap.add_argument("--desk-consoles", type=int, default=0, metavar="N",
                    help="N desks (one commune each) keep a console open through the run (docs/protocol.md#desks)")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="servers on half the CPUs, clients (fleets and this process) on the other half (default)")
    args = ap.parse_args()
    if args.smoke:
        args.points, args.trials, args.no_variants = [200], min(args.trials, 2), True
    busy0, pinning = _procs.begin(args.wait_quiet, args.pin)
    started, t0, load0 = datetime.now(UTC), time.perf_counter(), Path("/proc/loadavg").read_text().split()[:3]
    tmp = Path(tempfile.mkdtemp(prefix="launchday-bench-"))
    runs: list[dict[str, Any]] = []

    async def go() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            for n in args.points:
                runs.append(await Run(n, args, tmp / str(n), s).run())

    stopped = 0
    try:
        for n in args.points:
            (tmp / str(n)).mkdir(parents=True)
        asyncio.run(go())
    except (KeyboardInterrupt, SystemExit) as exc:
        stopped = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 130
    finally:
        _procs.cleanup()
        if not os.environ.get("LAUNCHDAY_BENCH_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    if stopped:
        print("\ninterrupted; every subprocess stopped", file=sys.stderr, flush=True)
        os._exit(stopped)
    cmd = "python -m loadtest.bench" + " ".join(
        [""] + (["--smoke"] if args.smoke else ["--points", *map(str, args.points)])
        + ([f"--trials {args.trials}"] if args.trials != 5 and not args.smoke else [])
        + (["--no-variants"] if args.no_variants and not args.smoke else [])
        + ([f"--wait-quiet {args.wait_quiet:g}"] if args.wait_quiet else [])
        + ([] if args.pin else ["--no-pin"])
        + ([f"--desk-consoles {args.desk_consoles}"] if args.desk_consoles else [])
        + ([f"--phases {args.phases}"] if args.phases != "side,morning" else []))
    result = {"started_utc": started.isoformat(timespec="seconds"), "command": cmd,
              "duration_s": time.perf_counter() - t0, "machine": _procs.machine(), "loadavg_start": load0,
              "busy_cpus_before": busy0, "pinning": pinning, "runs": runs}
    result["rows"] = rows(result)
    _procs.publish(result, markdown(result), args.out, "bench", started, docs=not args.no_docs)


if __name__ == "__main__":
    main()
