"""The connection seam, URL building and the backoff formula."""

from __future__ import annotations

import random
import statistics

import pytest

from checkin.client import backoff_delay, point_ws_url
from checkin.transport import ConnectionClosed, HandshakeRejected, MemoryConnector, memory_pair


async def test_memory_pair_delivers_in_order_and_propagates_close_code() -> None:
    client, server = memory_pair("ws://x/ws/point?token=t")
    for i in range(3):
        await client.send(f"m{i}")
    assert [await server.recv() for _ in range(3)] == ["m0", "m1", "m2"]
    await server.send("hello")
    await server.close(1013, "slow")
    assert await client.recv() == "hello"  # what was sent before the close still arrives
    with pytest.raises(ConnectionClosed) as info:
        await client.recv()
    assert (info.value.code, info.value.reason) == (1013, "slow")
    with pytest.raises(ConnectionClosed):
        await client.send("late")
    with pytest.raises(ConnectionClosed):
        await server.recv()  # the closing side's reader wakes too
    await client.close()  # idempotent


async def test_memory_connector_accepts_and_fails_on_demand() -> None:
    connector = MemoryConnector()
    connector.fail_next(HandshakeRejected(401))
    with pytest.raises(HandshakeRejected) as info:
        await connector.connect("ws://a/ws/point?token=t")
    assert info.value.status == 401
    client = await connector.connect("ws://b/ws/point?token=t")
    server = await connector.accept()
    assert server.url == "ws://b/ws/point?token=t"
    await client.send("ping")
    assert await server.recv() == "ping"
    assert connector.urls == ["ws://a/ws/point?token=t", "ws://b/ws/point?token=t"]


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://h:8080", "ws://h:8080/ws/point?token=T%2Bk%2F%3D"),
        ("https://ld.example.vn/", "wss://ld.example.vn/ws/point?token=T%2Bk%2F%3D"),
        ("https://proxy.vn/launchday", "wss://proxy.vn/launchday/ws/point?token=T%2Bk%2F%3D"),
        ("ws://h:1/ws/point", "ws://h:1/ws/point?token=T%2Bk%2F%3D"),
        ("WSS://h", "wss://h/ws/point?token=T%2Bk%2F%3D"),
        ("127.0.0.1:8080", "ws://127.0.0.1:8080/ws/point?token=T%2Bk%2F%3D"),
    ],
)
def test_point_ws_url(base: str, expected: str) -> None:
    assert point_ws_url(base, "T+k/=") == expected


def test_point_ws_url_rejects_other_schemes() -> None:
    with pytest.raises(ValueError):
        point_ws_url("ftp://h", "t")


@pytest.mark.parametrize("attempt", [0, 1, 3, 6, 10, 200])
def test_backoff_is_full_jitter_under_a_capped_ceiling(attempt: int) -> None:
    base, cap = 0.5, 30.0
    ceiling = min(cap, base * 2**attempt)
    rng = random.Random(attempt)
    delays = [backoff_delay(attempt, base, cap, rng) for _ in range(4_000)]
    assert all(0.0 <= d <= ceiling for d in delays)
    # Uniform over [0, ceiling]: mean near half, and every decile populated,
    # so that clients dropped together do not come back together.
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.05)
    deciles = [0] * 10
    for d in delays:
        deciles[min(9, int(d / ceiling * 10))] += 1
    assert min(deciles) > 4_000 / 10 * 0.8


def test_backoff_is_deterministic_with_a_seeded_rng() -> None:
    a = [backoff_delay(i, 0.5, 30, random.Random(42)) for i in range(8)]
    b = [backoff_delay(i, 0.5, 30, random.Random(42)) for i in range(8)]
    assert a == b
