"""PointClient over the in-memory seam; the fake server in conftest.py plays the fake."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkin.client import ClientStopped, PointClient, ServerError, TokenInvalid, backoff_delay
from checkin.transport import HandshakeRejected, TransportError
from tests.checkin.fakes import PRECISION_MS, UNIT, FakeServer

MakeClient = Callable[..., PointClient]


async def started(make_client: MakeClient, **kwargs: Any) -> PointClient:
    client = make_client(**kwargs)
    await client.start()
    await client.wait_connected(UNIT)
    return client


async def test_welcome_then_sync_with_spaced_pings(fake: FakeServer, make_client: MakeClient) -> None:
    welcomes: list[dict[str, Any]] = []
    states: list[str] = []
    client = await started(make_client, clock_offset_ms=4_321.0, on_welcome=welcomes.append,
                           on_state=states.append)
    await client.wait_synced(UNIT)
    assert client.connected and client.point["code"] == "X01"
    assert client.status == {"checked_in": False, "attendees": 0, "incidents": []}
    assert client.launch["state"] == "idle" and client.agenda["state"] == "not_started"
    assert welcomes and welcomes[0]["type"] == "welcome"
    assert states[:3] == ["connecting", "connected", "synced"]
    await fake.wait_until(lambda: fake.of_type("time.sync"))
    pings = fake.of_type("time.ping")
    assert len(pings) >= 5
    # Sequential and spaced: each ping left after the previous pong arrived.
    t0s = [p["t0"] for p in pings]
    assert all(b - a > 0.5 for a, b in itertools.pairwise(t0s))
    sync = fake.of_type("time.sync")[0]
    assert sync["offset_ms"] == client.offset_ms and sync["rtt_ms"] == client.rtt_ms
    assert client.offset_ms is not None and client.error_bound_ms is not None
    assert abs(client.offset_ms - (-4_321.0)) <= client.error_bound_ms + 1.0
    assert client.server_now_ms() == pytest.approx(time.time() * 1000, abs=5)


async def test_messages_are_acked_or_refused(fake: FakeServer, make_client: MakeClient) -> None:
    client = await started(make_client)
    with pytest.raises(ServerError) as info:
        await asyncio.wait_for(client.set_attendees(5), UNIT)
    assert info.value.code == "not_checked_in"
    ack = await asyncio.wait_for(client.checkin(42), UNIT)
    assert ack["type"] == "ack" and client.status["checked_in"] and client.status["attendees"] == 42
    incident = await asyncio.wait_for(client.open_incident("audio", "mic hỏng"), UNIT)
    assert incident["incident"] == "inc-1"
    await asyncio.wait_for(client.resolve_incident(incident["incident"]), UNIT)
    await client.drain(UNIT)
    assert client.pending == 0
    sent = [f for f in fake.received if f["type"] not in ("time.ping", "time.sync")]
    assert [f["type"] for f in sent] == ["attendees", "checkin", "incident", "incident.resolve"]
    assert len({f["id"] for f in sent}) == 4 and all(1 <= len(f["id"]) <= 64 for f in sent)
    assert sent[2]["note"] == "mic hỏng"
    with pytest.raises(ValueError):
        client.checkin(-1)
    with pytest.raises(ValueError):
        client.open_incident("fire")


async def test_unanswered_message_is_resent_with_same_id_and_applied_once(
    fake: FakeServer, make_client: MakeClient
) -> None:
    client = await started(make_client)
    fake.hold.add("checkin")  # applied, but the ack is lost with the connection
    fut = client.checkin(17)
    await fake.wait_until(lambda: fake.of_type("checkin"))
    first_id = fake.of_type("checkin")[0]["id"]
    assert client.pending == 1 and not fut.done()
    fake.hold.clear()
    await fake.drop(1006)
    ack = await asyncio.wait_for(fut, UNIT)
    assert ack["id"] == first_id
    assert [f["id"] for f in fake.of_type("checkin")] == [first_id, first_id]
    assert fake.arrivals[first_id] == 2
    assert [f["id"] for f in fake.applied] == [first_id]  # applied at most once
    assert len(client.connect_times) == 2 and client.pending == 0


async def test_newer_count_supersedes_only_never_written_ones(
    fake: FakeServer, make_client: MakeClient
) -> None:
    fake.checked_in = True
    client = make_client()
    # Queued before any connection: never written, so only the last survives.
    f1, f2, f3 = client.set_attendees(10), client.set_attendees(20), client.set_attendees(30)
    assert client.pending == 1
    await client.start()
    ack = await asyncio.wait_for(f3, UNIT)
    assert [f["count"] for f in fake.of_type("attendees")] == [30]
    # The superseded callers learn the fate of the count that replaced theirs.
    assert (await f1) == ack and (await f2) == ack
    # Written but unanswered: kept, and resent before the newer one.
    fake.hold.add("attendees")
    g1 = client.set_attendees(40)
    await fake.wait_until(lambda: len(fake.of_type("attendees")) == 2)
    g2 = client.set_attendees(50)
    await fake.wait_until(lambda: len(fake.of_type("attendees")) == 3)
    assert client.pending == 2
    fake.hold.clear()
    await fake.drop(1013)
    await asyncio.wait_for(asyncio.gather(g1, g2), UNIT)
    assert [f["count"] for f in fake.of_type("attendees")] == [30, 40, 50, 40, 50]
    assert fake.attendees == 50


async def test_outbox_survives_a_restart_in_its_file(
    fake: FakeServer, make_client: MakeClient, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.json"
    first = await started(make_client, outbox_path=path)
    fake.hold.add("incident")
    fut = first.open_incident("power", "mất điện")
    await fake.wait_until(lambda: fake.of_type("incident"))
    await first.stop()
    with pytest.raises(ClientStopped):
        await fut
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["entries"][0]["sent"] is True
    fake.hold.clear()
    second = await started(make_client, outbox_path=path)
    assert second.pending in (0, 1)
    await second.drain(UNIT)
    ids = [f["id"] for f in fake.of_type("incident")]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert len(fake.applied) == 1
    assert json.loads(path.read_text(encoding="utf-8"))["entries"] == []


async def test_backoff_full_jitter_then_reset_on_welcome(
    fake: FakeServer, make_client: MakeClient
) -> None:
    fake.connector.fail_next(TransportError("refused"), times=6)
    client = await started(make_client, rng=random.Random(3), backoff_base=0.001,
                           backoff_cap=0.004, storm_window=0.001, stable_s=0.0)
    assert client.connect_attempts == 7 and len(client.connect_times) == 1
    # Before the welcome only the backoff draws from the rng: the same seed, the same delays.
    rng = random.Random(3)
    assert client.backoff_delays == [backoff_delay(i, 0.001, 0.004, rng) for i in range(6)]
    for attempt, delay in enumerate(client.backoff_delays):
        assert 0 <= delay <= min(0.004, 0.001 * 2**attempt)
    # The welcome (and a connection that held stable_s) reset the attempt
    # counter: the next drop waits at most the storm window.
    await fake.drop(1013)
    await fake.wait_until(lambda: len(fake.conns) == 2)
    assert len(client.backoff_delays) == 7 and client.backoff_delays[-1] <= 0.001


async def test_a_welcome_dropped_at_once_does_not_reset_the_backoff(
    fake: FakeServer, make_client: MakeClient
) -> None:
    """A server that welcomes and drops at once (crash-looping) sees its
    clients back off further each time, never faster than the storm window."""
    client = await started(make_client, backoff_base=0.001, backoff_cap=1.0, storm_window=0.002,
                           stable_s=3600.0)
    for n in range(2, 7):
        await fake.drop(1013)
        await fake.wait_until(lambda n=n: len(fake.conns) == n)
    assert client._reconnect.attempt == 5
    # Each draw was from [0, max(storm window, base · 2^attempt)].
    for attempt, delay in enumerate(client.backoff_delays):
        assert 0 <= delay <= max(0.002, 0.001 * 2**attempt)


async def test_rotates_between_urls_on_failure(fake: FakeServer, make_client: MakeClient) -> None:
    fake.connector.fail_next(TransportError("down"))
    client = await started(make_client, urls=["http://a:1", "https://b"])
    assert fake.connector.urls == ["ws://a:1/ws/point?token=tok", "wss://b/ws/point?token=tok"]
    await fake.drop(1006)
    await fake.wait_until(lambda: len(fake.conns) == 2)
    assert fake.connector.urls[-1] == "ws://a:1/ws/point?token=tok"
    assert client.connected or client.state in ("connecting", "backoff", "connected")


@pytest.mark.parametrize("how", ["http-401", "http-403", "close-4401", "close-4403"])
async def test_refused_token_stops_the_client(
    fake: FakeServer, make_client: MakeClient, how: str
) -> None:
    states: list[str] = []
    client = make_client(on_state=states.append)
    fut = client.checkin(3)
    fake.hold.add("checkin")
    kind, code = how.split("-")
    if kind == "http":
        fake.connector.fail_next(HandshakeRejected(int(code)))
        await client.start()
    else:
        await client.start()
        await client.wait_connected(UNIT)
        await fake.wait_until(lambda: fake.of_type("checkin"))
        await fake.drop(int(code))
    with pytest.raises(TokenInvalid):
        await asyncio.wait_for(fut, UNIT)
    assert client.token_invalid and states[-1] == "token_invalid"
    assert client.connect_attempts == 1
    with pytest.raises(TokenInvalid):
        await client.drain(UNIT)


async def test_fires_at_fire_at_ms_by_its_estimate(fake: FakeServer, make_client: MakeClient) -> None:
    offset = random.Random(11).uniform(-5_000, 5_000)  # a device clock seconds off
    fired: list[float] = []
    client = await started(make_client, clock_offset_ms=offset, on_fire=fired.append,
                           countdown_resync_after_s=0.0, countdown_resync_spread_s=0.01)
    await client.wait_synced(UNIT)
    fire_at = fake.now_ms() + 250
    fake.launch = {**fake.launch, "state": "countdown", "fire_at_ms": fire_at}
    await fake.push({"type": "launch", "launch": fake.launch})
    await fake.wait_until(lambda: fake.of_type("launch.fired"))
    # Against the machine's real clock (the fake server's clock), not the device's.
    assert client.fired_local_wall_ms is not None
    assert abs(client.fired_local_wall_ms - fire_at) < PRECISION_MS
    assert fired and abs(fired[0] - fire_at) < PRECISION_MS
    report = fake.of_type("launch.fired")[0]
    assert report["fired_ms"] == fired[0]
    assert abs(report["offset_ms"] + offset) <= report["rtt_ms"] / 2 + 1.0
    # The countdown triggered a re-sync round (the estimate counted as stale here).
    assert len(fake.of_type("time.ping")) >= 6  # 5 at connect, then the countdown's one sharpening ping
    # A later "fired" frame or a reconnect showing the same launch fires nothing more.
    fake.launch = {**fake.launch, "state": "fired"}
    await fake.push({"type": "launch", "launch": fake.launch})
    await fake.drop(1013)
    await fake.wait_until(lambda: len(fake.conns) == 2)
    await client.drain(UNIT)
    assert len(fired) == 1 and len(fake.of_type("launch.fired")) == 1


async def test_countdown_in_welcome_fires_even_before_pings_finish(
    fake: FakeServer, make_client: MakeClient
) -> None:
    fire_at = fake.now_ms() + 120
    fake.launch = {**fake.launch, "state": "countdown", "fire_at_ms": fire_at}
    fired: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    client = await started(make_client, clock_offset_ms=-3_000.0, ping_spacing_s=0.2,
                           on_fire=fired.set_result)
    at = await asyncio.wait_for(fired, UNIT)
    # Only the welcome's bound (and a ping or two) to go on, still near.
    assert abs(at - fire_at) < PRECISION_MS
    assert client.fired_local_wall_ms is not None
    assert abs(client.fired_local_wall_ms - fire_at) < PRECISION_MS


async def test_abort_cancels_the_fire(fake: FakeServer, make_client: MakeClient) -> None:
    fired: list[float] = []
    launches: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = await started(make_client, on_fire=fired.append, on_launch=launches.put_nowait)
    await client.wait_synced(UNIT)
    assert (await launches.get())["state"] == "idle"  # from the welcome
    fire_at = fake.now_ms() + 150
    await fake.push({"type": "launch", "launch": {"state": "countdown", "fire_at_ms": fire_at}})
    await fake.push({"type": "launch", "launch": {"state": "aborted", "fire_at_ms": fire_at}})
    assert (await asyncio.wait_for(launches.get(), UNIT))["state"] == "countdown"
    assert (await asyncio.wait_for(launches.get(), UNIT))["state"] == "aborted"
    await client.clock.sleep_until_server_ms(fire_at + 30)  # past the moment
    assert fired == [] and client.fired_local_wall_ms is None
    assert not fake.of_type("launch.fired")


async def test_already_fired_in_welcome_does_not_fire(
    fake: FakeServer, make_client: MakeClient
) -> None:
    fake.launch = {**fake.launch, "state": "fired", "fire_at_ms": fake.now_ms() - 1_000}
    launches: list[dict[str, Any]] = []
    fired: list[float] = []
    client = await started(make_client, on_fire=fired.append, on_launch=launches.append)
    await client.wait_synced(UNIT)
    assert launches[0]["state"] == "fired" and client.launch["state"] == "fired"
    assert fired == [] and client.pending == 0


async def test_pushes_and_junk_frames(fake: FakeServer, make_client: MakeClient) -> None:
    fake.extra_frames = ["not json", "[1, 2]", json.dumps({"type": "from.the.future", "x": 1})]
    agendas: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    client = await started(make_client, on_agenda=agendas.append, on_notice=notices.append)
    agenda = {"state": "running", "current": 0, "item_started_ms": 1.0, "items": []}
    await fake.push({"type": "agenda", "agenda": agenda})
    await fake.push({"type": "notice", "text": "Chuẩn bị", "at_ms": 5.0})
    await asyncio.wait_for(client.checkin(1), UNIT)  # the connection survived the junk
    assert agendas == [agenda] and client.agenda == agenda
    assert notices[0]["text"] == "Chuẩn bị"
    assert len(fake.conns) == 1


async def test_a_crashing_callback_does_not_take_the_point_offline(
    fake: FakeServer, make_client: MakeClient
) -> None:
    def boom(_: object) -> None:
        raise RuntimeError("display bug")

    client = await started(make_client, on_notice=boom)
    await fake.push({"type": "notice", "text": "x", "at_ms": 0})
    await asyncio.wait_for(client.checkin(2), UNIT)
    assert client.connected and len(fake.conns) == 1


async def test_reconnects_of_many_clients_spread_out(fake: FakeServer,
                                                     make_client: MakeClient) -> None:
    n, base = 100, 0.2
    clients = [make_client(backoff_base=0.01, backoff_cap=30.0, storm_window=base, ping_count=1,
                           rng=random.Random(i)) for i in range(n)]
    for c in clients:
        await c.start()
    await fake.wait_until(lambda: sum(c.connected for c in clients) == n, 2 * UNIT)
    dropped_at = time.monotonic()
    await fake.drop(1013)  # e.g. a server restart drops everyone at once
    await fake.wait_until(lambda: len(fake.conns) == 2 * n, 2 * UNIT)
    # What each client chose: full jitter over the storm window [0, base] after a welcome.
    delays = [c.backoff_delays[0] for c in clients]
    assert all(0 <= d <= base for d in delays) and max(delays) - min(delays) > base * 0.8
    # What the server saw: spread out, not a burst (loose, as the loop is shared).
    back = sorted(c.connect_times[1] - dropped_at for c in clients)
    assert back[-1] - back[0] > base * 0.6
    quarters = [0] * 4
    for t in back:
        quarters[min(3, int(t / base * 4))] += 1
    assert max(quarters) < n * 0.5


async def test_rate_limited_is_sent_again_after_retry_after_ms(fake: FakeServer,
                                                              make_client: MakeClient) -> None:
    """``rate_limited`` means nothing was applied and says when: the client
    waits that long (nothing else goes out meanwhile), then resends, same id."""
    fake.rate_limits["checkin"] = 3
    fake.retry_after_ms = 60
    client = await started(make_client)
    ack = await asyncio.wait_for(client.checkin(30), 5 * UNIT)
    assert ack["type"] == "ack" and fake.attendees == 30 and client.pending == 0
    sent = [(t, f) for t, f in fake.received_at if f["type"] == "checkin"]
    assert len(sent) == 4 and len({f["id"] for _, f in sent}) == 1
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
    assert all(g >= 0.06 for g in gaps), gaps


async def test_conflict_is_sent_again_with_the_same_id(fake: FakeServer, make_client: MakeClient) -> None:
    """``conflict`` means nothing was applied: the client resends, same id."""
    fake.conflicts["checkin"] = 2
    client = await started(make_client)
    ack = await asyncio.wait_for(client.checkin(30), UNIT)
    assert ack["type"] == "ack"
    sent = fake.of_type("checkin")
    assert len(sent) == 3 and len({f["id"] for f in sent}) == 1
    assert fake.attendees == 30 and client.pending == 0
