"""A fake point server playing the protocol over the in-memory seam.

It answers pings with its own clock (real time plus ``offset_ms``), applies
each message id at most once (as docs/protocol.md#websocket-frames requires
of the real server) and records everything, so tests can assert on what the
client sent. Tests wait on conditions with :meth:`FakeServer.wait_until`,
never on sleeps.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from checkin.transport import MemoryConnection, MemoryConnector
from tests.utils import timeout

#: One timeout unit for waits, scaled by LAUNCHDAY_TEST_TIMEOUT_FACTOR (tests/utils.py).
UNIT = timeout(1.0)
#: How late a precise wake may be in these tests. They check correctness
#: (fires by its own estimate, never early), not speed: a client firing on its
#: own wall clock (seconds off here) or on a message's arrival misses this by
#: far. The precision itself is measured where noise is controlled: `make
#: test-sync` and the benchmarks (docs/benchmarks.md); on an idle machine it
#: is well under 1 ms, and a shared CI box can add tens of ms.
PRECISION_MS = timeout(100.0)
MUTATING = {"checkin", "attendees", "incident", "incident.resolve", "launch.fired"}


class FakeServer:
    def __init__(self, *, offset_ms: float = 0.0) -> None:
        self.offset_ms = offset_ms
        self.connector = MemoryConnector(self.handle)
        self.conns: list[MemoryConnection] = []
        self.received: list[dict[str, Any]] = []
        self.arrivals: dict[str, int] = {}  # id -> times it arrived
        self.answers: dict[str, dict[str, Any]] = {}  # id -> the answer, applied once
        self.applied: list[dict[str, Any]] = []  # messages applied, in order
        self.hold: set[str] = set()  # message types left unanswered (a lost ack)
        self.conflicts: dict[str, int] = {}  # message type -> times to answer "conflict" first (a lost race)
        self.rate_limits: dict[str, int] = {}  # message type -> times to answer "rate_limited" first
        self.retry_after_ms = 50
        self.received_at: list[tuple[float, dict[str, Any]]] = []  # (monotonic, frame) of every mutation
        self.checked_in = False
        self.attendees = 0
        self.launch: dict[str, Any] = {"state": "idle", "countdown_ms": 5000,
                                       "keys_required": 1, "keys_pressed": [], "fire_at_ms": None}
        self.extra_frames: list[str] = []  # sent right after the welcome
        self.ping_outstanding_max = 0
        self._outstanding = 0
        self._cond = asyncio.Condition()
        self._incidents = 0

    def now_ms(self) -> float:
        return time.time() * 1000.0 + self.offset_ms

    def welcome(self) -> dict[str, Any]:
        return {
            "type": "welcome", "server_ms": self.now_ms(), "seq": len(self.applied),
            "point": {"code": "X01", "name": "Xã Một", "level": "commune", "parent": "H01",
                      "expected": 50},
            "status": {"checked_in": self.checked_in, "attendees": self.attendees, "incidents": []},
            "agenda": {"state": "not_started", "current": None, "item_started_ms": None,
                       "items": []},
            "launch": self.launch,
        }

    @property
    def open_conns(self) -> list[MemoryConnection]:
        return [c for c in self.conns if not c.closed]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.received if f.get("type") == kind]

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def wait_until(self, predicate: Callable[[], object], within: float = UNIT) -> None:
        """Wait until ``predicate()`` holds, re-checked whenever the server sees a frame."""
        async with asyncio.timeout(within), self._cond:
            await self._cond.wait_for(predicate)

    async def handle(self, conn: MemoryConnection) -> None:
        self.conns.append(conn)
        await conn.send(json.dumps(self.welcome()))
        for text in self.extra_frames:
            await conn.send(text)
        await self._notify()
        try:
            while True:
                text = await conn.recv()
                frame = json.loads(text)
                self.received.append(frame)
                kind = frame.get("type")
                if kind == "time.ping":
                    t1 = self.now_ms()
                    await conn.send(json.dumps(
                        {"type": "time.pong", "t0": frame["t0"], "t1": t1, "t2": self.now_ms()}))
                elif kind in MUTATING:
                    self.arrivals[frame["id"]] = self.arrivals.get(frame["id"], 0) + 1
                    answer = self.apply(frame)
                    if kind not in self.hold:
                        await conn.send(json.dumps(answer))
                await self._notify()
        finally:
            await self._notify()

    def apply(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Decide once per id; a repeated id gets the first answer again."""
        mid = frame["id"]
        self.received_at.append((time.monotonic(), frame))
        if self.rate_limits.get(frame["type"], 0) > 0:
            self.rate_limits[frame["type"]] -= 1
            return {"type": "error", "id": mid, "code": "rate_limited", "message": "slow down",
                    "retry_after_ms": self.retry_after_ms}
        if self.conflicts.get(frame["type"], 0) > 0:
            self.conflicts[frame["type"]] -= 1  # nothing applied: the client must send it again
            return {"type": "error", "id": mid, "code": "conflict", "message": "send again"}
        if mid in self.answers:
            return self.answers[mid]
        kind = frame["type"]
        answer: dict[str, Any] = {"type": "ack", "id": mid}
        if kind == "attendees" and not self.checked_in:
            answer = {"type": "error", "id": mid, "code": "not_checked_in",
                      "message": "check in first"}
        else:
            self.applied.append(frame)
            if kind == "checkin":
                self.checked_in, self.attendees = True, frame["attendees"]
            elif kind == "attendees":
                self.attendees = frame["count"]
            elif kind == "incident":
                self._incidents += 1
                answer["incident"] = f"inc-{self._incidents}"
        self.answers[mid] = answer
        return answer

    async def push(self, frame: dict[str, Any]) -> None:
        for conn in self.open_conns:
            await conn.send(json.dumps(frame))

    async def drop(self, code: int = 1006, reason: str = "") -> None:
        for conn in self.open_conns:
            await conn.close(code, reason)
        await self._notify()
