"""The bench's own instruments on launchday (loadtest/bench.py): an organizer
console timing its deltas, desks' consoles, and a trickle of count updates
timing their acks. They run in the bench's process (on the client CPUs)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import aiohttp

from loadtest._procs import ADMIN, stats

H = {"Authorization": f"Bearer {ADMIN}"}



class Console:
    """An organizer console on /ws/console: when did each delta arrive?"""

    def __init__(self, s: aiohttp.ClientSession, base: str, eid: str) -> None:
        self.s, self.url = s, base.replace("http", "ws", 1) + f"/ws/console?event={eid}"
        self.deltas: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws = await self.s.ws_connect(self.url, headers=H, max_msg_size=0)

        async def read() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT and msg.data.startswith('{"type":"delta"'):
                    self.deltas.append(time.time())

        self.task = asyncio.create_task(read())

    def max_gap(self, t0: float, t1: float) -> dict[str, Any]:
        """The longest wait for a delta between t0 and t1 (epoch s), and where it began."""
        inside = [t for t in self.deltas if t0 <= t <= t1]
        edges = [t0, *inside, t1]
        gaps = [(b - a, a) for a, b in itertools.pairwise(edges)]
        gap, at = max(gaps)
        return {"max_gap_s": gap, "gap_began_s": at - t0, "deltas": len(inside), "window_s": t1 - t0}


class DeskConsoles:
    """Desks' consoles (tokens scoped to one commune each, docs/protocol.md#desks),
    connected through the run: what the scoped filtering costs the launch."""

    def __init__(self, s: aiohttp.ClientSession, base: str, eid: str) -> None:
        self.s, self.base, self.eid = s, base, eid
        self.frames = self.bytes = self.n = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, n: int, run: Any) -> None:
        created = (await run.call(run.ld, "POST", f"/api/events/{self.eid}/desks", (200, 201),
                                  json={"level": "commune", "role": "viewer"}))["created"]
        if len(created) < n:
            raise RuntimeError(f"only {len(created)} communes for {n} desk consoles")
        url = self.base.replace("http", "ws", 1) + f"/ws/console?event={self.eid}"
        for d in created[:n]:
            ws = await self.s.ws_connect(url, headers={"Authorization": f"Bearer {d['token']}"}, max_msg_size=0)
            self.tasks.append(asyncio.create_task(self._read(ws)))
            self.n += 1

    async def _read(self, ws: Any) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames += 1
                self.bytes += len(msg.data)

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()


class Trickle:
    """A few points that update their count every 100 ms between them; send → ack in ms."""

    def __init__(self, s: aiohttp.ClientSession, base: str, tokens: list[str]) -> None:
        self.s, self.base, self.tokens = s, base.replace("http", "ws", 1), tokens
        self.acks: list[tuple[float, float]] = []  # (sent epoch s, ms)
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for i, token in enumerate(self.tokens):
            ws = await self.s.ws_connect(f"{self.base}/ws/point?token={token}", max_msg_size=0)
            await ws.receive_json(timeout=30)  # welcome
            await self._ask(ws, {"type": "checkin", "id": f"tr{i}-c", "attendees": 10})
            self.tasks.append(asyncio.create_task(self._run(ws, i)))

    @staticmethod
    async def _ask(ws: Any, frame: dict[str, Any]) -> None:
        await ws.send_str(json.dumps(frame))
        while True:
            msg = await ws.receive_json(timeout=60)
            if msg.get("id") == frame["id"]:
                return

    async def _run(self, ws: Any, i: int) -> None:
        await asyncio.sleep(0.1 * i)
        k = 0
        while True:
            k += 1
            sent = time.time()
            await self._ask(ws, {"type": "attendees", "id": f"tr{i}-{k}", "count": 10 + k % 50})
            self.acks.append((sent, (time.time() - sent) * 1000.0))
            await asyncio.sleep(max(0.0, 0.1 * len(self.tokens) - (time.time() - sent)))

    def between(self, t0: float, t1: float) -> dict[str, float]:
        return stats([ms for at, ms in self.acks if t0 <= at <= t1])

    def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
