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


def pinned(side: str) -> Any:
    """A ``preexec_fn`` that pins the child before it runs anything (a
    program's start-up threads, Node's among them, inherit it); None unpinned."""
    cpus = PIN.get(side)
    return None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))


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


def stats(values: list[float]) -> dict[str, float]:
    """n, p50, p99 and max (nearest rank); NaN for none."""
    if not values:
        return {"n": 0, "p50": math.nan, "p99": math.nan, "max": math.nan}
    return {"n": len(values), "p50": pct(values, 0.5), "p99": pct(values, 0.99), "max": max(values)}


def begin(wait_quiet_s: float, pin: bool) -> tuple[float, dict[str, list[int]]]:
    """A bench's start: Ctrl+C and SIGTERM stop it cleanly, the server's quiet
    logging, the open-file limit raised (the servers and fleets inherit it),
    a wait for a quiet machine, the CPUs split. (CPUs busy before, pinning.)"""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from server.io import logs

    logs.configure("warning")
    raise_fd_limit()
    busy0 = wait_quiet(wait_quiet_s)
    return busy0, set_pinning(pin)


def profile(out_dir: Path | None, pid: int, name: str, native: bool = False) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of process ``pid`` into ``out_dir/name.txt`` (raw
    stacks, 500 Hz) until :func:`stop_profile`; nothing without ``out_dir``."""
    if out_dir is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    mode = ["--native"] if native else ["--nonblocking"]  # native frames need the target paused
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--rate", "500", "--format", "raw",
                             "--output", str(out_dir / f"{name}.txt"), *mode],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profile(p: subprocess.Popen[bytes] | None) -> None:
    if p is not None:
        p.send_signal(signal.SIGINT)
        p.wait(timeout=60)


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


def track(proc: Any) -> None:
    """Kill ``proc`` with the others at ``cleanup`` if it still runs then."""
    _LIVE.append(proc)


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
