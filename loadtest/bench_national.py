"""The national morning: the whole country on 3 processes on one Redis (not a test).

    .venv/bin/python -m loadtest.bench_national                     # the full registry (36,566 points)
    .venv/bin/python -m loadtest.bench_national --points 20000      # the fallback where the full size does not fit
    .venv/bin/python -m loadtest.bench_national --points 3000 --no-docs   # a check that the harness runs

The registry is ``server/demo/data.py``'s ``national(seed, per_unit)``: the root,
the 34 provinces and the 3,321 units of the official list, ``--per-unit``
points under each. A smaller ``--points`` takes a consistent subset: the root,
every province, then whole units (a unit and its points) taken round-robin
over the provinces until N. Everything runs on 127.0.0.1, started by the bench:
its own ``redis-server`` (AOF, ``appendfsync always``), ``--procs``
``launchday serve --redis`` processes, and fleet processes of
``checkin.PointClient``s (``loadtest/fleet.py``, clocks off by ±5 s), each
spreading its clients over every process.

1. An event with ``group_level: province``; the registry imported through the
   first process (**import time**, rows); the time until every process sees
   every point.
2. One unscoped organizer console (``/ws/console``) on the first process and,
   when organizer tokens take a ``scope``, 34 province desks (one scoped
   console each, spread over the processes); else desks are skipped, saying why.
3. **Arrivals**: every point connects and clock-syncs (**connect rate**: points
   per second to connected and synced, the first round; then the fleets' quiet
   re-sync round).
4. **Check-ins** along a morning's curve: each point checks in once, at a
   moment drawn from a triangular distribution over ``--checkin-spread`` s
   peaking at 70 % of it; then an **attendees** round (every point updates its
   count, uniform over ``--attendees-spread`` s). **Ack p50/p99**: client side
   (send → ack read) and server side (``launchday_ack_seconds{kind}``, the sum
   of the processes' histogram windows), each with its n.
5. **Acknowledged writes lost** (must be 0): every acknowledged check-in and
   count, compared with ``GET /api/events/{eid}/points`` on every process.
6. **The launch**: armed and pressed on the first process (a real launch, 5 s
   countdown); **fire skew** = |this machine's clock when a client fired −
   ``fire_at_ms``| over every client that fired; every connected point must
   fire; the server's press → last countdown write per process
   (``launchday_launch_written_last_seconds``).

Throughout: the console's deltas (frames, bytes, per second, the largest),
each side's CPU by phase, RSS of every process, Redis ``used_memory`` and
ops/s (``total_commands_processed`` over the run, ``instantaneous_ops_per_sec``).
With pinning (the default) servers and Redis run on the first half of the
CPUs and the fleets and this process on the other half. Where the machine is
the limit (a side near 100 % of its CPUs in a phase, arrivals slower than
``--connect-limit-s``, more fleets than client CPUs because of the open-file
limit) the output says so: those figures are the machine's, not launchday's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from loadtest import _procs
from loadtest._procs import ADMIN, ROOT, Fleet, Server, ask_all, cpu_s, pct, scrape, stats
from loadtest.bench_cluster import Redis, redis_version
from loadtest.bench_national_report import limits, markdown
from loadtest.metrics_window import histogram_window

H = {"Authorization": f"Bearer {ADMIN}"}
DOCS = ROOT / "docs" / "benchmarks.md"
PING_SPACING_S = 0.02  # between a client's clock-sync pings (the fleets' default)
EVENT = {"name": "Lễ phát động toàn quốc (bench)", "starts_at": "2025-05-08T08:00:00+07:00",
         "report_deadline": "2025-05-08T07:30:00+07:00", "timezone": "Asia/Ho_Chi_Minh", "group_level": "province"}



def registry(n: int | None, per_unit: int, seed: int = 2025) -> list[dict[str, object]]:
    """The national registry, or its consistent subset of ``n`` points: the root,
    every province, then whole units round-robin over the provinces."""
    from server.demo.data import national

    rows = national(seed, per_unit)
    if n is None or n >= len(rows):
        return rows
    if n < 35 + 1 + per_unit:
        raise SystemExit(f"--points must be at least {36 + per_unit} (the root, 34 provinces and one unit)")
    head = [r for r in rows if r["level"] != "commune" and (r["parent"] is None or r["level"] == "province")]
    blocks: dict[object, list[list[dict[str, object]]]] = defaultdict(list)  # province → [unit + its points]
    unit_of: dict[object, list[dict[str, object]]] = {}
    for r in rows:
        if r["level"] == "commune":
            unit_of[r["code"]] = [r]
            blocks[r["parent"]].append(unit_of[r["code"]])
        elif r["parent"] in unit_of:
            unit_of[r["parent"]].append(r)
    out, queues = list(head), [list(reversed(b)) for b in blocks.values()]
    while len(out) < n:
        for q in queues:
            if q and len(out) < n:
                out += q.pop()[: n - len(out)]
    return out


def to_csv(rows: list[dict[str, object]]) -> bytes:
    from server.demo.data import to_csv_rows

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(to_csv_rows(rows))
    return buf.getvalue().encode()


def redis_info(port: int) -> dict[str, str]:
    out = subprocess.run(["redis-cli", "-p", str(port), "info"], capture_output=True, text=True, timeout=30).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line and not line.startswith("#"))


def redis_config(port: int, key: str) -> str:
    out = subprocess.run(["redis-cli", "-p", str(port), "config", "get", key], capture_output=True, text=True,
                         timeout=30).stdout.split()
    return out[-1] if out else "?"


def merged(scrapes: list[dict[str, float]]) -> dict[str, float]:
    """The processes' /metrics summed key by key (histograms add up bucket by bucket)."""
    out: dict[str, float] = defaultdict(float)
    for m in scrapes:
        for k, v in m.items():
            out[k] += v
    return dict(out)


def server_side(m0: dict[str, float], m1: dict[str, float], name: str, labels: str = "") -> dict[str, float]:
    h = histogram_window(m0, m1, name, labels)
    return {"n": h["n"], **{k: h[k] * 1000.0 for k in ("p50_le", "p99_le", "max_le")}}


class Tap:
    """A console socket: every frame's arrival, type and size."""

    def __init__(self, s: aiohttp.ClientSession, base: str, eid: str, token: str) -> None:
        self.s, self.url, self.token = s, base.replace("http", "ws", 1) + f"/ws/console?event={eid}", token
        self.frames: list[tuple[float, str, int]] = []  # (epoch s, type, bytes)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws = await self.s.ws_connect(self.url, headers={"Authorization": f"Bearer {self.token}"}, max_msg_size=0)

        async def read() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    kind = msg.data[9:msg.data.find('"', 9)] if msg.data.startswith('{"type":"') else "?"
                    self.frames.append((time.time(), kind, len(msg.data.encode())))

        self.task = asyncio.create_task(read())

    def window(self, t0: float, t1: float) -> dict[str, Any]:
        d = [b for t, k, b in self.frames if t0 <= t <= t1 and k == "delta"]
        snap = [b for _, k, b in self.frames if k == "snapshot"]
        span = max(t1 - t0, 1e-9)
        return {"deltas": len(d), "bytes": sum(d), "per_s": len(d) / span, "bytes_per_s": sum(d) / span,
                "largest": max(d, default=0), "p50_bytes": pct(d, 0.5) if d else math.nan,
                "snapshot_bytes": snap[0] if snap else 0, "frames": len(self.frames), "seconds": span}

    def stop(self) -> None:
        if self.task:
            self.task.cancel()


class Morning:
    def __init__(self, args: argparse.Namespace, tmp: Path, s: aiohttp.ClientSession) -> None:
        self.a, self.tmp, self.s = args, tmp, s
        self.servers: list[Server] = []
        self.fleets: list[Fleet] = []
        self.taps: list[Tap] = []
        self.out: dict[str, Any] = {"phases": {}}

    async def call(self, srv: Server, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        async with self.s.request(method, srv.base + path, headers={**H, **kw.pop("headers", {})}, **kw) as r:
            body = await r.read()
            if r.status not in ok:
                raise RuntimeError(f"{method} {path}: {r.status} {body[:300]!r}")
            return json.loads(body) if body else None

    # -- CPU by phase: each side's own processes --------------------------------------

    def mark(self) -> dict[str, float]:
        t = os.times()
        return {"t": time.perf_counter(), "server": sum(cpu_s(p) for p in self.server_pids()),
                "client": sum(cpu_s(f.pid) for f in self.fleets) + t.user + t.system}

    def server_pids(self) -> list[int]:
        return [sv.pid for sv in self.servers] + [self.redis.proc.pid]

    def phase(self, name: str, m0: dict[str, float], **extra: Any) -> dict[str, Any]:
        m1, cpus = self.mark(), self.out["cpus"]
        wall = m1["t"] - m0["t"]
        p = {"wall_s": wall, "server_cpu_s": m1["server"] - m0["server"], "client_cpu_s": m1["client"] - m0["client"],
             **extra}
        p["server_util"] = p["server_cpu_s"] / (wall * cpus["server"]) if wall else 0.0
        p["client_util"] = p["client_cpu_s"] / (wall * cpus["client"]) if wall else 0.0
        self.out["phases"][name] = p
        print(f"  [{name}] {wall:.1f} s; CPU: servers+Redis {p['server_cpu_s']:.1f} s ({100 * p['server_util']:.0f} %"
              f" of {cpus['server']}), clients {p['client_cpu_s']:.1f} s ({100 * p['client_util']:.0f} % of"
              f" {cpus['client']})", flush=True)
        return p

    def scrape_all(self) -> dict[str, float]:
        return merged([scrape(sv.port) for sv in self.servers])

    # -- the morning -------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        a, out = self.a, self.out
        pin = _procs.PIN
        every = len(os.sched_getaffinity(0)) if not pin else len(pin["server"]) + len(pin["client"])
        out["cpus"] = {"server": len(pin.get("server", [])) or every, "client": len(pin.get("client", [])) or every}
        rows = registry(a.points, a.per_unit, a.seed)
        n = out["points"] = len(rows)
        out["full_registry"] = len(registry(None, a.per_unit, a.seed))
        self.redis = Redis(self.tmp)
        out["redis_aof"] = {k: redis_config(self.redis.port, k) for k in ("appendonly", "appendfsync")}
        self.servers = [Server(self.tmp / f"p{i}" / "data", extra=("--redis", self.redis.url)).start()
                        for i in range(a.procs)]
        first = self.servers[0]
        ev = await self.call(first, "POST", "/api/events", (201,), json=EVENT)
        eid = self.eid = str(ev["id"])
        m = self.mark()
        body = to_csv(rows)
        t0 = time.perf_counter()
        imp = await self.call(first, "POST", f"/api/events/{eid}/points/import", data=body,
                              headers={"Content-Type": "text/csv"})
        out["import"] = {"rows": n, "bytes": len(body), "seconds": time.perf_counter() - t0,
                         "created": imp["created"], "errors": len(imp["errors"])}
        if imp["errors"]:
            raise RuntimeError(f"import errors: {imp['errors'][:3]}")
        out["import"]["visible_everywhere_s"] = await self.until_visible(n, t0)
        self.phase("import", m)
        print(f"  imported {n:,} rows ({len(body) / 1e6:.1f} MB) in {out['import']['seconds']:.2f} s; every"
              f" process sees them after {out['import']['visible_everywhere_s']:.2f} s", flush=True)
        out["group_level"] = (await self.call(first, "GET", f"/api/events/{eid}")).get("group_level_effective")
        points = await self.call(first, "GET", f"/api/events/{eid}/points")
        tokens = [p["token"] for p in points]
        provinces = [p["code"] for p in points if p["level"] == "province"]
        tap = Tap(self.s, first.base, eid, ADMIN)
        await tap.start()
        self.taps.append(tap)
        out["desks"] = await self.desks(provinces)
        r0, t_run = redis_info(self.redis.port), time.time()
        await self.arrive(tokens)
        await self.rounds()
        out["lost"] = await self.lost()
        out["rss_kb"] = self.rss()
        out["redis_mid"] = redis_info(self.redis.port)
        await self.launch()
        r1, t_end = redis_info(self.redis.port), time.time()
        span = t_end - t_run
        out["redis"] = {"used_memory": int(r1.get("used_memory", 0)), "used_memory_human": r1.get("used_memory_human"),
                        "ops_per_s": (int(r1["total_commands_processed"]) - int(r0["total_commands_processed"])) / span,
                        "instantaneous_ops_per_sec_mid": int(out.pop("redis_mid").get("instantaneous_ops_per_sec", 0)),
                        "aof_base_size": int(r1.get("aof_base_size", 0) or 0),
                        "aof_current_size": int(r1.get("aof_current_size", 0) or 0), "seconds": span}
        out["console"] = tap.window(t_run, t_end)
        out["console_by_phase"] = {k: tap.window(v["t0"], v["t1"]) for k, v in self.windows.items()}
        if len(self.taps) > 1:
            out["desks"]["consoles"] = [t.window(t_run, t_end) for t in self.taps[1:]]
        out["rss_end_kb"] = self.rss()
        return out

    async def until_visible(self, n: int, t0: float) -> float:
        deadline = time.perf_counter() + 120
        for sv in self.servers:
            while (await self.call(sv, "GET", f"/api/events/{self.eid}/totals"))["points"] < n:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"process {sv.base} does not see the {n:,} points")
                await asyncio.sleep(0.1)
        return time.perf_counter() - t0

    async def desks(self, provinces: list[str]) -> dict[str, Any]:
        """34 province desks (scoped organizer tokens), if tokens take a ``scope``."""
        first = self.servers[0]
        async with self.s.post(first.base + "/api/tokens", headers=H, json=desk_body(self.eid, provinces[0])) as r:
            answer = await r.json(content_type=None)
        if r.status != 201:
            code = (answer or {}).get("error", {}).get("code", "?")
            why = f"POST /api/tokens answered {r.status} {code} to a `scope`: no desks in this tree"
            print(f"  desks skipped: {why}", flush=True)
            return {"connected": 0, "skipped": why}
        tokens = [answer["token"]] + [(await self.call(first, "POST", "/api/tokens", (201,),
                                                        json=desk_body(self.eid, p)))["token"] for p in provinces[1:]]
        for i, tok in enumerate(tokens):
            tap = Tap(self.s, self.servers[i % len(self.servers)].base, self.eid, tok)
            await tap.start()
            self.taps.append(tap)
        print(f"  {len(tokens)} province desks connected", flush=True)
        return {"connected": len(tokens)}

    async def arrive(self, tokens: list[str]) -> None:
        a, out, n = self.a, self.out, len(tokens)
        fd = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        per_fleet = max(1000, fd - 1000)
        k = max(a.fleets or out["cpus"]["client"], math.ceil(n / per_fleet))
        out["fleets"] = {"n": k, "fd_limit": fd, "by_fd_limit": math.ceil(n / per_fleet) > (a.fleets or out["cpus"]["client"])}
        urls = ",".join(sv.base for sv in self.servers)
        for i in range(k):
            path = self.tmp / f"tokens-{i}.txt"
            path.write_text("\n".join(tokens[i::k]))
            self.fleets.append(await Fleet(
                ["--server", urls, "--tokens", str(path), "--seed", str(i + 1), "--commands", "--uvloop",
                 "--offset-ms", "5000", "--quiet-concurrency", str(a.quiet_concurrency),
                 "--sync-concurrency", str(a.sync_concurrency), "--ping-spacing-s", str(PING_SPACING_S),
                 "--fire-timeout", str(a.fire_timeout), "--linger-s", "2"], f"national-{i}", self.tmp).start())
        m, t0 = self.mark(), time.time()
        ready = await asyncio.gather(*(f.line(300 + n / 5) for f in self.fleets))
        sync_s = max(r["connect_sync_s"] for r in ready)
        connected = sum(r["n"] for r in ready)
        self.windows = {"arrivals": {"t0": t0, "t1": time.time()}}
        p = self.phase("arrivals", m, connected=connected, connect_sync_s=sync_s, connect_per_s=connected / sync_s,
                       worst_bound_ms=max(r["worst_bound_ms"] for r in ready))
        out["connect"] = {k2: p[k2] for k2 in ("connected", "connect_sync_s", "connect_per_s", "worst_bound_ms")}
        out["connect"]["ready_s"] = p["wall_s"]
        # the fleets' own gate: each syncs this many clients at once, 5 pings apart (checkin.PointClient)
        out["connect"]["gate_per_s"] = k * a.sync_concurrency / (5 * PING_SPACING_S)
        print(f"  {connected:,} points connected and synced in {sync_s:.1f} s ({connected / sync_s:,.0f}/s),"
              f" ready after the quiet re-sync at {p['wall_s']:.1f} s ({k} fleets)", flush=True)

    async def rounds(self) -> None:
        a, n = self.a, self.out["points"]
        self.acked: dict[str, list[tuple[int, bool]]] = defaultdict(list)  # code → [(count, acked)] in order
        for kind, spread, peak in (("checkin", a.checkin_spread or max(10.0, n / 600), 0.7),
                                   ("attendees", a.attendees_spread or max(5.0, n / 1500), None)):
            m0, m, t0 = self.scrape_all(), self.mark(), time.time()
            cmd = {"cmd": kind, "go_at": time.time() + 1.0, "spread_s": spread, "acked": True,
                   **({"peak": peak} if peak is not None else {})}
            res = await ask_all(self.fleets, cmd, 180 + spread)
            self.windows[kind] = {"t0": t0, "t1": time.time()}
            for r in res:
                for code, c in r["acked"]:
                    self.acked[code].append((c, True))
                for code, c in r["unacked"]:
                    self.acked[code].append((c, False))
            lat = [x for r in res for x in r["latencies_ms"]]
            p = self.phase(kind, m, spread_s=spread, peak=peak, client_ms=stats(lat),
                           errors=sum(r["errors"] for r in res), first_errors=[e for r in res for e in r["first_errors"]][:3],
                           server_ms=server_side(m0, self.scrape_all(), "launchday_ack_seconds", f'kind="{kind}"'))
            self.out[kind] = p
            print(f"  {kind} over {spread:.0f} s: client ack p50 {p['client_ms']['p50']:.1f} p99 {p['client_ms']['p99']:.1f}"
                  f" ms (n = {p['client_ms']['n']:,}); server p99 ≤ {p['server_ms']['p99_le']:.1f} ms"
                  f" (n = {p['server_ms']['n']:,.0f}); {p['errors']} errors", flush=True)

    async def lost(self) -> dict[str, Any]:
        """Acknowledged writes that a process does not hold (must be 0), once every process caught up."""
        want: dict[str, tuple[int, set[int]]] = {}
        for code, seq in self.acked.items():
            last = max((i for i, (_, ok) in enumerate(seq) if ok), default=None)
            if last is not None:  # the last acked count, or one sent after it without an answer
                want[code] = (seq[last][0], {c for c, _ in seq[last:]})
        out: dict[str, Any] = {"acked_writes": sum(ok for seq in self.acked.values() for _, ok in seq),
                               "points_checked": len(want), "per_process": []}
        for sv in self.servers:
            t0, deadline = time.perf_counter(), time.perf_counter() + self.a.converge_s
            while True:
                pts = {p["code"]: p for p in await self.call(sv, "GET", f"/api/events/{self.eid}/points")}
                bad = [c for c, (_, ok) in want.items()
                       if not (pts.get(c, {}).get("checked_in") and pts[c].get("attendees") in ok)]
                if not bad or time.perf_counter() > deadline:
                    break
                await asyncio.sleep(0.5)
            out["per_process"].append({"lost": len(bad), "examples": [(c, want[c][0], pts.get(c, {}).get("attendees"))
                                                                      for c in bad[:5]],
                                       "waited_s": time.perf_counter() - t0})
        out["lost"] = max(p["lost"] for p in out["per_process"])
        print(f"  acknowledged writes: {out['acked_writes']:,} on {len(want):,} points; lost per process"
              f" {[p['lost'] for p in out['per_process']]} (must be 0)", flush=True)
        return out

    async def launch(self) -> None:
        a, first = self.a, self.servers[0]
        base = f"/api/events/{self.eid}/launch"
        await self.call(first, "POST", base + "/arm", json={"countdown_ms": a.countdown_ms, "keys_required": 1,
                                                            "rehearsal": False})
        await asyncio.sleep(1.0)
        for f in self.fleets:
            await f.send({"cmd": "launch"})
        await asyncio.sleep(2.0)  # a busy fleet reads its command late (bench_cluster.py)
        m, m0, t0 = self.mark(), self.scrape_all(), time.time()
        poke = time.time()
        fire_at = float((await self.call(first, "POST", base + "/press", json={"key": "bench"}))["fire_at_ms"])

        async def at_fire() -> dict[str, float]:  # each side's CPU from the press to just after the fire
            await asyncio.sleep(max(0.0, fire_at / 1000 + 0.2 - time.time()))
            return self.mark()

        fired_mark = asyncio.create_task(at_fire())
        results = await asyncio.gather(*(f.line(a.fire_timeout + 120) for f in self.fleets))
        m2, cpus = await fired_mark, self.out["cpus"]
        countdown = {"wall_s": m2["t"] - m["t"], "server_util": (m2["server"] - m["server"]) / cpus["server"]
                     / (m2["t"] - m["t"]), "client_util": (m2["client"] - m["client"]) / cpus["client"] / (m2["t"] - m["t"])}
        self.windows["launch"] = {"t0": t0, "t1": time.time()}
        clients = [c for r in results for c in r["clients"]]
        skew = [abs(c["fired_local_wall_ms"] - fire_at) for c in clients if c["fired_local_wall_ms"] is not None]
        lag = [c["launch_recv_wall_ms"] - poke * 1000 for c in clients if c["launch_recv_wall_ms"] is not None]
        written = [scrape(sv.port).get("launchday_launch_written_last_seconds", math.nan) * 1000 for sv in self.servers]
        connected = sum(1 for c in clients if c.get("connected"))
        p = self.phase("launch", m, clients=len(clients), connected=connected, fired=len(skew), skew_ms=stats(skew),
                       lag_ms=stats(lag), written_ms=written,
                       written_server=server_side(m0, self.scrape_all(), "launchday_launch_written_seconds"),
                       every_connected_fired=len(skew) >= connected and connected > 0, countdown=countdown)
        self.out["launch"] = p
        print(f"  launch: {len(skew):,} fired of {connected:,} connected ({len(clients):,} clients); fire skew p99"
              f" {p['skew_ms']['p99']:.2f} max {p['skew_ms']['max']:.2f} ms; lag p99 {p['lag_ms']['p99']:.0f} ms;"
              f" press → last write per process {', '.join(f'{w:.0f}' for w in written)} ms", flush=True)

    def rss(self) -> dict[str, Any]:
        return {"servers": [_procs.rss_kb(sv.pid) for sv in self.servers], "redis": _procs.rss_kb(self.redis.proc.pid),
                "fleets": [_procs.rss_kb(f.pid) for f in self.fleets if f.proc and f.proc.returncode is None]}

    async def stop(self) -> None:
        for t in self.taps:
            t.stop()
        for f in self.fleets:
            with contextlib.suppress(Exception):
                await f.stop()
        for sv in self.servers:
            sv.stop()
        if getattr(self, "redis", None):
            self.redis.stop()


def desk_body(eid: str, province: str) -> dict[str, Any]:
    """A province desk's token: an organizer token scoped to one province's subtree
    (the shape to adjust here if the desks feature names it otherwise)."""
    return {"name": f"Bàn tỉnh {province} (bench)", "role": "operator", "scope": {"event": eid, "point": province}}


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m loadtest.bench_national", description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=None, help="points (default: the full national registry)")
    ap.add_argument("--procs", type=int, default=3)
    ap.add_argument("--per-unit", type=int, default=10, help="points under each of the 3,321 units")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--fleets", type=int, default=0, help="fleet processes (default: one per client CPU, more"
                    " only where the open-file limit needs them)")
    ap.add_argument("--checkin-spread", type=float, default=0, metavar="S", help="default: points / 600 s")
    ap.add_argument("--attendees-spread", type=float, default=0, metavar="S", help="default: points / 1,500 s")
    ap.add_argument("--sync-concurrency", type=int, default=25,
                    help="clients of a fleet connecting and syncing at once (the arrivals' gate)")
    ap.add_argument("--quiet-concurrency", type=int, default=50, help="clients re-syncing at once after arrivals")
    ap.add_argument("--countdown-ms", type=int, default=5000)
    ap.add_argument("--fire-timeout", type=float, default=120.0)
    ap.add_argument("--converge-s", type=float, default=60.0, help="wait up to this for every process to catch up")
    ap.add_argument("--connect-limit-s", type=float, default=300.0,
                    help="arrivals slower than this are reported as the machine's limit")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="servers and Redis on half the CPUs, clients on the other half (default)")
    args = ap.parse_args()
    busy0, pinning = _procs.begin(args.wait_quiet, args.pin)
    started, t0, load0 = datetime.now(UTC), time.perf_counter(), Path("/proc/loadavg").read_text().split()[:3]
    tmp = Path(tempfile.mkdtemp(prefix="launchday-national-"))
    run: dict[str, Any] = {}
    print(f"national morning: {'pinned ' + str(pinning) if pinning else 'unpinned'}; {os.cpu_count()} CPUs", flush=True)

    async def go() -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            m = Morning(args, tmp, s)
            try:
                run.update(await m.run())
            finally:
                await m.stop()

    stopped = 0
    try:
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
    argv = " ".join([f"--points {args.points}"] * (args.points is not None)
                    + [f"--{k.replace('_', '-')} {getattr(args, k):g}" for k in ("procs", "per_unit", "fleets", "sync_concurrency", "checkin_spread",
                                                                   "attendees_spread", "countdown_ms")
                       if getattr(args, k) != ap.get_default(k)] + ["--no-pin"] * (not args.pin))
    result = {"started_utc": started.isoformat(timespec="seconds"), "command": f"python -m loadtest.bench_national"
              f"{' ' + argv if argv else ''}", "duration_s": time.perf_counter() - t0, "machine": _procs.machine(),
              "loadavg_start": load0, "busy_cpus_before": busy0, "pinning": pinning, "redis_version": redis_version(),
              "procs": args.procs, "per_unit": args.per_unit, "run": run}
    result["limits"] = limits(result, args.connect_limit_s)
    _procs.publish(result, markdown(result), args.out, "bench-national", started, docs=not args.no_docs)


if __name__ == "__main__":
    main()
