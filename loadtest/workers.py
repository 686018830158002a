"""Client worker processes for loadtest/bench_foundation.py: each holds a
share of the point sockets (aiohttp) and runs the bench's rounds on command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import signal
import time
from typing import Any

from loadtest._procs import raise_fd_limit, track


class Workers:
    """K processes; each holds a share of the point sockets and runs commands."""

    def __init__(self, port: int, k: int = 2) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        for i in range(k):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_main, args=(child, port, i), daemon=True, name=f"bench-client-{i}")
            proc.start()
            track(proc)
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


