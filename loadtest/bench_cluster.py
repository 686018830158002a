"""Several processes on Redis: what they cost and what they hold (not a test).

    .venv/bin/python -m loadtest.bench_cluster                       # everything (~10 min)
    .venv/bin/python -m loadtest.bench_cluster --phases journal      # durable appends only
    .venv/bin/python -m loadtest.bench_cluster --points 10000 --procs 1 2 3 --big 20000

Every Redis here is started by the bench (a free port, a temporary directory,
``appendonly yes``); the machine's shared Redis is never used.

1. **journal**: durable appends per second through ``RedisJournal`` alone,
   ``--appends`` single-fact appends with ``--inflight`` of them in flight (the
   way a busy server's handlers append), with ``appendfsync always``; then
   again with a replica and ``--redis-replicas 1`` (``WAIT 1`` in the same
   pipeline).
2. **morning** at N points for each process count in ``--procs``: Redis, P
   ``launchday serve --redis`` processes, N points imported through the
   first, fleet processes of ``checkin.PointClient``s (``loadtest/fleet.py``,
   clocks off by ±5 s) spread over the processes; every point checks in once
   at ``--checkin-rate`` a second (**check-in ack p99**: send → ack); then a
   rehearsal launch armed and pressed on the first process (**launch frame lag
   p99**: a client's receipt of the countdown − the press; **fire skew p99**:
   |the machine's clock when a client fired − fire_at_ms|).
3. **big**: the same morning with ``--big`` points over 2 processes.

Everything runs on this machine: the processes, Redis and the fleets share its
CPUs, so the figures are the whole system's on one box, not a process's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from loadtest import _procs
from loadtest._procs import (
    ADMIN,
    ROOT,
    Fleet,
    Server,
    ask_all,
    cpu_s,
    free_port,
    machine,
    stats,
)

DOCS = ROOT / "docs" / "benchmarks.md"
EVENT = {"name": "Bench cluster", "starts_at": "2025-05-08T08:00:00+07:00",
         "report_deadline": "2025-05-08T07:30:00+07:00", "timezone": "Asia/Ho_Chi_Minh"}



class Redis:
    """A redis-server of the bench's own (never the machine's shared one)."""

    def __init__(self, root: Path, replicaof: int | None = None, appendfsync: str = "always") -> None:
        self.port = free_port()
        self.dir = root / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "", "--daemonize", "no",
                "--repl-diskless-sync-delay", "0"]
        if replicaof:
            args += ["--replicaof", "127.0.0.1", str(replicaof)]
        # on the server side's CPUs when a bench pins (_procs.set_pinning), else anywhere
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True, preexec_fn=_procs.pinned("server"))
        _procs._LIVE.append(self.proc)  # killed by _procs.cleanup() if the bench stops early
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def synced(self) -> bool:
        info = subprocess.run(["redis-cli", "-p", str(self.port), "info", "replication"], capture_output=True,
                              text=True).stdout
        return "master_link_status:up" in info

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


async def journal_phase(tmp: Path, appends: int, inflight: int) -> dict[str, Any]:
    from server.core import facts as f
    from server.io.journal.redis import RedisJournal

    async def run(url: str, replicas: int) -> dict[str, Any]:
        j = RedisJournal(url, replicas=replicas)
        await j.open()
        created = f.EventCreated(at_ms=1.0, event_id="ev-b", name="b", starts_at=EVENT["starts_at"],
                                 report_deadline=EVENT["report_deadline"], timezone=EVENT["timezone"])
        await j.append("ev-b", [created])
        fact = f.CheckedIn(at_ms=2.0, code="C0001", msg_id="m-000000000001", attendees=52)
        sem = asyncio.Semaphore(inflight)

        async def one() -> None:
            async with sem:
                await j.append("ev-b", [fact])

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(appends)))
        dt = time.perf_counter() - t0
        await j.close()
        return {"appends": appends, "inflight": inflight, "seconds": dt, "per_s": appends / dt}

    primary = Redis(tmp)
    try:
        alone = await run(primary.url, 0)
        print(f"  journal alone, appendfsync always: {alone['per_s']:,.0f} appends/s", flush=True)
        replica = Redis(tmp, replicaof=primary.port)
        try:
            deadline = time.monotonic() + 10
            while not replica.synced() and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
            waited = await run(primary.url, 1)
            print(f"  journal with WAIT 1 (one replica): {waited['per_s']:,.0f} appends/s", flush=True)
        finally:
            replica.stop()
    finally:
        primary.stop()
    return {"always": alone, "wait1": waited}


async def morning(tmp: Path, n: int, procs: int, rate: float) -> dict[str, Any]:
    from loadtest.bench_foundation import demo_csv

    redis = Redis(tmp)
    servers: list[Server] = []
    fleets: list[Fleet] = []
    out: dict[str, Any] = {"points": n, "processes": procs}
    try:
        servers = [Server(tmp / f"p{procs}-{n}-{i}" / "data", extra=("--redis", redis.url)).start()
                   for i in range(procs)]
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN}"}) as s:
            base = servers[0].base
            async with s.post(base + "/api/events", json=EVENT) as r:
                eid = (await r.json())["id"]
            async with s.post(f"{base}/api/events/{eid}/points/import", data=demo_csv(extra=max(0, n - 1018)),
                              headers={"Content-Type": "text/csv"}) as r:
                assert r.status == 200, await r.text()
            async with s.get(f"{base}/api/events/{eid}/points") as r:
                tokens = [p["token"] for p in await r.json()][:n]
            # Two fleet processes (no more spinning fleets than CPUs), each
            # spreading its clients over every server process.
            k = 2
            urls = ",".join(sv.base for sv in servers)
            for i in range(k):
                path = tmp / f"tokens-{procs}-{n}-{i}.txt"
                path.write_text("\n".join(tokens[i::k]))
                fleets.append(await Fleet(
                    ["--server", urls, "--tokens", str(path), "--seed", str(i + 1), "--commands",
                     "--uvloop", "--offset-ms", "5000", "--quiet-concurrency", str(max(5, 40 // k)),
                     "--fire-timeout", "60", "--linger-s", "2"], f"cluster-{procs}-{n}-{i}", tmp).start())
            t0 = time.perf_counter()
            await asyncio.gather(*(f.line(180 + n / 10) for f in fleets))
            out["ready_s"] = time.perf_counter() - t0
            print(f"  {n:,} points on {procs} process(es): connected and synced in {out['ready_s']:.1f} s",
                  flush=True)
            spread = n / rate
            c0 = sum(cpu_s(sv.pid) for sv in servers)
            res = await ask_all(fleets, {"cmd": "checkin", "go_at": time.time() + 1.0, "spread_s": spread},
                                120 + spread)
            lat = [x for r in res for x in r["latencies_ms"]]
            out["checkin"] = {**stats(lat), "errors": sum(r["errors"] for r in res),
                              "servers_cpu_s": sum(cpu_s(sv.pid) for sv in servers) - c0}
            totals = []
            for sv in servers:
                async with s.get(f"{sv.base}/api/events/{eid}/totals") as r:
                    totals.append((await r.json())["checked_in"])
            out["checked_in_per_process"] = totals
            print(f"  check-in at {rate:,.0f}/s: ack p50 {out['checkin']['p50']:.1f} p99 {out['checkin']['p99']:.1f}"
                  f" ms; checked in as each process sees it: {totals}", flush=True)
            async with s.post(f"{base}/api/events/{eid}/launch/arm",
                              json={"countdown_ms": 5000, "keys_required": 1, "rehearsal": True}) as r:
                assert r.status == 200, await r.text()
            await asyncio.sleep(1.0)
            for f in fleets:
                await f.send({"cmd": "launch"})
            # A busy fleet reads its command late; one that read it after the
            # countdown arrived would drop that receipt (it clears them).
            await asyncio.sleep(2.0)
            poke = time.time()
            async with s.post(f"{base}/api/events/{eid}/launch/press", json={"key": "bench"}) as r:
                fire_at = float((await r.json())["fire_at_ms"])
            results = await asyncio.gather(*(f.line(120) for f in fleets))
            clients = [c for r in results for c in r["clients"]]
            skew = [abs(c["fired_local_wall_ms"] - fire_at) for c in clients if c["fired_local_wall_ms"] is not None]
            lag = [c["launch_recv_wall_ms"] - poke * 1000 for c in clients if c["launch_recv_wall_ms"] is not None]
            out["launch"] = {"clients": len(clients), "fired": len(skew), "skew_ms": stats(skew),
                             "lag_ms": stats(lag)}  # lag_ms.n: the clients whose receipt was stamped
            print(f"  launch: {len(skew):,}/{len(clients):,} fired; lag p99 {out['launch']['lag_ms']['p99']:.1f} ms;"
                  f" fire skew p99 {out['launch']['skew_ms']['p99']:.2f} ms", flush=True)
            out["rss_kb"] = [_procs.rss_kb(sv.pid) for sv in servers]
    finally:
        for f in fleets:
            await f.stop()
        for sv in servers:
            sv.stop()
        redis.stop()
    return out


def write_docs(result: dict[str, Any]) -> None:
    m = result["machine"]
    lines = [f"\n## Several processes on Redis ({result['when']})\n",
             f"`python -m loadtest.bench_cluster {result['argv']}` on {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs; "
             f"load average before: {result['loadavg']}. Redis {result['redis_version']}, every process, Redis and "
             "the fleets on this one machine.\n"]
    if "journal" in result:
        j = result["journal"]
        lines += ["| durable appends through Redis | appends/s | target |", "|---|---|---|",
                  f"| `appendfsync always`, {j['always']['inflight']} in flight | {j['always']['per_s']:,.0f} | ≥ 5,000 |",
                  f"| the same with a replica and `WAIT 1` | {j['wait1']['per_s']:,.0f} | |", ""]
    runs = result.get("morning", []) + ([result["big"]] if "big" in result else [])
    if runs:
        lines += ["| points | processes | check-in ack p99 | launch lag p99 | fire skew p99 | fired |",
                  "|---|---|---|---|---|---|"]
        for r in runs:
            L = r["launch"]
            lines.append(f"| {r['points']:,} | {r['processes']} | {r['checkin']['p99']:.1f} ms | "
                         f"{L['lag_ms']['p99']:.1f} ms (n = {L['lag_ms']['n']:,}) | {L['skew_ms']['p99']:.2f} ms | "
                         f"{L['fired']:,}/{L['clients']:,} |")
    with DOCS.open("a") as fh:
        fh.write("\n".join(lines) + "\n")


def redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return next((w.split("=", 1)[1] for w in out.split() if w.startswith("v=")), "?")


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    _procs.raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="ld-cluster-"))
    result: dict[str, Any] = {"when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(),
                              "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                              "argv": " ".join(args.argv),
                              "redis_version": redis_version()}
    try:
        phases = set(args.phases.split(","))
        if "journal" in phases:
            print("journal", flush=True)
            result["journal"] = await journal_phase(tmp, args.appends, args.inflight)
        if "morning" in phases:
            result["morning"] = []
            for p in args.procs:
                print(f"morning: {args.points:,} points, {p} process(es)", flush=True)
                result["morning"].append(await morning(tmp, args.points, p, args.checkin_rate))
        if "big" in phases and args.big:
            print(f"big: {args.big:,} points, 2 processes", flush=True)
            result["big"] = await morning(tmp, args.big, 2, args.checkin_rate)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(prog="loadtest.bench_cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phases", default="journal,morning,big")
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--big", type=int, default=20_000)
    ap.add_argument("--appends", type=int, default=20_000)
    ap.add_argument("--inflight", type=int, default=1_000)
    ap.add_argument("--checkin-rate", type=float, default=1000.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    import sys

    args.argv = sys.argv[1:]
    result = asyncio.run(main_async(args))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    if not args.no_docs:
        write_docs(result)


if __name__ == "__main__":
    main()
