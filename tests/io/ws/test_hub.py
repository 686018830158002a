"""The fan-out's hot loop (server/io/ws/hub.py: ``fanout``, ``Room``), table-driven on stub transports."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from server.io.ws import hub
from tests.utils import wait_until


class StubTransport:
    def __init__(self, buffered: int = 0, closing: bool = False) -> None:
        self.buffered = buffered
        self.closing = closing
        self.written: list[bytes] = []

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def write(self, data: bytes) -> None:
        if data[:1] != b"\x88":  # not the close frame, sent after the loop
            assert not gc.isenabled(), "the collector is held off during the loop"
        self.written.append(data)

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


def conn(transport: Any, kind: str = "point", point: str | None = "P1") -> hub.Conn:
    c = hub.Conn.__new__(hub.Conn)
    c.ws, c.transport, c.kind, c.point, c.id, c.closed = None, transport, kind, point, "c-test", False
    c.desk, c.holder = None, None
    return c


@pytest.mark.parametrize(
    ("transport", "closed", "written", "closed_1013"),
    [
        (StubTransport(), False, True, False),
        (StubTransport(closing=True), False, False, False),  # closing: skipped
        (None, False, False, False),  # no transport
        (StubTransport(), True, False, False),  # closed by the hub already
        (StubTransport(buffered=hub.SLOW_LIMIT), False, True, False),  # at the limit: still written
        (StubTransport(buffered=hub.SLOW_LIMIT + 1), False, False, True),  # past it: 1013
    ],
)
async def test_fanout_one_socket(transport, closed, written, closed_1013) -> None:
    # async: a 1013 close schedules the transport's abort on the running loop
    c = conn(transport)
    c.closed = closed
    frame = hub.text_frame('{"type":"launch"}')
    assert hub.fanout([c], frame) == int(written)
    if transport is not None:
        got = transport.written
        assert (got == [frame]) is written
        if closed_1013:
            assert got == [hub.close_frame(hub.CLOSE_TRY_AGAIN_LATER, "too slow")] and transport.closing
    assert gc.isenabled()


def test_room_fans_out_to_displays_first_then_every_point_socket() -> None:
    room = hub.Room()
    order: list[str] = []

    class Recorder(StubTransport):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def write(self, data: bytes) -> None:
            order.append(self.name)

    for i in range(5):
        room.add(conn(Recorder(f"p{i}"), point=f"P{i % 3}"))  # two sockets for some points
    room.add(conn(Recorder("hall"), kind="display", point=None))
    room.add(conn(Recorder("console"), kind="console", point=None))
    assert room.broadcast_points({"type": "launch"}) == 6
    assert order == ["hall", "p0", "p1", "p2", "p3", "p4"]
    order.clear()
    assert room.broadcast_points({"type": "notice"}, only={"P1"}) == 2 and sorted(order) == ["p1", "p4"]
    for c in list(room.all_points):
        room.remove(c)
    assert room.point_count() == 0 and room.points == {}


def test_fanout_with_gc_already_off_leaves_it_off() -> None:
    gc.disable()
    try:
        t = StubTransport()
        assert hub.fanout([conn(t)], b"x") == 1
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- sliced fan-outs (large rooms) ------------------------------------------------------------


class SlowTransport(StubTransport):
    """Each write takes a little loop time, as write(2) does on a real socket."""

    def __init__(self, cost_s: float, log: list[tuple[int, bytes]], i: int) -> None:
        super().__init__()
        self.cost_s, self.log, self.i = cost_s, log, i

    def write(self, data: bytes) -> None:
        until = hub.time.perf_counter() + self.cost_s
        while hub.time.perf_counter() < until:
            pass
        self.log.append((self.i, data))
        super().write(data)


async def test_large_room_fans_out_in_slices_in_order(monkeypatch) -> None:
    import asyncio

    monkeypatch.setattr(hub, "SLICE_MIN", 10)
    monkeypatch.setattr(hub, "SLICE_S", 0.002)
    monkeypatch.setattr(hub, "SLICE_CHECK", 4)
    log: list[tuple[int, bytes]] = []
    room = hub.Room()
    for i in range(50):
        room.add(conn(SlowTransport(0.0002, log, i), point=f"P{i}"))
    ran_between: list[int] = []
    asyncio.get_running_loop().call_soon(lambda: ran_between.append(len(log)))
    assert room.broadcast_points({"type": "launch", "n": 1}) == 50
    assert 0 < len(log) < 50  # the first slice only: the loop is let go of
    room.broadcast_points({"type": "launch", "n": 2})  # queued behind the first, whole
    room.broadcast_points({"type": "notice"}, only={"P3"})  # targeted: queued too, in order
    await wait_until(lambda: len(log) == 101, 5, "the queued fan-outs to finish")
    assert ran_between and 0 < ran_between[0] < 50  # other work ran between the slices
    for i in range(50):
        mine = [d for j, d in log if j == i]
        want = [b'"n":1', b'"n":2'] + ([b'"notice"'] if i == 3 else [])
        assert [next(w for w in want if w in d) for d in mine] == want
