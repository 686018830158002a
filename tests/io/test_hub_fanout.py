"""The fan-out's hot loop (server/io/hub.py: ``fanout``, ``Room``), table-driven on stub transports."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from server.io import hub


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


def conn(transport: Any, kind: str = "point", point: str | None = "P1") -> hub.Conn:
    c = hub.Conn.__new__(hub.Conn)
    c.ws, c.transport, c.kind, c.point, c.id, c.closed = None, transport, kind, point, "c-test", False
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
def test_fanout_one_socket(transport, closed, written, closed_1013) -> None:
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
