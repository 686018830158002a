"""Several server URLs: when one server dies, the client moves to the next,
keeping its outbox and message ids (docs/protocol.md#reconnect).

The seam tests play both servers with the in-memory fake (one FakeServer
behind every URL, so an id applied on "a" is known on "b", as with a shared
journal). The last test runs two real ``launchday serve`` processes and kills
the first with SIGKILL.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from checkin.client import PointClient
from checkin.transport import TransportError, server_urls
from tests.checkin.fakes import UNIT, FakeServer
from tests.services import LaunchdayProcess, free_port
from tests.utils import ROOT, Api, timeout, tree_csv, wait_until

MakeClient = Callable[..., PointClient]
A, B = "ws://a:1/ws/point?token=tok", "ws://b:2/ws/point?token=tok"


@pytest.mark.parametrize("given", [
    "http://a:1,http://b:2",
    ["http://a:1", "http://b:2"],
    ["http://a:1,http://b:2"],
    [" http://a:1 ,", "http://b:2"],
])
def test_server_urls_accepts_lists_and_commas(given: Any) -> None:
    assert server_urls(given) == ["http://a:1", "http://b:2"]


@pytest.mark.parametrize("given", ["", [], [","]])
def test_server_urls_needs_one(given: Any) -> None:
    with pytest.raises(ValueError):
        server_urls(given)


def test_client_takes_comma_separated_urls() -> None:
    client = PointClient("http://a:1,https://b", "tok")
    assert client.urls == ["http://a:1", "https://b"] and client.url == "http://a:1"


async def test_a_drop_moves_to_the_next_server_with_the_outbox(
    fake: FakeServer, make_client: MakeClient
) -> None:
    fake.hold.add("checkin")  # server a takes the check-in and dies before acking it
    client = make_client(urls="http://a:1,http://b:2")
    fut = client.checkin(30)
    await client.start()
    await fake.wait_until(lambda: fake.of_type("checkin"))
    assert fake.conns[0].url == A and client.url == "http://a:1"
    first_id = fake.of_type("checkin")[0]["id"]
    fake.hold.clear()
    await fake.drop(1006)
    ack = await asyncio.wait_for(fut, UNIT)
    assert ack["type"] == "ack" and ack["id"] == first_id
    assert [c.url for c in fake.conns] == [A, B] and client.url == "http://b:2"
    # Resent to b with the same id, applied once.
    assert fake.arrivals[first_id] == 2 and len(fake.applied) == 1
    assert client.pending == 0


async def test_a_refused_server_is_skipped(fake: FakeServer, make_client: MakeClient) -> None:
    fake.connector.fail_next(TransportError("connection refused"))
    client = make_client(urls=["http://a:1", "http://b:2"])
    fut = client.checkin(5)
    await client.start()
    assert (await asyncio.wait_for(fut, UNIT))["type"] == "ack"
    assert fake.connector.urls == [A, B] and client.url == "http://b:2"


async def test_the_next_server_is_tried_after_the_storm_window_not_at_once(
    fake: FakeServer, make_client: MakeClient
) -> None:
    # A dead server drops all its points at the same instant; each waits a
    # uniform draw over the storm window before trying the next server, so
    # they reach it spread out, not all in the same instant.
    clients = [make_client(urls="http://a:1,http://b:2", storm_window=5.0, backoff_base=0.001,
                           rng=random.Random(i)) for i in range(20)]
    for client in clients:
        await client.start()
    await fake.wait_until(lambda: len(fake.open_conns) == 20)
    await fake.drop(1006)
    await wait_until(lambda: all(c.backoff_delays for c in clients), 5, "every client's backoff")
    delays = [c.backoff_delays[0] for c in clients]
    assert all(0 <= d <= 5.0 for d in delays)
    assert max(delays) - min(delays) > 1.0  # spread, not one instant (20 draws: fails ~never)
    assert all(c.url == "http://b:2" for c in clients)


async def test_round_robin_comes_back_to_the_first(fake: FakeServer, make_client: MakeClient) -> None:
    fake.connector.fail_next(TransportError("down"), times=2)
    client = make_client(urls=["http://a:1", "http://b:2"])
    await client.start()
    await client.wait_connected(UNIT)
    assert fake.connector.urls == [A, B, A] and client.url == "http://a:1"


# -- real processes -------------------------------------------------------------


async def test_kill_9_of_the_first_server_moves_the_client_to_the_second(tmp_path: Path) -> None:
    # Two embedded-store processes serving the same point: the second starts
    # from a copy of the first's data directory (each then has its own
    # journal; a shared journal is the Redis store's business).
    first = LaunchdayProcess(tmp_path / "a")
    async with first:
        async with aiohttp.ClientSession() as s:
            api = Api(first.url, s)
            eid = await api.event()
            await api.import_csv(eid, tree_csv(1, 1, 0)[0])
            token = (await api.points(eid))[0]["token"]
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    second = LaunchdayProcess(tmp_path / "b")
    welcomes: list[str] = []
    async with first, second:
        client = PointClient([first.url, second.url], token, storm_window=0.5, backoff_base=0.05,
                             on_welcome=lambda f: welcomes.append(client.url))
        async with client:
            await client.wait_connected(timeout(20))
            assert welcomes == [first.url]
            first.kill()
            await wait_until(lambda: welcomes[-1] == second.url and client.connected, 20,
                             "a welcome from the second server")
            # A check-in made after the failover reaches the second server.
            ack = await asyncio.wait_for(client.checkin(17), timeout(20))
            assert ack["type"] == "ack"
        async with aiohttp.ClientSession() as s:
            assert (await Api(second.url, s).totals(eid))["attendees"] == 17


async def test_kiosk_skips_a_dead_server(server, tmp_path: Path) -> None:
    """``--server`` repeated: the first URL refuses, the kiosk checks in on the second."""
    eid = await server.api.event()
    await server.api.import_csv(eid, tree_csv(1, 1, 0)[0])
    token = (await server.api.points(eid))[0]["token"]
    dead = f"http://127.0.0.1:{free_port()}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "checkin.kiosk", "--server", dead, "--server", server.base,
        "--token", token, "--json", "--attendees", "9", "--outbox", str(tmp_path / "outbox.json"),
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None
    try:
        await wait_until(lambda: _attendees(server.api, eid, 9), 30, "the kiosk's check-in")
        proc.stdin.write(b"q\n")
        await proc.stdin.drain()
        await asyncio.wait_for(proc.communicate(), timeout(30))
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _attendees(api: Api, eid: str, n: int) -> bool:
    return bool((await api.totals(eid))["attendees"] == n)
