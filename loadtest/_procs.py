"""Processes for the benchmarks: a ``launchday serve`` subprocess, and client
worker processes that hold point WebSockets and time send → ack; and small
helpers (percentiles, a /metrics scrape, the machine's description).

Only 127.0.0.1. Nothing here imports from ``tests/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-token"
_LIVE: list[Any] = []  # every server Popen and worker Process, for cleanup


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthz(port: int, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds used so far by a process: Python and the event loop, or the kernel."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)] if s else float("nan")


# -- pinning: the servers on some CPUs, the clients on the others -------------------
#
# A late ack measured by a client on the CPU the server uses is as likely the
# client's own delay as the server's. With pinning on, every server process
# (launchday, the reference servers, Redis) runs on the first half of this
# process's CPUs and every client process (the fleets, and the bench itself)
# on the second half; each side's CPU use is recorded per row.
PIN: dict[str, list[int]] = {}


def set_pinning(enabled: bool) -> dict[str, list[int]]:
    """Split the CPUs into a server side and a client side (needs 2 or more)."""
    PIN.clear()
    cpus = sorted(os.sched_getaffinity(0))
    if enabled and len(cpus) >= 2:
        half = len(cpus) // 2
        PIN.update(server=cpus[:half], client=cpus[half:])
        os.sched_setaffinity(0, PIN["client"])  # the bench's own console, trickle and scrapes are clients
    return dict(PIN)


def pin(pid: int, side: str) -> None:
    """Put process ``pid`` (and the threads it starts from now on) on its side's CPUs."""
    if side in PIN:
        with contextlib.suppress(ProcessLookupError):
            os.sched_setaffinity(pid, PIN[side])


def pinned(side: str) -> Any:
    """A ``preexec_fn`` that pins the child before it runs anything (a
    program's start-up threads, Node's among them, inherit it); None unpinned."""
    cpus = PIN.get(side)
    return None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))


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


def publish(result: dict[str, Any], text: str, out: Path | None, name: str, started: Any, docs: bool) -> None:
    """A bench's end: its raw figures as JSON (``out``, or a file in the temp
    directory), its markdown printed, and appended to docs/benchmarks.md
    unless ``docs`` is False."""
    path = out or Path(tempfile.gettempdir()) / f"{name}-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print("\n" + text)
    print(f"JSON: {path}  ({result['duration_s']:.0f} s)")
    if docs:
        page = ROOT / "docs" / "benchmarks.md"
        page.write_text(page.read_text().rstrip("\n") + "\n\n" + text)
        print(f"appended to {page.relative_to(ROOT)}")


def split(items: list[Any], k: int = 2) -> list[list[Any]]:
    size = math.ceil(len(items) / k)
    return [items[i * size:(i + 1) * size] for i in range(k)]


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def machine() -> dict[str, Any]:
    cpu = Path("/proc/cpuinfo").read_text()
    model = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines() if ln.startswith("model name")), "?")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]

    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {"cpu": model, "cpus": cpu.count("\nprocessor") + cpu.startswith("processor"),
            "ram_gib": round(mem_kb / 1024**2, 1), "kernel": platform.release(), "python": platform.python_version(),
            "commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "--porcelain")),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3], "tmp_fs": _fs(tempfile.gettempdir())}


def _fs(path: str) -> str:
    """The filesystem holding ``path``: type and device, from /proc/mounts."""
    best = ("", "?", "?")
    for line in Path("/proc/mounts").read_text().splitlines():
        dev, mnt, kind = line.split()[:3]
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
            best = (mnt, kind, dev)
    return f"{best[1]} ({best[2]})"


def busy_s() -> float:
    """CPU seconds the whole machine has been busy (all CPUs, every process)."""
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / os.sysconf("SC_CLK_TCK")


def wait_quiet(limit: float) -> float:
    """Wait (up to ``limit`` s) until other processes leave the CPUs alone; the busy CPUs of the last 3 s."""
    deadline = time.monotonic() + limit
    while True:
        b0 = busy_s()
        time.sleep(3.0)
        busy = (busy_s() - b0) / 3.0
        if busy < 0.3 or time.monotonic() > deadline:
            return busy
        print(f"waiting for a quiet machine: {busy:.1f} CPUs busy", flush=True)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Server:
    """``launchday serve`` in its own session (Ctrl+C on the bench does not reach it)."""

    def __init__(self, data: Path, port: int | None = None, extra: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.data = data
        self.extra = extra  # more ``launchday serve`` options, e.g. ("--uvloop",)
        self.env = env or {}  # more environment, e.g. {"LAUNCHDAY_FANOUT_THREADS": "1"}
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_s = 0.0  # launch → first 200 from /healthz

    def command(self) -> list[str]:
        script = Path(sys.executable).parent / "launchday"
        head = [str(script)] if script.exists() else [sys.executable, "-m", "server.io.cli"]
        return [*head, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data", str(self.data), *self.extra]

    def start(self, timeout: float = 60.0) -> Server:
        env = {**os.environ, "LAUNCHDAY_ADMIN_TOKEN": ADMIN, "LAUNCHDAY_LOG_LEVEL": "warning", **self.env}
        self.data.mkdir(parents=True, exist_ok=True)
        err = open(self.data.parent / f"server-{self.port}.log", "ab")  # a file: a full pipe would stall it
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=err, stderr=err,
                                     start_new_session=True, preexec_fn=pinned("server"))
        err.close()
        _LIVE.append(self.proc)
        while not healthz(self.port):
            if self.proc.poll() is not None:
                log = (self.data.parent / f"server-{self.port}.log").read_text(errors="replace")
                raise RuntimeError(f"server exited with {self.proc.returncode}: {log[-2000:]}")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError("server did not answer /healthz")
            time.sleep(0.005)
        self.started_s = time.perf_counter() - t0
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        p = self.proc
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        p.send_signal(sig)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()


def cleanup() -> None:
    """Kill every process this module started that is still running."""
    for p in reversed(_LIVE):
        with contextlib.suppress(Exception):
            if isinstance(p, subprocess.Popen):
                if p.poll() is None:
                    p.kill()
                    p.wait(timeout=10)
            elif isinstance(p, asyncio.subprocess.Process):  # a Fleet: its loop may be gone, so by pid
                if p.returncode is None:
                    os.kill(p.pid, signal.SIGKILL)
            elif p.is_alive():
                p.kill()
                p.join(timeout=10)
    _LIVE.clear()


# -- client workers -------------------------------------------------------------


class Workers:
    """K processes; each holds a share of the point sockets and runs commands."""

    def __init__(self, port: int, k: int = 2) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        for i in range(k):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child, port, i), daemon=True, name=f"bench-client-{i}")
            proc.start()
            _LIVE.append(proc)
            self.pipes.append((parent, proc))

    def call(self, cmd: str, shares: list[Any] | None = None, timeout: float = 300.0, **kw: Any) -> list[Any]:
        """Send one command to every worker (with its share) and gather the answers."""
        for i, (pipe, _) in enumerate(self.pipes):
            pipe.send((cmd, shares[i] if shares is not None else None, kw))
        out = []
        for pipe, proc in self.pipes:
            if not pipe.poll(timeout):
                raise RuntimeError(f"{proc.name} did not answer {cmd!r}")
            ans = pipe.recv()
            if isinstance(ans, tuple) and ans and ans[0] == "failed":
                raise RuntimeError(f"{proc.name}: {ans[1]}")
            out.append(ans)
        return out

    def close(self) -> None:
        for pipe, _ in self.pipes:
            with contextlib.suppress(Exception):
                pipe.send(("exit", None, {}))
        for _, proc in self.pipes:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


def _worker_main(pipe: Any, port: int, index: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    raise_fd_limit()
    try:
        import uvloop  # the clients must not be the bottleneck

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_Client(pipe, port, index).run())


class _Sock:
    __slots__ = ("code", "last", "reader", "waiter", "ws")

    def __init__(self, code: str, ws: Any) -> None:
        self.code = code
        self.ws = ws
        self.last: dict[str, Any] = {}  # the answer to the last request
        self.waiter: asyncio.Future[tuple[float, dict[str, Any]]] | None = None
        self.reader: asyncio.Task[None] | None = None


class _Client:
    def __init__(self, pipe: Any, port: int, index: int) -> None:
        self.pipe = pipe
        self.url = f"ws://127.0.0.1:{port}/ws/point?token="
        self.index = index
        self.socks: list[_Sock] = []
        self.session: Any = None

    async def run(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        loop = asyncio.get_running_loop()
        try:
            while True:
                cmd, share, kw = await loop.run_in_executor(None, self.pipe.recv)
                if cmd == "exit":
                    break
                try:
                    self.pipe.send(await getattr(self, "cmd_" + cmd)(share, **kw))
                except Exception as exc:
                    self.pipe.send(("failed", repr(exc)))
        finally:
            await self.cmd_close(None)
            await self.session.close()

    async def cmd_connect(self, points: list[tuple[str, str]], parallel: int = 64) -> dict[str, Any]:
        """Open one socket per (code, token) and read its welcome."""
        sem = asyncio.Semaphore(parallel)
        t0 = time.perf_counter()

        async def one(code: str, token: str) -> _Sock:
            async with sem:
                ws = await self.session.ws_connect(self.url + token, max_msg_size=0)
                welcome = await ws.receive_json(timeout=30)
                assert welcome["type"] == "welcome", welcome
            sock = _Sock(code, ws)
            sock.reader = asyncio.create_task(self._read(sock))
            return sock

        self.socks += await asyncio.gather(*(one(c, t) for c, t in points))
        return {"connected": len(points), "seconds": time.perf_counter() - t0}

    async def _read(self, sock: _Sock) -> None:
        async for msg in sock.ws:
            now = time.perf_counter()
            data = json.loads(msg.data)
            if data.get("type") in ("ack", "error") and sock.waiter is not None and not sock.waiter.done():
                sock.waiter.set_result((now, data))
        if sock.waiter is not None and not sock.waiter.done():
            sock.waiter.set_exception(ConnectionError(f"{sock.code}: socket closed ({sock.ws.close_code})"))

    async def _request(self, sock: _Sock, frame: dict[str, Any]) -> tuple[float, bool]:
        """Send one frame; (ms from send to its ack, acked?)."""
        sock.waiter = asyncio.get_running_loop().create_future()
        t0 = time.perf_counter()
        await sock.ws.send_str(json.dumps(frame))
        t1, data = await asyncio.wait_for(sock.waiter, 60)
        sock.last = data
        return (t1 - t0) * 1000.0, data.get("type") == "ack" and data.get("id") == frame["id"]

    @staticmethod
    async def _at(go_at: float) -> None:
        await asyncio.sleep(max(0.0, go_at - time.time()))

    async def cmd_round(self, counts: list[int], kind: str, tag: str, go_at: float) -> dict[str, Any]:
        """Every socket sends one frame at ``go_at`` (all workers share the instant)."""

        def frame(sock: _Sock, n: int) -> dict[str, Any]:
            mid = f"{sock.code}-{tag}"
            if kind == "checkin":
                return {"type": "checkin", "id": mid, "attendees": n}
            return {"type": "attendees", "id": mid, "count": n}

        frames = [frame(s, n) for s, n in zip(self.socks, counts, strict=True)]
        await self._at(go_at)
        res = await asyncio.gather(*(self._request(s, f) for s, f in zip(self.socks, frames, strict=True)))
        return {"latencies_ms": [ms for ms, ok in res if ok], "errors": sum(1 for _, ok in res if not ok)}

    async def cmd_loop(self, _: Any, tag: str, go_at: float, seconds: float) -> dict[str, Any]:
        """Each socket sends attendees updates back to back (next after the ack)."""
        end = go_at + seconds
        await self._at(go_at)
        lat: list[float] = []
        errors = limited = 0
        last: dict[str, int] = {}

        async def pump(sock: _Sock) -> None:
            nonlocal errors, limited
            i = 0
            while time.time() < end:
                i += 1
                n = (i * 7 + len(sock.code)) % 97
                ms, ok = await self._request(sock, {"type": "attendees", "id": f"{sock.code}-{tag}{i}", "count": n})
                if ok and time.time() <= end:
                    lat.append(ms)
                if ok:
                    last[sock.code] = n
                elif sock.last.get("code") == "rate_limited":
                    # Faster than a point may go (docs/protocol.md#limits): wait as told, as a device does.
                    limited += 1
                    await asyncio.sleep((sock.last.get("retry_after_ms") or 100) / 1000)
                else:
                    errors += 1

        await asyncio.gather(*(pump(s) for s in self.socks))
        return {"acks": len(lat), "latencies_ms": lat, "errors": errors, "rate_limited": limited, "last": last}

    async def cmd_close(self, _: Any) -> dict[str, Any]:
        socks, self.socks = self.socks, []
        sem = asyncio.Semaphore(256)

        async def close(s: _Sock) -> None:
            async with sem:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(s.ws.close(), 5)

        await asyncio.gather(*(close(s) for s in socks))
        for s in socks:
            if s.reader is not None:
                s.reader.cancel()
        return {"closed": len(socks)}


# -- fleets and reference servers (loadtest/bench.py) ---------------------------------


class Fleet:
    """A ``loadtest.fleet`` subprocess, spoken to in JSON lines (stdin/stdout)."""

    def __init__(self, args: list[str], name: str, log_dir: Path) -> None:
        self.args = args
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Fleet:
        err = self.log_path.open("ab")  # a file: a full pipe would stall the fleet
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loadtest.fleet", *self.args, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=err, limit=256 * 1024 * 1024, start_new_session=True,
            preexec_fn=pinned("client"))
        err.close()
        _LIVE.append(self.proc)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def send(self, obj: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        await self.proc.stdin.drain()

    async def line(self, seconds: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), seconds)
        if not raw:
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise RuntimeError(f"fleet {self.name} exited early: {tail}")
        return dict(json.loads(raw))

    async def ask(self, obj: dict[str, Any], seconds: float) -> dict[str, Any]:
        await self.send(obj)
        return await self.line(seconds)

    async def stop(self) -> None:
        p = self.proc
        if p is None or p.returncode is not None:
            return
        with contextlib.suppress(Exception):
            await self.send({"cmd": "exit"})
            await asyncio.wait_for(p.wait(), 10)
        if p.returncode is None:
            p.kill()
            await p.wait()


async def ask_all(fleets: list[Fleet], cmds: list[dict[str, Any]] | dict[str, Any],
                  seconds: float) -> list[dict[str, Any]]:
    """One command to each fleet (the same, or one each), answers in order."""
    each = cmds if isinstance(cmds, list) else [cmds] * len(fleets)
    for f, c in zip(fleets, each, strict=True):
        await f.send(c)
    return list(await asyncio.gather(*(f.line(seconds) for f in fleets)))


REFS = ROOT / "loadtest" / "refs"


def node_ready(install: bool = True) -> str | None:
    """Why the Node reference cannot run (None when it can); runs ``npm install`` once if allowed."""
    import shutil

    node_dir = REFS / "node"
    if shutil.which("node") is None:
        return "node is not installed"
    if (node_dir / "node_modules" / "ws").is_dir():
        return None
    if not install:
        return "loadtest/refs/node/node_modules is missing (run npm install there)"
    if shutil.which("npm") is None:
        return "npm is not installed"
    res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=node_dir,
                         capture_output=True, text=True, timeout=300)
    if res.returncode != 0 or not (node_dir / "node_modules" / "ws").is_dir():
        return f"npm install failed: {(res.stderr or res.stdout).strip()[-300:]}"
    return None


class RefServer:
    """A reference broadcast server (loadtest/refs/): ``websockets`` or Node ``ws``."""

    def __init__(self, kind: str, payload: Path, log_dir: Path, uvloop: bool = True) -> None:
        self.kind = kind
        self.payload = payload
        self.log_path = log_dir / f"ref-{kind}{'' if uvloop else '-asyncio'}.log"
        self.uvloop = uvloop
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def command(self) -> list[str]:
        if self.kind == "node":
            return ["node", str(REFS / "node" / "server.js"), "0", str(self.payload)]
        return [sys.executable, str(REFS / "ws_broadcast.py"), "--port", "0", "--payload", str(self.payload),
                "--uvloop" if self.uvloop else "--no-uvloop"]

    def start(self, timeout: float = 30.0) -> RefServer:
        err = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, stdout=subprocess.PIPE, stderr=err,
                                     start_new_session=True, preexec_fn=pinned("server"))
        err.close()
        _LIVE.append(self.proc)
        assert self.proc.stdout is not None
        import select

        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError(f"reference {self.kind} did not start: {self.log_path.read_text(errors='replace')[-1000:]}")
        self.port = int(json.loads(line)["ready"])
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        p = self.proc
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
