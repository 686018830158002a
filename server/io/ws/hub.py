"""Fan-out: encode a frame once, write the same bytes to every socket.

Why not ``await ws.send_str()`` per recipient: a thousand awaits (and a
thousand JSON encodings) put the last point a thousand scheduler turns behind
the first. We build the WebSocket frame (server frames are unmasked) once and
``transport.write`` it to each connection, which never blocks: the kernel
takes it or the transport buffers it. A connection whose buffer passes
``SLOW_LIMIT`` is not keeping up; it is closed with 1013 so that one slow
phone never holds up the others (it reconnects and gets a fresh ``welcome``).

Measured at 10,000 sockets (docs/benchmarks.md, "Launch morning at scale"):
the fan-out is the ``write`` system calls, one per socket (~90 % of its
samples under py-spy; the kernel's loopback send is 10–20 µs here); the
Python around them is ~2 %. What the profile found besides: a ``list()``
copy per point triggered the garbage collector in the middle of the loop, and
a full collection over the objects of 10,000 connections took ~10 % of the
fan-out. So the loop walks a flat insertion-ordered dict of every point
socket without copying it (nothing in the loop adds or removes a socket:
closing one only schedules its removal), allocates nothing, and holds the
collector off while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import struct
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import structlog
from aiohttp import web

from server.io import metrics
from server.io.clock import now_ms

log = structlog.get_logger("launchday.hub")

SLOW_LIMIT = 1024 * 1024  # bytes buffered for one socket before it is dropped
SLOW_ABORT_S = 10.0  # then how long its close frame may wait to be read before the socket is cut
CLOSE_GOING_AWAY = 1001
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_TOKEN_REVOKED = 4403
CLOSE_POINT_DELETED = 4404

_conn_ids = itertools.count(1)


def dumps(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()


def dumps_bytes(obj: Any) -> bytes:
    """The frame's JSON as UTF-8 (orjson: compact, no ASCII escaping), for ``text_frame``."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def text_frame(text: str | bytes) -> bytes:
    """One unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2)."""
    payload = text.encode() if isinstance(text, str) else text
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


def close_frame(code: int, reason: str = "") -> bytes:
    payload = struct.pack("!H", code) + reason.encode()[:120]
    return struct.pack("!BB", 0x88, len(payload)) + payload


class Conn:
    """One WebSocket connection, as the hub sees it."""

    __slots__ = ("closed", "desk", "holder", "id", "kind", "point", "transport", "ws")

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, kind: str, point: str | None = None,
                 *, desk: str | None = None, holder: str | None = None) -> None:
        self.ws = ws
        self.transport: asyncio.Transport | None = request.transport  # type: ignore[assignment]
        self.kind = kind
        self.point = point
        self.desk = desk  # a console of a desk: the root of the subtree it sees (docs/protocol.md#desks)
        self.holder = holder  # a console's credential (a token's hash): closed when it is revoked
        self.id = f"c{next(_conn_ids)}"
        self.closed = False

    def send_frame(self, frame: bytes) -> bool:
        """Write pre-encoded frame bytes; never awaits. False if the socket is gone."""
        transport = self.transport
        if self.closed or transport is None or transport.is_closing():
            return False
        if transport.get_write_buffer_size() > SLOW_LIMIT:
            metrics.SLOW_CLOSED.inc()
            log.warning("slow_consumer_closed", conn=self.id, point=self.point)
            self.close(CLOSE_TRY_AGAIN_LATER, "too slow")
            return False
        transport.write(frame)
        return True

    def send(self, obj: Any) -> bool:
        return self.send_frame(text_frame(dumps_bytes(obj)))

    def close(self, code: int, reason: str = "") -> None:
        """Send a close frame after what is buffered, then close the transport."""
        if self.closed:
            return
        self.closed = True
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(close_frame(code, reason))
            transport.close()
            if code == CLOSE_TRY_AGAIN_LATER:
                # close() waits for the buffer to drain, which a peer that
                # does not read never lets happen: its 1013 waits behind what
                # is buffered for SLOW_ABORT_S, then the buffer is dropped.
                # (No running loop: a unit test driving the hub by hand.)
                with contextlib.suppress(RuntimeError):
                    asyncio.get_running_loop().call_later(SLOW_ABORT_S, transport.abort)


# A fan-out to every point of a large room is written in slices of at most
# SLICE_S of loop time, the rest continued from the loop's ready queue: at
# 10,000 sockets one fan-out is 100-150 ms of write(2) calls, and an ack, a
# pong or a console delta that arrives meanwhile waited for all of it (the
# launch burst's `attendees` acks, docs/benchmarks.md). Rooms up to
# SLICE_MIN sockets are written in one go, as before. Fan-outs of a room run
# one after another, whole, so every socket gets the frames in their order.
SLICE_S = 0.01
SLICE_MIN = 1_000
SLICE_CHECK = 64  # sockets written between two looks at the clock


class _Pending:
    __slots__ = ("conns", "done", "frame", "pos", "sent", "started")

    def __init__(self, frame: bytes, conns: list[Conn], done: Callable[[], None] | None) -> None:
        self.frame = frame
        self.conns = conns
        self.done = done
        self.pos = 0
        self.sent = 0
        self.started = time.perf_counter()


class Room:
    """The sockets of one event: points by code, and consoles."""

    def __init__(self) -> None:
        # A point's sockets as a tuple: most points have one, and a one-item
        # tuple is 48 bytes where a set is 216 (docs/benchmarks.md, "Leaner sockets").
        self.points: dict[str, tuple[Conn, ...]] = {}
        self.all_points: dict[Conn, None] = {}  # every point socket, flat: what a fan-out walks
        self.consoles: set[Conn] = set()  # the province's consoles: they see everything
        self.desks: dict[str, set[Conn]] = {}  # the desks' consoles, by the root of the subtree they see
        self.displays: set[Conn] = set()  # the hall's screens: ceremony frames only
        self._fanouts: deque[_Pending] = deque()  # sliced fan-outs, in order

    def add(self, conn: Conn) -> None:
        if conn.kind == "point":
            assert conn.point is not None
            self.points[conn.point] = (*self.points.get(conn.point, ()), conn)
            self.all_points[conn] = None
        elif conn.kind == "display":
            self.displays.add(conn)
        elif conn.desk is not None:
            self.desks.setdefault(conn.desk, set()).add(conn)
        else:
            self.consoles.add(conn)
        metrics.CONNECTIONS.labels(conn.kind).inc()

    def remove(self, conn: Conn) -> None:
        if conn.kind == "point":
            conns = self.points.get(conn.point or "")
            if conns is not None:
                rest = tuple(c for c in conns if c is not conn)
                if rest:
                    self.points[conn.point or ""] = rest
                else:
                    del self.points[conn.point or ""]
            self.all_points.pop(conn, None)
        elif conn.kind == "display":
            self.displays.discard(conn)
        elif conn.desk is not None:
            conns = self.desks.get(conn.desk)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self.desks[conn.desk]
        else:
            self.consoles.discard(conn)
        metrics.CONNECTIONS.labels(conn.kind).dec()

    @property
    def has_consoles(self) -> bool:
        return bool(self.consoles or self.desks)

    def all_consoles(self) -> list[Conn]:
        return [*self.consoles, *(c for conns in self.desks.values() for c in conns)]

    def point_count(self) -> int:
        return len(self.all_points)

    def broadcast_points(self, obj: Any, only: set[str] | None = None,
                         done: Callable[[], None] | None = None) -> int:
        """One frame to every point's sockets (or those of ``only``) and, when
        it goes to everyone, to the hall's displays (first: the hall's big
        screen is the one the most people watch). ``done`` is called right
        after the last socket's write (a large fan-out ends a few loop turns later)."""
        frame = text_frame(dumps_bytes(obj))
        started = time.perf_counter()
        if self._fanouts or (only is None and len(self.all_points) > SLICE_MIN):
            # The sockets as they are now: one that connects later gets this
            # state in its welcome. Copied with the collector held off.
            paused = gc.isenabled()
            gc.disable()
            try:
                conns = [*self.displays, *self.all_points] if only is None else \
                    [c for code in only for c in self.points.get(code, ())]
            finally:
                if paused:
                    gc.enable()
            self._fanouts.append(_Pending(frame, conns, done))
            if len(self._fanouts) == 1:
                self._slice()
            return len(conns)
        if only is None:
            sent = fanout(self.displays, frame) + fanout(self.all_points, frame)
        else:
            sent = fanout([c for code in only for c in self.points.get(code, ())], frame)
        elapsed = time.perf_counter() - started
        metrics.FANOUT.labels("points").observe(elapsed)
        metrics.FANOUT_LAST.labels("points").set(elapsed)
        metrics.FANOUT_RECIPIENTS.labels("points").set(sent)
        if done is not None:
            done()
        return sent

    def _slice(self) -> None:
        """Write the queued fan-outs for at most SLICE_S, then continue on the next loop turn."""
        deadline = time.perf_counter() + SLICE_S
        while self._fanouts:
            job = self._fanouts[0]
            job.pos, sent = fanout_until(job.conns, job.pos, job.frame, deadline)
            job.sent += sent
            if job.pos < len(job.conns):
                asyncio.get_running_loop().call_soon(self._slice)
                return
            self._fanouts.popleft()
            elapsed = time.perf_counter() - job.started
            metrics.FANOUT.labels("points").observe(elapsed)
            metrics.FANOUT_LAST.labels("points").set(elapsed)
            metrics.FANOUT_RECIPIENTS.labels("points").set(job.sent)
            if job.done is not None:
                job.done()

    def broadcast_consoles(self, obj: Any, desks: str | Callable[[str], Any] = "same") -> int:
        """One frame to every console of the province. The desks' consoles get
        the same frame (``"same"``: the ceremony), none (``"none"``: what a desk
        may not see), or each root its own (a function of the root; None: none)."""
        started = time.perf_counter()
        sent = 0
        if self.consoles:
            sent = fanout(self.consoles, text_frame(dumps_bytes(obj)))
        if self.desks and desks != "none":
            same = text_frame(dumps_bytes(obj)) if desks == "same" else None
            for root, conns in list(self.desks.items()):
                if same is not None:
                    sent += fanout(conns, same)
                elif callable(desks):
                    own = desks(root)
                    if own is not None:
                        sent += fanout(conns, text_frame(dumps_bytes(own)))
        if not sent:
            return 0
        elapsed = time.perf_counter() - started
        metrics.FANOUT.labels("consoles").observe(elapsed)
        metrics.FANOUT_LAST.labels("consoles").set(elapsed)
        return sent

    def close_point(self, code: str, close_code: int, reason: str) -> None:
        for conn in list(self.points.get(code, ())):
            conn.close(close_code, reason)

    def close_all(self, close_code: int, reason: str) -> None:
        for conns in list(self.points.values()):
            for conn in list(conns):
                conn.close(close_code, reason)
        for conn in [*self.all_consoles(), *self.displays]:
            conn.close(close_code, reason)

    def close_holder(self, holder: str, close_code: int, reason: str) -> int:
        """Close the consoles opened with one credential (a revoked token); how many."""
        found = [c for c in self.all_consoles() if c.holder == holder]
        for conn in found:
            conn.close(close_code, reason)
        return len(found)


def fanout_until(conns: list[Conn], start: int, frame: bytes, deadline: float) -> tuple[int, int]:
    """``fanout`` of ``conns[start:]`` until ``deadline`` (perf_counter, checked
    every SLICE_CHECK sockets); returns (where to go on from, how many were written)."""
    end = start
    sent = 0
    while end < len(conns):
        stop = min(end + SLICE_CHECK, len(conns))
        sent += fanout(conns[end:stop], frame)
        end = stop
        if time.perf_counter() >= deadline:
            break
    return end, sent


def fanout(conns: Iterable[Conn], frame: bytes) -> int:
    """Write ``frame`` to each connection; the hot path of a launch.

    No await, no task, no allocation per socket: a socket that is closing is
    skipped, one whose buffer is past ``SLOW_LIMIT`` is closed with 1013 after
    the loop, every other one gets ``transport.write`` (the kernel takes the
    bytes at once, or the transport buffers them). ``conns`` is not copied; the
    loop must not add or remove sockets, and does not (``Conn.close`` only
    schedules the removal). Returns how many were written.
    """
    sent = 0
    slow: list[Conn] | None = None
    paused = gc.isenabled()
    if paused:  # a full collection over 10,000 connections' objects, mid-loop, was ~10 % of the fan-out
        gc.disable()
    try:
        for conn in conns:
            transport = conn.transport
            if conn.closed or transport is None or transport.is_closing():
                continue
            if transport.get_write_buffer_size() > SLOW_LIMIT:
                if slow is None:
                    slow = []
                slow.append(conn)
                continue
            transport.write(frame)
            sent += 1
    finally:
        if paused:
            gc.enable()
    for conn in slow or ():
        metrics.SLOW_CLOSED.inc()
        log.warning("slow_consumer_closed", conn=conn.id, point=conn.point)
        conn.close(CLOSE_TRY_AGAIN_LATER, "too slow")
    return sent


def pong(conn: Conn, t0: float, t1: float) -> None:
    """Answer ``time.ping``: ``t1`` was stamped on reading, ``t2`` is stamped
    here, just before the write (docs/protocol.md#clock-sync)."""
    conn.send_frame(text_frame(dumps_bytes({"type": "time.pong", "t0": t0, "t1": t1, "t2": now_ms()})))
