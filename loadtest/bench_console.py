"""The whole country in the console: import, roll-up and render (not a test).

    .venv/bin/python -m loadtest.bench_console                        # the national registry (36,566 points), ~2-3 min
    .venv/bin/python -m loadtest.bench_console --per-unit 1 --no-docs # ~3,700 points: a check that it runs
    .venv/bin/python -m loadtest.bench_console --points 300 --load-points 100 --load-seconds 4 --no-docs  # the smoke size

The registry is ``server/demo/data.py``'s ``national(seed, per_unit)`` (the
root, the 34 provinces, the 3,321 units, ``--per-unit`` points under each;
``--points N`` takes loadtest/bench_national.py's consistent subset), in an
event grouped by province. Two parts:

1. **In this process** (no server, no sockets): the pure core and the runtime's
   view building, as ``launchday serve`` runs them. Import: ``decide_import``
   on the sheet, then the fold of its facts into a fresh state (median of
   ``--import-runs``). Roll-up per fact: ``decide_checkin`` / ``decide_attendees``
   and then the fold (``fold.apply``) and the fold with its effects
   (``EventRuntime.apply_entries``: marking the point dirty for the next
   delta), each fact timed on its own (µs, p50/p99 over ``--facts`` facts on
   distinct points). A console delta with K dirty points
   (``EventRuntime.delta_frame``, then ``orjson`` and the WebSocket frame, as
   the hub sends it): ms and bytes for K = 1, 100, 1,000. The console snapshot
   (``server/io/ws/console.py``'s ``snapshot``): build and encode ms over
   ``--snapshot-runs`` runs, bytes raw and gzip (level 6; the server sends it
   uncompressed).
2. **With a real server**: ``launchday serve`` pinned to the server CPUs (the
   bench, its fleet and Chromium on the client CPUs). The registry imported
   with ``POST /api/events/{eid}/points/import`` (n = 1). Chromium (Debian's,
   headless, 1440×900) opens ``/console/?event=…#token=…``: time to the
   dashboard's first render after the snapshot (``__consoleStats.renders[0].at``
   − ``performance.timeOrigin``), the snapshot's arrival and parse; then a click
   on the Map tab and the time until its wall is drawn and painted (the click's
   ``event.timeStamp`` → the first animation frame + task after
   ``#view-map[data-mode]``). Then a fleet (``loadtest/fleet.py``,
   ``--load-points`` PointClients) checks in every point uniformly over half of
   ``--load-seconds`` and updates every count over the other half (about
   ``2 × load-points / load-seconds`` changes a second); the page stays on the
   dashboard for the first third, the Map for the second and the Points tab
   for the last: per delta, parse ms (``__consoleStats.parse``) and render ms
   (``__consoleStats.renders``) p50/p99/max with n, deltas a second received,
   long tasks (a ``longtask`` PerformanceObserver: count and longest), and
   input → paint of the two tab clicks under the load (Points: until its
   table's rows are there and painted).
3. The machine, the pinning and the server's CPU during the load.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loadtest import _procs
from loadtest._procs import ADMIN, ROOT, Fleet, Server, cpu_s, pct, stats
from loadtest.bench_console_report import markdown

DOCS = ROOT / "docs" / "benchmarks.md"
EVENT = {"name": "Lễ phát động toàn quốc (bench console)", "starts_at": "2025-05-08T08:00:00+07:00",
         "report_deadline": "2025-05-08T07:30:00+07:00", "timezone": "Asia/Ho_Chi_Minh", "group_level": "province"}
CHROMIUM = os.environ.get("LAUNCHDAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1440, "height": 900}
KS = (1, 100, 1000)

# Installed before the console's own scripts: long tasks, each WebSocket
# message's arrival (before the console parses it), and a tab-click timer.
PAGE_HOOKS = """
window.__longtasks = [];
window.__longtaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({start: e.startTime, duration: e.duration});
}).observe({type: 'longtask', buffered: true});
window.__arrivals = [];
const NativeWS = window.WebSocket;
window.WebSocket = class extends NativeWS {
  constructor(...a) {
    super(...a);
    this.addEventListener('message', (m) => {
      if (window.__arrivals.length < 20000) window.__arrivals.push({t: performance.now(), chars: m.data.length});
    });
  }
};
window.__tabs = {};
// cond is evaluated with `before`: what `mark` read when the timer was armed
// (the Map's board before the click: ready once a build replaced it).
window.__armTab = (view, cond, mark) => {
  const before = mark ? new Function('return (' + mark + ')')() : null;
  const out = window.__tabs[view] = {done: false};
  const ready = new Function('before', 'return (' + cond + ')').bind(null, before);
  const link = document.querySelector(`nav a[data-view="${view}"]`);
  link.addEventListener('click', (e) => {
    out.input = e.timeStamp;
    const poll = () => {
      if (!ready()) return requestAnimationFrame(poll);
      out.ready = performance.now();
      requestAnimationFrame(() => setTimeout(() => { out.painted = performance.now(); out.done = true; }, 0));
    };
    poll();
  }, {once: true, capture: true});
};
"""
MAP_MARK = "document.querySelector('#map-board').firstElementChild"
MAP_READY = ("!document.querySelector('#view-map').hidden && !!document.querySelector('#view-map').dataset.mode"
             " && document.querySelector('#map-board').firstElementChild !== before")
POINTS_READY = ("!document.querySelector('#view-points').hidden && document.querySelector('#view-points').dataset"
                ".matches !== undefined && document.querySelectorAll('#points-rows tr').length > 0")



# -- part 1: in this process ------------------------------------------------------------


def in_process(rows: list[dict[str, object]], a: argparse.Namespace) -> dict[str, Any]:
    from server.core import fold as st
    from server.core.events import decide_create_event
    from server.core.importing import decide_import
    from server.core.points import decide_attendees, decide_checkin
    from server.core.state import new_state
    from server.demo.data import to_csv_rows
    from server.io.runtime import Changes, EventRuntime
    from server.io.store import new_token
    from server.io.ws.console import snapshot
    from server.io.ws.hub import dumps_bytes, text_frame

    out: dict[str, Any] = {"points": len(rows)}
    table = to_csv_rows(rows)
    now = time.time() * 1000.0
    created = decide_create_event("ev-bench", EVENT, now, "bench")
    runs: list[dict[str, float]] = []
    state = None
    for _ in range(a.import_runs):
        t0 = time.perf_counter()
        result = decide_import(new_state(created), table, now, new_token, "bench")
        t1 = time.perf_counter()
        state = st.fold_facts([(1, created), *((i + 2, fct) for i, fct in enumerate(result.facts))])
        t2 = time.perf_counter()
        if result.errors or len(state.points) != len(rows):
            raise RuntimeError(f"import: {len(state.points)} points, errors {result.errors[:3]}")
        runs.append({"decide_ms": (t1 - t0) * 1000, "fold_ms": (t2 - t1) * 1000, "total_ms": (t2 - t0) * 1000})
    out["import"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]} | {
        "n": len(runs), "runs_total_ms": [r["total_ms"] for r in runs], "facts": len(result.facts)}
    print(f"  in-process import of {len(rows):,} rows: decide {out['import']['decide_ms']:.0f} ms + fold"
          f" {out['import']['fold_ms']:.0f} ms (median of {len(runs)})", flush=True)
    assert state is not None
    rt = EventRuntime(None, state)  # type: ignore[arg-type]  # no journal: apply_entries and the views only
    rt._snapshotting = True  # no snapshot task (there is no loop and no journal here)

    # Roll-up per fact, on distinct points spread over the country.
    rng = random.Random(a.seed)
    codes = [c for c, p in state.points.items() if p.level not in ("province",) and p.parent is not None]
    n = min(a.facts, len(codes) // 2)
    sample = rng.sample(codes, 2 * n)
    seq = state.seq
    facts: dict[str, dict[str, list[float]]] = {}
    for kind in ("checkin", "attendees"):
        for path, chosen in (("fold", sample[:n]), ("fold + effects", sample[n:])):
            decide_us, apply_us = [], []
            for i, code in enumerate(chosen):
                t0 = time.perf_counter_ns()
                if kind == "checkin":
                    d = decide_checkin(state, code, f"b{i}", 1 + i % 90, now)
                else:
                    d = decide_attendees(state, code, f"n{i}", 2 + i % 97, now)
                t1 = time.perf_counter_ns()
                seq += 1
                if path == "fold":
                    st.apply(state, d.facts[0], seq)
                else:
                    rt.apply_entries([(seq, d.facts[0])])
                t2 = time.perf_counter_ns()
                decide_us.append((t1 - t0) / 1000)
                apply_us.append((t2 - t1) / 1000)
            facts[f"{kind}/{path}"] = {"decide_us": stats(decide_us), "apply_us": stats(apply_us)}  # type: ignore[dict-item]
    out["per_fact"] = facts
    for k, v in facts.items():
        print(f"  {k}: apply p50 {v['apply_us']['p50']:.1f} / p99 {v['apply_us']['p99']:.1f} µs"
              f" (n = {v['apply_us']['n']:,}); decide p50 {v['decide_us']['p50']:.1f} µs", flush=True)

    # Deltas with K dirty points.
    points = list(state.points)
    deltas = {}
    for k in KS:
        if k > len(points):
            continue
        build, encode, size = [], [], 0
        for r in range(a.delta_runs):
            dirty = set(random.Random(r).sample(points, k))
            t0 = time.perf_counter()
            frame = rt.delta_frame(Changes(set(dirty), set(), set(), set()))
            t1 = time.perf_counter()
            wire = text_frame(dumps_bytes(frame))
            t2 = time.perf_counter()
            build.append((t1 - t0) * 1000)
            encode.append((t2 - t1) * 1000)
            size = len(wire)
        deltas[str(k)] = {"build_ms": stats(build), "encode_ms": stats(encode), "bytes": size}
        print(f"  delta with {k:,} dirty: build p50 {deltas[str(k)]['build_ms']['p50']:.2f} ms, encode p50"
              f" {deltas[str(k)]['encode_ms']['p50']:.2f} ms, {size:,} bytes (n = {a.delta_runs})", flush=True)
    out["delta"] = deltas

    # The console snapshot.
    build, encode = [], []
    for _ in range(a.snapshot_runs):
        t0 = time.perf_counter()
        frame = snapshot(rt)
        t1 = time.perf_counter()
        wire = text_frame(dumps_bytes(frame))
        t2 = time.perf_counter()
        build.append((t1 - t0) * 1000)
        encode.append((t2 - t1) * 1000)
    raw = dumps_bytes(frame)
    out["snapshot"] = {"build_ms": stats(build), "encode_ms": stats(encode), "bytes": len(wire),
                       "gzip_bytes": len(gzip.compress(raw, 6)), "points": len(frame["points"])}
    s = out["snapshot"]
    print(f"  snapshot: {s['bytes']:,} bytes ({s['gzip_bytes']:,} gzip -6); build p50 {s['build_ms']['p50']:.0f}"
          f" ms, encode p50 {s['encode_ms']['p50']:.0f} ms (n = {a.snapshot_runs})", flush=True)
    return out


# -- part 2: a real server and Chromium ---------------------------------------------------


class Live:
    def __init__(self, a: argparse.Namespace, tmp: Path, rows: list[dict[str, object]]) -> None:
        self.a, self.tmp, self.rows = a, tmp, rows
        self.out: dict[str, Any] = {}
        self.server: Server | None = None
        self.fleet: Fleet | None = None

    async def call(self, s: Any, method: str, path: str, ok: tuple[int, ...] = (200,), **kw: Any) -> Any:
        assert self.server is not None
        headers = {"Authorization": f"Bearer {ADMIN}", **kw.pop("headers", {})}
        async with s.request(method, self.server.base + path, headers=headers, **kw) as r:
            body = await r.read()
            if r.status not in ok:
                raise RuntimeError(f"{method} {path}: {r.status} {body[:300]!r}")
            return json.loads(body) if body else None

    async def run(self) -> dict[str, Any]:
        import aiohttp
        from playwright.async_api import async_playwright

        from loadtest.bench_national import to_csv

        a, out = self.a, self.out
        srv = self.server = Server(self.tmp / "data").start()
        async with aiohttp.ClientSession() as s:
            eid = str((await self.call(s, "POST", "/api/events", (201,), json=EVENT))["id"])
            body = to_csv(self.rows)
            c0, t0 = cpu_s(srv.pid), time.perf_counter()
            imp = await self.call(s, "POST", f"/api/events/{eid}/points/import", data=body,
                                  headers={"Content-Type": "text/csv"})
            out["import"] = {"seconds": time.perf_counter() - t0, "server_cpu_s": cpu_s(srv.pid) - c0,
                             "rows": len(self.rows), "bytes": len(body), "created": imp["created"],
                             "errors": len(imp["errors"]), "n": 1}
            if imp["errors"]:
                raise RuntimeError(f"import errors: {imp['errors'][:3]}")
            print(f"  HTTP import: {len(self.rows):,} rows ({len(body) / 1e6:.1f} MB) in"
                  f" {out['import']['seconds']:.2f} s", flush=True)
            points = await self.call(s, "GET", f"/api/events/{eid}/points")
        out["rss_after_import_kb"] = _procs.rss_kb(srv.pid)
        leaves = [p for p in points if p["level"] not in ("province", "commune") and p.get("parent")] or points
        chosen = random.Random(self.a.seed).sample(leaves, min(a.load_points, len(leaves)))
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                await self.browse(browser, eid, chosen)
            finally:
                await browser.close()
        out["rss_end_kb"] = _procs.rss_kb(srv.pid)
        return out

    async def browse(self, browser: Any, eid: str, chosen: list[dict[str, Any]]) -> None:
        out, srv = self.out, self.server
        assert srv is not None
        context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.add_init_script(PAGE_HOOKS)
        timeout = 60_000 + len(self.rows) * 2
        await page.goto(f"{srv.base}/console/?event={eid}#token={ADMIN}")
        await page.wait_for_function("window.__consoleStats && __consoleStats.renders.length > 0", timeout=timeout)
        first = await page.evaluate("""() => {
          const s = __consoleStats, nav = performance.getEntriesByType('navigation')[0] || {};
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          const snap = __arrivals[0] || {};
          return {origin: performance.timeOrigin, render_at: s.renders[0].at, render_ms: s.renders[0].ms,
                  parse_ms: s.parse[0], snapshot_arrived: snap.t, snapshot_chars: snap.chars,
                  dom_content_loaded: nav.domContentLoadedEventEnd, fcp: fcp ? fcp.startTime : null,
                  longtasks: __longtasks.map((t) => t.duration), supported: __longtaskSupported,
                  heap: performance.memory ? performance.memory.usedJSHeapSize : null,
                  points: __console.live.points.size};
        }""")
        first["first_render_ms"] = first["render_at"] - first["origin"]
        out["first_paint"] = first
        print(f"  console: first render of the dashboard {first['first_render_ms']:.0f} ms after navigation start"
              f" (snapshot arrived at {first['snapshot_arrived'] or 0:.0f} ms, parse {first['parse_ms']:.0f} ms,"
              f" render {first['render_ms']:.0f} ms; {first['points']:,} points)", flush=True)
        out["map_first"] = await self.tab(page, "map", MAP_READY, MAP_MARK)
        out["map_first"]["mode"] = await page.evaluate("document.querySelector('#view-map').dataset.mode")
        out["map_first"]["cells"] = await page.evaluate("document.querySelector('#view-map').dataset.cells")
        print(f"  Map tab, first: click → painted {out['map_first']['input_to_paint_ms']:.0f} ms"
              f" ({out['map_first']['mode']}, {out['map_first']['cells']} cells)", flush=True)
        await page.click('nav a[data-view="dashboard"]')
        await page.wait_for_function("!document.querySelector('#view-dashboard').hidden")
        await self.load(page, chosen)
        out["page_errors"] = errors[:5]
        await context.close()

    async def tab(self, page: Any, view: str, ready: str, mark: str | None = None) -> dict[str, Any]:
        await page.evaluate("([v, c, m]) => __armTab(v, c, m)", [view, ready, mark])
        await page.click(f'nav a[data-view="{view}"]')
        await page.wait_for_function(f"__tabs['{view}'].done", timeout=120_000)
        t = await page.evaluate(f"__tabs['{view}']")
        return {"input_to_ready_ms": t["ready"] - t["input"], "input_to_paint_ms": t["painted"] - t["input"],
                "at": t["input"]}

    async def load(self, page: Any, chosen: list[dict[str, Any]]) -> None:
        a, out, srv = self.a, self.out, self.server
        assert srv is not None
        path = self.tmp / "tokens.txt"
        path.write_text("\n".join(p["token"] for p in chosen))
        self.fleet = await Fleet(["--server", srv.base, "--tokens", str(path), "--commands", "--uvloop",
                                  "--offset-ms", "0", "--sync-concurrency", "50", "--quiet-concurrency", "0",
                                  "--linger-s", "0"], "console-load", self.tmp).start()
        ready = await self.fleet.line(120 + len(chosen) / 10)
        print(f"  {ready['n']:,} points connected for the load in {ready['seconds']:.1f} s", flush=True)
        await asyncio.sleep(1.0)  # their presence deltas out of the way
        half = a.load_seconds / 2
        await page.evaluate("__longtasks = []; __arrivals = []; __consoleStats.reset()")
        page_t0 = await page.evaluate("performance.now()")
        c0, b0, w0 = cpu_s(srv.pid), _procs.busy_s(), time.perf_counter()
        go = time.time() + 0.5

        async def drive() -> list[dict[str, Any]]:
            res = [await self.fleet.ask({"cmd": "checkin", "go_at": go, "spread_s": half}, 120 + half)]  # type: ignore[union-attr]
            res.append(await self.fleet.ask({"cmd": "attendees", "go_at": time.time() + 0.05,  # type: ignore[union-attr]
                                             "spread_s": half}, 120 + half))
            return res

        driving = asyncio.create_task(drive())
        clicks = {}
        for view, cond, mark, frac in (("map", MAP_READY, MAP_MARK, 1 / 3), ("points", POINTS_READY, None, 2 / 3)):
            await asyncio.sleep(max(0.0, go + frac * a.load_seconds - time.time()))
            clicks[view] = await self.tab(page, view, cond, mark)
            print(f"  under load, {view} tab: click → painted {clicks[view]['input_to_paint_ms']:.0f} ms", flush=True)
        res = await driving
        wall = time.perf_counter() - w0
        server_cpu, busy = cpu_s(srv.pid) - c0, _procs.busy_s() - b0
        await asyncio.sleep(1.0)  # the last delta
        page_stats = await page.evaluate("({d: __consoleStats.deltas, r: __consoleStats.renders,"
                                         " p: __consoleStats.parse, f: __consoleStats.frames, lt: __longtasks,"
                                         " ar: __arrivals, now: performance.now(), origin: performance.timeOrigin})")
        changes = sum(len(r["latencies_ms"]) for r in res)
        out["load"] = self.figures(page_stats, clicks, page_t0) | {
            "points": len(chosen), "changes": changes, "errors": sum(r["errors"] for r in res),
            "changes_per_s": changes / (2 * half), "seconds": wall, "server_cpu_s": server_cpu,
            "server_util": server_cpu / wall, "busy_cpus": busy / wall, "fleet_cpu_s": res[-1]["cpu_s"] - ready["cpu_s"],
            "ack_ms": stats([x for r in res for x in r["latencies_ms"]])}
        L = out["load"]
        print(f"  load: {changes:,} changes in {2 * half:.0f} s; {L['deltas']['n']:,} deltas ({L['deltas_per_s']:.2f}/s);"
              f" render p50 {L['render_ms']['all']['p50']:.1f} / max {L['render_ms']['all']['max']:.1f} ms; parse p50"
              f" {L['parse_ms']['p50']:.2f} / max {L['parse_ms']['max']:.2f} ms; long tasks {L['longtasks']['count']}"
              f" (longest {L['longtasks']['max_ms']:.0f} ms); server CPU {100 * L['server_util']:.0f} %", flush=True)

    def figures(self, s: dict[str, Any], clicks: dict[str, Any], t0: float) -> dict[str, Any]:
        deltas, renders, origin = s["d"], s["r"], s["origin"]
        aligned = set(s["f"]) <= {"delta"} and len(s["p"]) == len(deltas)
        cut = [origin + clicks["map"]["at"], origin + clicks["points"]["at"]]

        def phase(at: float) -> str:
            return "dashboard" if at < cut[0] else "map" if at < cut[1] else "points"

        render = {"all": stats([r["ms"] for r in renders])}
        for name in ("dashboard", "map", "points"):
            render[name] = stats([r["ms"] for r in renders if phase(r["at"]) == name])
        recv = [d["recv"] for d in deltas]
        span = (recv[-1] - recv[0]) / 1000 if len(recv) > 1 else 0.0
        lts = [t["duration"] for t in s["lt"] if t["start"] >= t0]
        chars = [x["chars"] for x in s["ar"]]
        return {"deltas": {"n": len(deltas), "points_p50": pct([d["points"] for d in deltas], 0.5) if deltas else 0},
                "deltas_per_s": (len(recv) - 1) / span if span else float("nan"),
                "delta_chars": stats([float(c) for c in chars]), "frames": s["f"],
                "parse_ms": stats(s["p"]), "parse_aligned": aligned, "render_ms": render,
                "longtasks": {"count": len(lts), "max_ms": max(lts, default=0.0), "total_ms": sum(lts)},
                "clicks": clicks}

    async def stop(self) -> None:
        if self.fleet is not None:
            await self.fleet.stop()
        if self.server is not None:
            self.server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m loadtest.bench_console", description=__doc__.split("\n")[0])
    ap.add_argument("--per-unit", type=int, default=10, help="points under each of the 3,321 units (1: ~3,700 points)")
    ap.add_argument("--points", type=int, default=None, help="a consistent subset of N points (default: all)")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--import-runs", type=int, default=3)
    ap.add_argument("--facts", type=int, default=1500, help="facts per kind and path for the roll-up (n)")
    ap.add_argument("--delta-runs", type=int, default=50)
    ap.add_argument("--snapshot-runs", type=int, default=5)
    ap.add_argument("--load-points", type=int, default=2000, help="points of the fleet during the load")
    ap.add_argument("--load-seconds", type=float, default=20.0, help="check-ins over half, counts over the other")
    ap.add_argument("--no-browser", action="store_true", help="part 1 only")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-docs", action="store_true")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="S")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=True,
                    help="the server on half the CPUs, the bench, fleet and Chromium on the other half (default)")
    a = ap.parse_args()
    if a.per_unit < 0 or a.facts < 1 or a.import_runs < 1 or a.load_seconds <= 0:
        ap.error("--per-unit ≥ 0, --facts ≥ 1, --import-runs ≥ 1, --load-seconds > 0")
    from loadtest.bench_national import registry
    busy0, pinning = _procs.begin(a.wait_quiet, a.pin)
    started, t0, load0 = datetime.now(UTC), time.perf_counter(), Path("/proc/loadavg").read_text().split()[:3]
    rows = registry(a.points, a.per_unit, a.seed)
    print(f"console bench: {len(rows):,} points; {'pinned ' + str(pinning) if pinning else 'unpinned'}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="launchday-console-"))
    result: dict[str, Any] = {"points": len(rows), "per_unit": a.per_unit, "subset": a.points is not None}
    stopped = 0
    try:
        result["in_process"] = in_process(rows, a)
        if not a.no_browser:
            live = Live(a, tmp, rows)

            async def go() -> None:
                try:
                    result["live"] = await live.run()
                finally:
                    await live.stop()

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
    argv = " ".join(f"--{k.replace('_', '-')} {getattr(a, k):g}" for k in (
        "per_unit", "points", "facts", "import_runs", "snapshot_runs", "load_points", "load_seconds")
        if getattr(a, k) != ap.get_default(k)) + " --no-pin" * (not a.pin) + " --no-browser" * a.no_browser
    result |= {"started_utc": started.isoformat(timespec="seconds"), "duration_s": time.perf_counter() - t0,
               "command": f"python -m loadtest.bench_console{' ' + argv.strip() if argv.strip() else ''}",
               "machine": _procs.machine(), "loadavg_start": load0, "busy_cpus_before": busy0, "pinning": pinning}
    _procs.publish(result, markdown(result), a.out, "bench-console", started, docs=not a.no_docs)


if __name__ == "__main__":
    main()
