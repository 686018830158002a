"""Memory per idle point socket (not a test, not timed).

    .venv/bin/python -m loadtest.socket_memory --points 2000
    .venv/bin/python -m loadtest.socket_memory --points 2000 --trace      # + where Python's part goes

Starts ``launchday serve`` (uvloop, the default) on a free 127.0.0.1 port with
a temporary data directory, creates an event, imports N points (the demo
sheet, padded like loadtest/bench.py), and opens one ``/ws/point`` socket per
point from a ``loadtest.fleet --mode plain`` process (each reads its welcome).
Printed: the server's VmRSS (and its anonymous part, RssAnon) before and
``--settle`` seconds after the sockets are in, over N — the same figure as
``loadtest.bench``'s "RSS per connection" — and the kernel's TCP buffer
memory (``/proc/net/sockstat``, machine-wide: other processes move it too).

``--trace`` starts the server with ``LAUNCHDAY_TRACEMALLOC`` (server/io/memtrace.py)
and asks it for a snapshot before and after (SIGUSR2): the Python-level bytes
per socket, and the allocation sites that grew most, by traceback, in bytes
per socket. Tracing adds its own memory and slows allocation: read RSS from a
run without it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp

from loadtest import _procs
from loadtest._procs import ADMIN, Fleet, Server

H = {"Authorization": f"Bearer {ADMIN}"}
EVENT = {"name": "Socket memory", "starts_at": "2025-05-08T08:00:00+07:00",
         "report_deadline": "2025-05-08T07:30:00+07:00", "timezone": "Asia/Ho_Chi_Minh"}


def status_kb(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0])
    return out


def tcp_mem_kb() -> int:
    """The kernel's TCP buffer memory, all sockets of the machine (pages → KB)."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return 0


async def snapshot(srv: Server, data: Path, k: int) -> tuple[tracemalloc.Snapshot, dict[str, Any]]:
    os.kill(srv.pid, signal.SIGUSR2)
    info = data / f"tracemalloc-{k}.json"
    deadline = time.monotonic() + 120
    while not info.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the server wrote no tracemalloc snapshot (LAUNCHDAY_TRACEMALLOC not read?)")
        await asyncio.sleep(0.1)
    return tracemalloc.Snapshot.load(str(data / f"tracemalloc-{k}.dump")), json.loads(info.read_text())


def report_trace(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, n: int, top: int, depth: int = 6) -> None:
    def skip(snap: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
        return snap.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])

    b, a = skip(before), skip(after)
    total = sum(s.size for s in a.statistics("filename")) - sum(s.size for s in b.statistics("filename"))
    print(f"\nPython-level (tracemalloc): {total / n:,.0f} bytes per socket ({total / 1024:,.0f} KB for {n:,})")
    print(f"\ntop {top} lines by growth (bytes per socket, blocks per socket):")
    for st in a.compare_to(b, "lineno")[:top * 3]:
        fr = st.traceback[0]
        print(f"  {st.size_diff / n:8.0f} B {st.count_diff / n:6.2f}  {_short(fr.filename)}:{fr.lineno}")
    print(f"\ntop {top} tracebacks by growth (the {depth} innermost frames):")
    for st in a.compare_to(b, "traceback")[:top]:
        print(f"  {st.size_diff / n:8.0f} B {st.count_diff / n:6.2f} blocks")
        for fr in list(st.traceback)[-depth:]:
            print(f"        {_short(fr.filename)}:{fr.lineno}")


def _short(path: str) -> str:
    for mark in ("site-packages/", "/lib/python3"):
        if mark in path:
            return path.split(mark, 1)[1]
    return os.path.relpath(path, _procs.ROOT) if path.startswith(str(_procs.ROOT)) else path


async def main(args: argparse.Namespace) -> None:
    _procs.raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="launchday-sockmem-"))
    data = tmp / "data"
    env = {"LAUNCHDAY_TRACEMALLOC": str(args.frames)} if args.trace else {}
    srv = Server(data, env=env).start()
    fleet: Fleet | None = None
    try:
        async with aiohttp.ClientSession() as s:
            async def call(method: str, path: str, **kw: Any) -> Any:
                async with s.request(method, srv.base + path, headers={**H, **kw.pop("headers", {})}, **kw) as r:
                    body = await r.read()
                    if r.status >= 300:
                        raise RuntimeError(f"{method} {path}: {r.status} {body[:300]!r}")
                    return json.loads(body) if body else None

            from loadtest.bench_foundation import demo_csv

            eid = (await call("POST", "/api/events", json=EVENT))["id"]
            await call("POST", f"/api/events/{eid}/points/import", data=demo_csv(extra=max(0, args.points - 1018)),
                       headers={"Content-Type": "text/csv"})
            tokens = [p["token"] for p in await call("GET", f"/api/events/{eid}/points")][: args.points]
        n_want = len(tokens)
        spec = [{"name": "launchday", "url": f"ws://127.0.0.1:{srv.port}/ws/point?token=", "tokens": tokens}]
        (tmp / "targets.json").write_text(json.dumps(spec))
        fleet = await Fleet(["--mode", "plain", "--targets", str(tmp / "targets.json")], "sockmem", tmp).start()
        await fleet.line(60)
        await asyncio.sleep(args.settle)
        before = status_kb(srv.pid), tcp_mem_kb()
        snap0 = await snapshot(srv, data, 1) if args.trace else None
        t0 = time.perf_counter()
        res = await fleet.ask({"cmd": "connect", "target": "launchday", "parallel": args.parallel}, 120 + n_want / 20)
        seconds = time.perf_counter() - t0
        n = int(res["n"])
        await asyncio.sleep(args.settle)
        after = status_kb(srv.pid), tcp_mem_kb()
        snap1 = await snapshot(srv, data, 2) if args.trace else None
        print(f"{n:,} point sockets ({res['failed']} failed) in {seconds:.2f} s"
              f"{' (tracing: not a rate)' if args.trace else ''}; settle {args.settle} s")
        for key in ("VmRSS", "RssAnon"):
            b, a = before[0][key], after[0][key]
            print(f"  {key:<8} {b:,} → {a:,} KB: {(a - b) / max(n, 1):.2f} KB per socket")
        print(f"  kernel TCP buffers (machine-wide) {before[1]:,} → {after[1]:,} KB:"
              f" {(after[1] - before[1]) / max(n, 1):.2f} KB per socket")
        if snap0 and snap1:
            print(f"  gc objects {snap0[1]['gc_objects']:,} → {snap1[1]['gc_objects']:,}:"
                  f" {(snap1[1]['gc_objects'] - snap0[1]['gc_objects']) / max(n, 1):.1f} per socket")
            report_trace(snap0[0], snap1[0], max(n, 1), args.top)
        if args.out:
            Path(args.out).write_text(json.dumps({"n": n,  # noqa: ASYNC240 (once, at the end) "before": before, "after": after, "seconds": seconds,
                                                  "trace": args.trace, "machine": _procs.machine()}, indent=1))
        await fleet.ask({"cmd": "close", "target": "launchday"}, 60)
    finally:
        if fleet is not None:
            await fleet.stop()
        srv.stop()
        _procs.cleanup()


def cli() -> None:
    p = argparse.ArgumentParser(prog="loadtest.socket_memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, default=2000)
    p.add_argument("--settle", type=float, default=2.0, help="seconds before each reading (default 2, as the bench)")
    p.add_argument("--parallel", type=int, default=100, help="connections in flight (default 100, as the bench)")
    p.add_argument("--trace", action="store_true", help="tracemalloc in the server: where Python's part goes")
    p.add_argument("--frames", type=int, default=12, help="with --trace: frames per traceback")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--out", help="keep the figures as JSON")
    asyncio.run(main(p.parse_args()))


if __name__ == "__main__":
    cli()
