"""The embedded journal: append, read, tail, snapshots, group commit."""

from __future__ import annotations

import asyncio

import pytest

from server.core import facts as f
from server.io import metrics
from server.io.journal.sqlite import SqliteJournal
from tests.utils import timeout


def notice(i: int) -> f.NoticeSent:
    return f.NoticeSent(at_ms=float(i), text=f"thông báo {i}")


@pytest.fixture
async def journal(tmp_path):
    j = SqliteJournal(tmp_path / "j.sqlite3")
    await j.open()
    yield j
    await j.close()


async def test_append_read_and_seq(journal) -> None:
    assert await journal.append("ev", [notice(1), notice(2)]) == 2
    assert await journal.append("ev", [notice(3)]) == 3
    assert await journal.append("other", [notice(4)]) == 1
    got = await journal.read("ev", 1)
    assert [(seq, fact.text) for seq, fact in got] == [(2, "thông báo 2"), (3, "thông báo 3")]
    assert await journal.streams() == ["ev", "other"]


async def test_expect_seq_conflict_changes_nothing(journal) -> None:
    await journal.append("ev", [notice(1)])
    with pytest.raises(Exception) as info:
        await journal.append("ev", [notice(2)], expect_seq=0)
    assert getattr(info.value, "code", None) == "seq_conflict"
    assert await journal.last_seq("ev") == 1


async def test_tail_catches_up_then_follows(journal) -> None:
    await journal.append("ev", [notice(1), notice(2)])
    seen: list[int] = []

    async def follow() -> None:
        async for entries in journal.tail("ev", 1):
            seen.extend(seq for seq, _ in entries)
            if seen[-1] >= 4:
                return

    task = asyncio.create_task(follow())
    await journal.append("ev", [notice(3)])
    await journal.append("ev", [notice(4)])
    await asyncio.wait_for(task, timeout(5))
    assert seen == [2, 3, 4]


async def test_concurrent_appends_share_commits(journal) -> None:
    before = metrics.JOURNAL_BATCH._sum.get()  # appends counted in batches
    commits_before = sum(b.get() for b in metrics.JOURNAL_BATCH._buckets)
    seqs = await asyncio.gather(*(journal.append(f"ev{i % 7}", [notice(i)]) for i in range(500)))
    # Every append acknowledged with its own seq, numbered 1, 2, 3... per
    # stream in the order of the calls.
    for k in range(7):
        mine = [seq for i, seq in enumerate(seqs) if i % 7 == k]
        assert mine == list(range(1, len(mine) + 1)), k
        assert [seq for seq, _ in await journal.read(f"ev{k}")] == mine
    commits = sum(b.get() for b in metrics.JOURNAL_BATCH._buckets) - commits_before
    appends = metrics.JOURNAL_BATCH._sum.get() - before
    assert appends == 500
    assert commits < 100, f"{commits} commits for 500 concurrent appends: group commit is not working"


async def test_reopen_keeps_everything(tmp_path) -> None:
    j = SqliteJournal(tmp_path / "j.sqlite3")
    await j.open()
    await j.append("ev", [notice(i) for i in range(10)])
    await j.save_snapshot("ev", 10, b'{"x": 1}')
    await j.close()
    j = SqliteJournal(tmp_path / "j.sqlite3")
    await j.open()
    assert await j.last_seq("ev") == 10
    assert await j.load_snapshot("ev") == (10, b'{"x": 1}')
    assert await j.append("ev", [notice(11)]) == 11
    await j.close()


async def test_cancelling_the_writer_fails_pending_appends_and_does_not_hang(tmp_path) -> None:
    j = SqliteJournal(tmp_path / "j.sqlite3")
    await j.open()
    await j.append("ev", [notice(1)])
    pending = asyncio.ensure_future(j.append("ev", [notice(2)]))
    await asyncio.sleep(0)  # the append is queued, the writer woken
    assert j._commits._task is not None
    j._commits._task.cancel()
    with pytest.raises((RuntimeError, asyncio.CancelledError)):
        await asyncio.wait_for(pending, timeout(5))
    await asyncio.wait_for(j.close(), timeout(5))
