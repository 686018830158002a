"""The shared group commit (server/io/journal/commit.py), without a journal."""

from __future__ import annotations

import asyncio

import pytest

from server.io.journal import JournalUnavailable
from server.io.journal.commit import GroupCommit
from tests.utils import timeout, wait_until


class Pending:
    def __init__(self, n: int) -> None:
        self.n = n
        self.future: asyncio.Future[int] = asyncio.get_running_loop().create_future()


async def test_appends_made_during_a_write_go_together_into_the_next() -> None:
    """Catches a writer that writes one append at a time (no group commit)."""
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def write(batch: list[Pending]) -> None:
        batches.append([p.n for p in batch])
        if len(batches) == 1:
            await gate.wait()
        for p in batch:
            p.future.set_result(p.n)

    gc: GroupCommit[Pending] = GroupCommit(write)
    gc.start()
    first = Pending(0)
    gc.submit(first)
    await wait_until(lambda: batches, timeout(5), "the first write under way")
    later = [Pending(i) for i in range(1, 6)]
    for p in later:
        gc.submit(p)
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(first.future, *(p.future for p in later)), timeout(5)) == list(range(6))
    assert batches == [[0], [1, 2, 3, 4, 5]]
    await gc.close()


async def test_a_writer_that_dies_leaves_nothing_waiting() -> None:
    """Catches an append left waiting forever (or acknowledged) after its writer crashed."""
    async def write(batch: list[Pending]) -> None:
        raise RuntimeError("bug in a write")

    gc: GroupCommit[Pending] = GroupCommit(write)
    gc.start()
    a, b = Pending(1), Pending(2)
    gc.submit(a)
    gc.submit(b)
    with pytest.raises(JournalUnavailable):
        await asyncio.wait_for(a.future, timeout(5))
    with pytest.raises(JournalUnavailable):
        await asyncio.wait_for(b.future, timeout(5))
    assert not gc.running
    assert isinstance(await gc.close(), RuntimeError)


async def test_close_writes_what_is_queued_first() -> None:
    written: list[int] = []

    async def write(batch: list[Pending]) -> None:
        for p in batch:
            written.append(p.n)
            p.future.set_result(p.n)

    gc: GroupCommit[Pending] = GroupCommit(write)
    gc.start()
    p = Pending(7)
    gc.submit(p)
    assert await asyncio.wait_for(gc.close(), timeout(5)) is None
    assert written == [7] and p.future.result() == 7
    assert not gc.running
