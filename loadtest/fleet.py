"""A fleet of simulated points in one process, driven over stdin/stdout.

Used by the synchronized-launch tests and the benchmarks (``loadtest/bench.py``):
several fleet processes each play hundreds or thousands of devices, so that
the test process itself is not the bottleneck or the source of timing error.

Two modes.

``--mode point`` (the default): devices with the one protocol client
(``checkin.PointClient``), each with its own wrong clock::

    python -m loadtest.fleet --server URL --tokens FILE [--offset-ms 5000] [--seed 1] [--commands]

Prints JSON lines: ``{"event": "ready", ...}`` once every client is connected
and clock-synced, then ``{"event": "result", "clients": [...]}`` when every
client has fired (or at ``--fire-timeout``), and exits. Each client's result
carries ``launch_recv_wall_ms``: this machine's clock read in the client's
``on_launch`` callback when the ``countdown`` frame arrived (the frame lag).
With ``--commands`` the fleet waits on stdin after ``ready`` for
``{"cmd": "checkin", "go_at": <epoch s>, "spread_s": S}`` (every client checks
in at a moment spread over S seconds from ``go_at``, uniform or, with
``"peak": f``, triangular peaking at f × S; answers ``{"event": "checkin",
"latencies_ms": [...]}``, and with ``"acked": true`` each client's
``[code, count]`` acknowledged or not), ``{"cmd": "attendees", ...}`` (the
same round, updating the count), ``{"cmd": "launch"}`` (wait
for the next fire as above, then wait for more commands; an optional
``"countdown_resync_after_s"`` sets that client option for it) and
``{"cmd": "exit"}``. Every line carries ``cpu_s``, the process's CPU so far.

``--mode plain``: bare WebSockets for measuring fan-out the same way against
launchday and the reference servers (``loadtest/refs/``). A minimal RFC 6455
client on an ``asyncio.Protocol`` (uvloop): the handshake, then frames parsed
in ``data_received``, pings answered; the receipt time of a broadcast is
``time.time()`` at the start of the ``data_received`` call that carried it,
before any JSON parsing, so the client adds as little as it can. Targets come
from ``--targets FILE`` (``[{"name", "url", "tokens": [...]} or {"name",
"url", "n"}]``; a token is appended to the url); commands on stdin, one JSON
line each, answered by one line::

    {"cmd": "connect", "target": T, "parallel": 50}  → {"event": "connected", "n", "failed", "t0_mono", "t1_mono"}
    {"cmd": "arm", "target": T, "match": "..."}      → {"event": "armed"}  (then the first frame containing match)
    {"cmd": "collect", "target": T, "timeout_s": 10} → {"event": "collected", "recv_ms": [...], "missing", "closed"}
    {"cmd": "close", "target": T}                    → {"event": "closed"}
    {"cmd": "exit"}

Clock sync in point mode is staggered (``--sync-concurrency`` at a time): a
thousand devices pinging at once would measure this process's own queueing,
not the network.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import random
import resource
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from server.io import logs


def emit(obj: dict[str, Any]) -> None:
    t = os.times()
    obj["cpu_s"] = t.user + t.system  # this process's CPU so far: were the clients the bottleneck?
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def next_command(reader: asyncio.StreamReader) -> dict[str, Any]:
    line = await reader.readline()
    if not line:
        return {"cmd": "exit"}
    return dict(json.loads(line))


# -- point mode: the protocol client ------------------------------------------------


async def run_points(args: argparse.Namespace, tokens: list[str]) -> None:
    from checkin import PointClient

    rng = random.Random(args.seed)
    gate = asyncio.Semaphore(args.sync_concurrency)
    fired = asyncio.Event()
    clients: list[PointClient] = []
    launch_recv: dict[int, float] = {}  # id(client) → wall ms of the countdown frame
    count = {"fired": 0}

    def on_fire(_: float) -> None:
        count["fired"] += 1
        if count["fired"] >= len(tokens):
            fired.set()

    def recorder(key: list[int]) -> Any:
        def on_launch(launch: dict[str, Any]) -> None:
            if launch.get("state") == "countdown" and key[0] not in launch_recv:
                launch_recv[key[0]] = time.time() * 1000.0
        return on_launch

    # Several servers (comma-separated): client i starts on server i mod n and
    # fails over to the others, so one fleet process plays points on every
    # process of a cluster (fewer spinning fleets than CPUs: see bench.py).
    servers = [u.strip() for u in args.server.split(",") if u.strip()]
    assigned = [0]

    async def start(token: str) -> PointClient:
        async with gate:
            key = [0]
            first = assigned[0] % len(servers)
            assigned[0] += 1
            urls = servers[first:] + servers[:first]
            client = PointClient(urls, token, clock_offset_ms=rng.uniform(-args.offset_ms, args.offset_ms),
                                 report_spread_s=args.report_spread_s,
                                 on_fire=on_fire, on_launch=recorder(key), rng=random.Random(rng.random()),
                                 ping_spacing_s=args.ping_spacing_s)
            key[0] = id(client)
            clients.append(client)
            await client.start()
            await client.wait_synced(timeout=120)
            return client

    started = time.monotonic()
    await asyncio.gather(*(start(t) for t in tokens))
    connected_s = time.monotonic() - started
    # A quiet second round, a few clients at a time: the first round ran while
    # this process (and the server) were busy connecting everyone, and its
    # queueing shows up as clock error.
    quiet = asyncio.Semaphore(max(1, args.quiet_concurrency))

    async def resync(client: PointClient) -> None:
        async with quiet:
            await client.resync(timeout=60)

    if args.quiet_concurrency:
        await asyncio.gather(*(resync(c) for c in clients))
    gc.collect()
    gc.freeze()  # the clients' long-lived objects: later collections skip them
    emit({"event": "ready", "n": len(clients), "seconds": time.monotonic() - started,
          "connect_sync_s": connected_s, "worst_bound_ms": max(c.error_bound_ms or 0.0 for c in clients)})
    if not args.commands:
        await wait_fire(args, clients, fired, launch_recv)
    else:
        reader = await stdin_lines()
        while True:
            cmd = await next_command(reader)
            if cmd["cmd"] in ("checkin", "attendees"):
                emit({"event": cmd["cmd"], **await checkin_round(clients, cmd, rng)})
            elif cmd["cmd"] == "launch":  # the next launch: wait for its fire, then report
                for c in clients:
                    c.fired_local_wall_ms = c.fired_server_ms = None
                    if "countdown_resync_after_s" in cmd:  # the client's own policy, for a comparison run
                        c.countdown_resync_after_s = float(cmd["countdown_resync_after_s"])
                count["fired"] = 0
                launch_recv.clear()
                fired.clear()
                await wait_fire(args, clients, fired, launch_recv)
            else:
                break
    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)


async def wait_fire(args: argparse.Namespace, clients: list[Any], fired: asyncio.Event,
                    launch_recv: dict[int, float]) -> None:
    """Until every client fired (or ``--fire-timeout``), then the result line."""
    try:
        await asyncio.wait_for(fired.wait(), args.fire_timeout)
    except TimeoutError:
        pass
    linger = args.report_spread_s + 0.5 if args.linger_s is None else args.linger_s
    if linger:
        await asyncio.sleep(linger)  # let the launch.fired reports go out
    emit({"event": "result", "clients": [
        {"code": (c.point or {}).get("code"), "fired_local_wall_ms": c.fired_local_wall_ms,
         "fired_server_ms": c.fired_server_ms, "offset_ms": c.offset_ms, "rtt_ms": c.rtt_ms,
         "simulated_offset_ms": c.clock.local.offset_ms, "launch": (c.launch or {}).get("state"),
         "launch_recv_wall_ms": launch_recv.get(id(c)), "connects": len(c.connect_times),
         "connected": c.connected}
        for c in clients]})


async def checkin_round(clients: list[Any], cmd: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Every client sends once, at ``go_at`` + a delay over ``spread_s`` (uniform,
    or triangular peaking at ``peak`` × ``spread_s`` when ``peak`` is given: a
    morning's arrivals); ``checkin`` rounds check in, ``attendees`` rounds
    update the count. Send → ack in ms; with ``"acked": true`` also each
    client's code with the count the server acknowledged (``acked``) or sent
    without an ack (``unacked``), for a bench's acknowledged-writes check."""
    go_at, spread = float(cmd["go_at"]), float(cmd.get("spread_s", 0.0))
    peak = cmd.get("peak")
    attendees = cmd.get("cmd") == "attendees"
    errors: list[str] = []
    acked: list[list[Any]] = []
    unacked: list[list[Any]] = []

    async def one(client: Any, at: float, n: int) -> float | None:
        await asyncio.sleep(max(0.0, at - time.time()))
        t0 = time.perf_counter()
        code = (client.point or {}).get("code")
        try:
            await asyncio.wait_for(client.set_attendees(n) if attendees else client.checkin(n), 60)
        except Exception as exc:
            errors.append(repr(exc)[:200])
            unacked.append([code, n])
            return None
        acked.append([code, n])
        return (time.perf_counter() - t0) * 1000.0

    def delay() -> float:
        return rng.triangular(0.0, spread, float(peak) * spread) if peak is not None else rng.uniform(0.0, spread)

    plan = [(c, go_at + delay(), rng.randint(5, 120)) for c in clients]
    lat = await asyncio.gather(*(one(c, at, n) for c, at, n in plan))
    out = {"latencies_ms": [x for x in lat if x is not None], "errors": len(errors), "first_errors": errors[:3],
           "attendees": sum(n for _, _, n in plan)}
    if cmd.get("acked"):
        out.update(acked=acked, unacked=unacked)
    return out


# -- plain mode: bare WebSockets, timestamps at read --------------------------------


class Group:
    """The sockets of one target server."""

    def __init__(self, name: str, url: str, keys: list[str]) -> None:
        parts = urlsplit(url)
        self.name = name
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path + ("?" + parts.query if parts.query else "")
        self.keys = keys  # appended to the path (a point token), or "" each
        self.conns: list[RawWS] = []
        self.armed = False
        self.match = b""
        self.got = 0
        self.expected = 0  # open sockets when armed, less those closed since
        self.done: asyncio.Event = asyncio.Event()

    def open_count(self) -> int:
        return sum(1 for c in self.conns if not c.closed)


class RawWS(asyncio.Protocol):
    """A minimal WebSocket client (RFC 6455): enough to hold a socket and see a broadcast."""

    __slots__ = ("buf", "close_code", "closed", "group", "open", "ready", "recv_ms", "request", "transport",
                 "welcomed")

    def __init__(self, group: Group, key: str) -> None:
        self.group = group
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.request = (f"GET {group.path}{key} HTTP/1.1\r\nHost: {group.host}:{group.port}\r\n"
                        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {nonce}\r\n"
                        f"Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self.buf = bytearray()
        self.open = self.welcomed = self.closed = False
        self.recv_ms: float | None = None
        self.close_code: int | None = None
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        group = self.group
        if group.armed and self.recv_ms is None and self.welcomed:
            group.expected -= 1
            if group.got >= group.expected:
                group.done.set()
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before the first frame: {exc!r}"))

    def data_received(self, data: bytes) -> None:
        now = time.time()  # the moment this process read the bytes: the receipt time
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            if b" 101" not in status:
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[:end + 4]
            self.open = True
        self._frames(now)

    def _frames(self, now: float) -> None:
        buf, group = self.buf, self.group
        while len(buf) >= 2:
            b1 = buf[1]
            n, i = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, i = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, i = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:  # servers do not mask; unmask anyway
                i += 4
            if len(buf) < i + n:
                return
            payload = bytes(buf[i:i + n])
            if b1 & 0x80:
                mask = buf[i - 4:i]
                payload = bytes(b ^ mask[k % 4] for k, b in enumerate(payload))
            opcode = buf[0] & 0x0F
            del buf[:i + n]
            if opcode in (0, 1, 2):
                if not self.welcomed:  # the welcome (launchday) or hello (references)
                    self.welcomed = True
                    if not self.ready.done():
                        self.ready.set_result(None)
                elif group.armed and self.recv_ms is None and group.match in payload:
                    self.recv_ms = now * 1000.0
                    group.got += 1
                    if group.got >= group.expected:
                        group.done.set()
            elif opcode == 9:  # ping → pong with the same payload
                self.send(0xA, payload)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if self.transport is not None:
                    self.send(0x8, payload[:2])
                    self.transport.close()

    def send(self, opcode: int, payload: bytes) -> None:
        # Client frames must be masked; a zero key is a valid key (the payload
        # goes as it is), and nothing here needs the masking's cache-busting.
        if self.transport is None or self.transport.is_closing():
            return
        n = len(payload)
        head = bytes([0x80 | opcode, 0x80 | n]) if n < 126 else bytes([0x80 | opcode, 0xFE]) + n.to_bytes(2, "big")
        self.transport.write(head + b"\x00\x00\x00\x00" + payload)


async def run_plain(spec: list[dict[str, Any]]) -> None:
    loop = asyncio.get_running_loop()
    groups = {t["name"]: Group(t["name"], t["url"], t.get("tokens") or [""] * int(t["n"])) for t in spec}
    reader = await stdin_lines()
    emit({"event": "started", "targets": {k: len(g.keys) for k, g in groups.items()}})
    while True:
        cmd = await next_command(reader)
        kind = cmd["cmd"]
        if kind == "exit":
            break
        g = groups[cmd["target"]]
        if kind == "connect":
            emit({"event": "connected", **await connect_group(loop, g, int(cmd.get("parallel", 50)))})
        elif kind == "arm":
            for c in g.conns:
                c.recv_ms = None
            g.got, g.match, g.armed = 0, str(cmd["match"]).encode(), True
            g.expected = g.open_count()
            g.done = asyncio.Event()
            emit({"event": "armed", "n": g.expected})
        elif kind == "collect":
            if g.got < g.expected:
                try:
                    await asyncio.wait_for(g.done.wait(), float(cmd.get("timeout_s", 10.0)))
                except TimeoutError:
                    pass
            g.armed = False
            recv = [c.recv_ms for c in g.conns if c.recv_ms is not None]
            emit({"event": "collected", "recv_ms": recv, "missing": sum(1 for c in g.conns if c.recv_ms is None),
                  "closed": sum(1 for c in g.conns if c.closed),
                  "close_codes": sorted({c.close_code for c in g.conns if c.close_code is not None})})
        elif kind == "close":
            for c in g.conns:
                if c.transport is not None and not c.closed:
                    c.send(0x8, (1000).to_bytes(2, "big"))
                    c.transport.close()
            g.conns = []
            await asyncio.sleep(0.2)
            emit({"event": "closed"})


async def connect_group(loop: asyncio.AbstractEventLoop, g: Group, parallel: int) -> dict[str, Any]:
    sem = asyncio.Semaphore(parallel)
    failed: list[str] = []
    t0 = time.monotonic()

    async def one(key: str) -> None:
        async with sem:
            for attempt in range(4):
                proto = RawWS(g, key)
                try:
                    await asyncio.wait_for(loop.create_connection(lambda p=proto: p, g.host, g.port), 30)
                    await asyncio.wait_for(proto.ready, 30)
                except (OSError, TimeoutError, ConnectionError) as exc:
                    if proto.transport is not None:
                        proto.transport.close()
                    if attempt == 3:
                        failed.append(repr(exc)[:200])
                    else:
                        await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                g.conns.append(proto)
                return

    await asyncio.gather(*(one(k) for k in g.keys))
    return {"target": g.name, "n": len(g.conns), "failed": len(failed), "first_errors": failed[:3],
            "t0_mono": t0, "t1_mono": time.monotonic()}


def main() -> None:
    p = argparse.ArgumentParser(prog="loadtest.fleet")
    p.add_argument("--mode", choices=("point", "plain"), default="point")
    p.add_argument("--server", help="point mode: the server's base URL (comma-separated: spread over several)")
    p.add_argument("--tokens", help="point mode: a file with one point token per line")
    p.add_argument("--targets", help="plain mode: a JSON file with the targets")
    p.add_argument("--offset-ms", type=float, default=5000.0, help="device clocks wrong by up to ± this")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sync-concurrency", type=int, default=25)
    p.add_argument("--ping-spacing-s", type=float, default=0.02)
    p.add_argument("--quiet-concurrency", type=int, default=10,
                   help="clients re-syncing at once in the quiet round (0: no quiet round)")
    p.add_argument("--fire-timeout", type=float, default=120.0)
    p.add_argument("--report-spread-s", type=float, default=1.0,
                   help="launch.fired reports go out within this long after the fire (the client's default is 5 s)")
    p.add_argument("--linger-s", type=float, default=None,
                   help="wait after the fire before reporting (default: the report spread + 0.5 s)")
    p.add_argument("--commands", action="store_true", help="point mode: take commands on stdin after ready")
    p.add_argument("--uvloop", action="store_true", help="point mode: run on uvloop (plain mode always does)")
    args = p.parse_args()
    logs.configure("warning", "console")  # stdout carries the JSON lines; logs go to stderr
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.mode == "plain" or args.uvloop:
        import uvloop

        uvloop.install()
    if args.mode == "plain":
        if not args.targets:
            p.error("plain mode needs --targets")
        with open(args.targets) as fh:
            asyncio.run(run_plain(json.load(fh)))
        return
    if not args.server or not args.tokens:
        p.error("point mode needs --server and --tokens")
    with open(args.tokens) as fh:
        tokens = [line.strip() for line in fh if line.strip()]
    asyncio.run(run_points(args, tokens))


if __name__ == "__main__":
    main()
