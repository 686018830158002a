"""One contract, two journals: the embedded SQLite file and Redis Streams.

Every test of ``contract`` runs against both backends (a real redis-server
started on a free port with AOF on, never the shared one). The tests after it
are Redis's own: outages, durability settings, WAIT, several processes
appending to one stream, and a rewound stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from server.core import facts as f
from server.core.errors import Conflict, Unavailable
from server.io.journal import Entry, JournalRewound
from server.io.journal.redis import RedisJournal
from server.io.journal.sqlite import SqliteJournal
from tests.services import RedisServer
from tests.utils import wait_until

T = 1_746_666_000_000.0


def created(event_id: str = "ev-1") -> f.EventCreated:
    return f.EventCreated(at_ms=T, event_id=event_id, name="Lễ phát động", starts_at="2025-05-08T08:00:00+07:00",
                          report_deadline="2025-05-08T07:30:00+07:00", timezone="Asia/Ho_Chi_Minh")


def notice(i: int) -> f.NoticeSent:
    return f.NoticeSent(at_ms=T + i, text=f"thông báo {i}")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(params=["sqlite", "redis"])
async def make_journal(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """A factory of open journals on one shared store (Redis: several "processes")."""
    opened: list[Any] = []
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.command("FLUSHALL")

    async def make() -> Any:
        if request.param == "sqlite":
            journal: Any = SqliteJournal(tmp_path / "journal.sqlite3")
        else:
            journal = RedisJournal(server.url)
        await journal.open()
        opened.append(journal)
        return journal

    yield make
    for journal in opened:
        with contextlib.suppress(Exception):
            await journal.close()


async def collect(journal: Any, stream: str, after: int, until: int) -> list[Entry]:
    got: list[Entry] = []
    async for entries in journal.tail(stream, after):
        got.extend(entries)
        if got and got[-1][0] >= until:
            return got
    return got


@contextlib.asynccontextmanager
async def following(source: AsyncIterator[Any]) -> AsyncIterator[tuple[list[Any], list[BaseException]]]:
    """What ``source`` yields (a tail's batches flattened into entries, or
    stream names), collected by a task while the block runs; and the error
    that ended it, if one did."""
    got: list[Any] = []
    errors: list[BaseException] = []

    async def run() -> None:
        try:
            async for item in source:
                got.extend(item) if isinstance(item, list) else got.append(item)
        except Exception as exc:
            errors.append(exc)

    task = asyncio.create_task(run())
    try:
        yield got, errors
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- the contract ---------------------------------------------------------------


async def test_appends_are_numbered_in_order_and_read_back_equal(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    assert await journal.append("ev-1", [created()], expect_seq=0) == 1
    assert await journal.append("ev-1", [notice(1), notice(2)]) == 3
    assert await journal.last_seq("ev-1") == 3
    entries = await journal.read("ev-1")
    assert [seq for seq, _ in entries] == [1, 2, 3]
    assert entries[0][1] == created()
    assert [fact.text for _, fact in entries[1:]] == ["thông báo 1", "thông báo 2"]
    assert [seq for seq, _ in await journal.read("ev-1", 2)] == [3]


async def test_expect_seq_refuses_and_writes_nothing(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    await journal.append("ev-1", [created()], expect_seq=0)
    with pytest.raises(Conflict) as err:
        await journal.append("ev-1", [notice(1)], expect_seq=0)
    assert err.value.code == "seq_conflict"
    assert await journal.last_seq("ev-1") == 1
    assert await journal.append("ev-1", [notice(2)], expect_seq=1) == 2


async def test_concurrent_appends_get_distinct_contiguous_seqs_and_the_tail_sees_them_in_order(
        make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    await journal.append("ev-1", [created()])
    seqs = await asyncio.gather(*[journal.append("ev-1", [notice(i)]) for i in range(1, 1001)])
    assert sorted(seqs) == list(range(2, 1002))  # each append got its own seq, none lost
    tailed = await asyncio.wait_for(collect(journal, "ev-1", 0, 1001), 10)
    assert [seq for seq, _ in tailed] == list(range(1, 1002))
    # The seq an append returned is the seq its fact has in the journal.
    by_text = {fact.text: seq for seq, fact in tailed[1:]}
    assert all(by_text[f"thông báo {i}"] == seqs[i - 1] for i in range(1, 1001))


async def test_a_tail_resumes_after_a_position_and_follows_new_appends(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    await journal.append("ev-1", [created(), notice(1), notice(2)])
    async with following(journal.tail("ev-1", 2)) as (got, _):
        await wait_until(lambda: got, 5, "the backlog after seq 2")
        await journal.append("ev-1", [notice(3)])
        await wait_until(lambda: len(got) == 2, 5, "the new fact")
        assert [seq for seq, _ in got] == [3, 4]


async def test_snapshots_are_kept_per_stream(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    assert await journal.load_snapshot("ev-1") is None
    await journal.save_snapshot("ev-1", 10, b'{"seq": 10}')
    await journal.save_snapshot("ev-1", 20, b'{"seq": 20}')
    assert await journal.load_snapshot("ev-1") == (20, b'{"seq": 20}')
    assert await journal.load_snapshot("ev-2") is None


async def test_new_streams_are_announced_once_they_are_durable(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    await journal.append("ev-old", [created("ev-old")])
    async with following(journal.new_streams()) as (announced, _):
        await journal.append("ev-new", [created("ev-new")])
        await journal.append("ev-new", [notice(1)])  # not a new stream
        await wait_until(lambda: "ev-new" in announced, 5, "ev-new announced")
        assert announced.count("ev-new") == 1
        # Announced only once durable: a reader finds its first fact.
        assert (await journal.read("ev-new"))[0][1] == created("ev-new")


async def test_health_is_none_while_writable(make_journal: Callable[[], Any]) -> None:
    journal = await make_journal()
    await journal.append("ev-1", [created()])
    assert journal.health() is None


# -- Redis only: several processes, outages, durability -----------------------------


@pytest.fixture
async def redis(redis_server: Any) -> AsyncIterator[Any]:
    redis_server.command("FLUSHALL")
    opened: list[RedisJournal] = []

    async def make(**kwargs: Any) -> RedisJournal:
        journal = RedisJournal(redis_server.url, **kwargs)
        await journal.open()
        opened.append(journal)
        return journal

    yield make
    for journal in opened:
        with contextlib.suppress(Exception):
            await journal.close()


async def test_two_processes_appending_to_one_stream_never_share_a_seq(redis: Any) -> None:
    a, b = await redis(), await redis()
    await a.append("ev-1", [created()])
    results = await asyncio.gather(*[(a if i % 2 else b).append("ev-1", [notice(i)]) for i in range(1, 601)])
    assert sorted(results) == list(range(2, 602))
    seen_a = await asyncio.wait_for(collect(a, "ev-1", 0, 601), 10)
    seen_b = await asyncio.wait_for(collect(b, "ev-1", 0, 601), 10)
    assert [(s, x.text if s > 1 else None) for s, x in seen_a] == [(s, x.text if s > 1 else None) for s, x in seen_b]


async def test_a_process_learns_of_a_stream_created_by_another(redis: Any) -> None:
    a, b = await redis(), await redis()
    async with following(b.new_streams()) as (announced, _):
        await a.append("ev-elsewhere", [created("ev-elsewhere")])
        await wait_until(lambda: announced == ["ev-elsewhere"], 5, "b hears of a's stream")


async def test_a_lease_is_held_by_one_process(redis: Any) -> None:
    a, b = await redis(), await redis()
    won = await asyncio.gather(a.try_lease("ev-1", "deadline", 5_000), b.try_lease("ev-1", "deadline", 5_000))
    assert sorted(won) == [False, True]


async def test_redis_with_everysec_is_refused_unless_accepted(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "r", appendfsync="everysec") as server:
        journal = RedisJournal(server.url)
        with pytest.raises(RuntimeError, match="appendfsync=everysec"):
            await journal.open()
        await journal.close()
        accepted = RedisJournal(server.url, durability="everysec")
        await accepted.open()
        assert await accepted.append("ev-1", [created()]) == 1
        await accepted.close()
    with RedisServer(tmp_path / "r2", extra_args=["--appendonly", "no"]) as server:
        journal = RedisJournal(server.url)
        with pytest.raises(RuntimeError, match="appendonly=no"):
            await journal.open()
        await journal.close()


async def test_an_outage_refuses_writes_and_the_tail_resumes_by_itself(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "r") as server:
        journal = RedisJournal(server.url)
        await journal.open()
        try:
            acked = [await journal.append("ev-1", [created()])]
            acked += [await journal.append("ev-1", [notice(i)]) for i in range(1, 51)]
            async with following(journal.tail("ev-1", 0)) as (got, _):
                await wait_until(lambda: len(got) == 51, 5, "the backlog")
                server.kill()
                await wait_until(lambda: journal.health() is not None, 5, "health failing")
                with pytest.raises(Unavailable) as err:  # never an ack while Redis is away
                    await journal.append("ev-1", [notice(99)])
                assert err.value.code == "unavailable"
                server.start()  # same directory, same AOF
                await wait_until(lambda: journal.health() is None, 10, "health back")
                assert await journal.append("ev-1", [notice(100)]) == 52
                await wait_until(lambda: len(got) == 52, 10, "the tail resumed by itself")
                assert [seq for seq, _ in got] == list(range(1, 53))
                assert got[-1][1].text == "thông báo 100"
                # Everything acknowledged before the crash is there.
                assert [seq for seq, _ in await journal.read("ev-1")][: len(acked)] == acked
        finally:
            await journal.close()


async def test_wait_for_a_missing_replica_refuses_the_ack(redis: Any) -> None:
    journal = await redis(replicas=1, wait_ms=100)
    with pytest.raises(Unavailable, match="replica"):
        await journal.append("ev-1", [created()])
    # It may have landed on the primary (that is why it was not acked); a
    # resend is deduplicated by the fold, not by the journal.
    assert await journal.last_seq("ev-1") == 1


async def test_wait_with_a_replica_acks(tmp_path: Path) -> None:
    with RedisServer(tmp_path / "p") as primary, \
            RedisServer(tmp_path / "r", replicaof=("127.0.0.1", primary.port)) as replica:
        await wait_until(lambda: b"master_link_status:up" in (replica.command("INFO", "replication") or b""),
                         10, "replica in sync")
        journal = RedisJournal(primary.url, replicas=1)
        await journal.open()
        try:
            assert await journal.append("ev-1", [created()]) == 1
            assert b"ld:{ev-1}:facts" in (replica.command("KEYS", "*") or b"")
        finally:
            await journal.close()


async def test_a_tail_that_finds_its_history_gone_after_a_reconnect_says_so(redis: Any, redis_server: Any) -> None:
    journal = await redis()
    await journal.append("ev-1", [created(), notice(1), notice(2)])
    async with following(journal.tail("ev-1", 0)) as (got, failure):
        await wait_until(lambda: len(got) == 3, 5, "the backlog")
        # A failover that lost the last writes: the stream is shorter than
        # what this tail folded. Dropping the connections forces a reconnect.
        redis_server.command("XDEL", "ld:{ev-1}:facts", "2-0", "3-0")
        redis_server.command("HSET", "ld:{ev-1}:meta", "seq", "1")
        redis_server.command("CLIENT", "KILL", "TYPE", "normal")
        await wait_until(lambda: failure, 10, "JournalRewound")
        assert isinstance(failure[0], JournalRewound)
