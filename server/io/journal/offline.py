"""A journal seen from outside the server: for ``launchday event`` and
``launchday backup``/``restore`` (docs/protocol.md, "Moving an event").

Reading works whether a server runs on the store or not:

- **SQLite**: the database file is opened read-only (``file:...?mode=ro``),
  without the journal's lock. With WAL a reader sees the last committed
  transaction and never blocks the server's writer, nor is blocked by it.
- **Redis**: plain ``XRANGE``/``HMGET`` on the journal's keys.

Writing (import, restore) always goes through the journal interface
(:class:`~server.io.journal.sqlite.SqliteJournal` or
:class:`~server.io.journal.redis.RedisJournal`), never raw writes: on
SQLite that takes the lock (a running server refuses it, code
``journal_busy``); on Redis an appended new stream lands in the index of
streams, so running processes pick it up without a restart.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from server.core.errors import LaunchdayError
from server.io.journal import keys

JOURNAL_FILE = "journal.sqlite3"


class StoreError(LaunchdayError):
    """The store cannot be read or written as asked (coded; exit code 2)."""

    default_code = "store_unavailable"


class Reader(Protocol):
    async def streams(self) -> list[str]: ...

    async def read_raw(self, stream: str, upto_seq: int | None = None) -> list[tuple[int, str]]: ...

    async def snapshot(self, stream: str) -> tuple[int, bytes] | None: ...

    async def close(self) -> None: ...


def ro_connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to a journal file, taking no lock of launchday's."""
    if not path.is_file():
        raise StoreError(f"no journal at {path}", code="store_not_found")
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False)


class SqliteReader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = ro_connect(path)

    async def streams(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT DISTINCT stream FROM facts ORDER BY stream")]

    async def read_raw(self, stream: str, upto_seq: int | None = None) -> list[tuple[int, str]]:
        top = upto_seq if upto_seq is not None else 2**62
        return list(self.db.execute("SELECT seq, body FROM facts WHERE stream = ? AND seq <= ? ORDER BY seq",
                                    (stream, top)))

    async def snapshot(self, stream: str) -> tuple[int, bytes] | None:
        row = self.db.execute("SELECT seq, data FROM snapshots WHERE stream = ?", (stream,)).fetchone()
        return (int(row[0]), bytes(row[1])) if row else None

    async def close(self) -> None:
        self.db.close()


class RedisReader:
    PAGE = 5_000

    def __init__(self, url: str) -> None:
        from server.io.journal.redis import connect

        self.url = url
        self.r = connect(url, retries=3, socket_timeout=10.0)

    async def streams(self) -> list[str]:
        try:
            index = await self.r.xrange(keys.STREAMS)
        except OSError as exc:
            raise StoreError(f"cannot reach Redis at {self.url}: {exc}") from exc
        except Exception as exc:  # redis.exceptions.ConnectionError is not an OSError
            raise StoreError(f"cannot reach Redis at {self.url}: {exc}") from exc
        return sorted({fields[b"stream"].decode() for _, fields in index})

    async def read_raw(self, stream: str, upto_seq: int | None = None) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        start = "-"
        end = keys.entry_id(upto_seq) if upto_seq is not None else "+"
        while True:
            raw = await self.r.xrange(keys.facts(stream), min=start, max=end, count=self.PAGE)
            if not raw:
                return out
            out.extend((keys.seq_of(eid), fields[b"f"].decode()) for eid, fields in raw)
            start = f"({raw[-1][0].decode()}"

    async def last_seq(self, stream: str) -> int:
        return int(await self.r.hget(keys.meta(stream), "seq") or 0)

    async def snapshot(self, stream: str) -> tuple[int, bytes] | None:
        seq, data = await self.r.hmget(keys.snapshot(stream), ["seq", "data"])
        return (int(seq), bytes(data)) if seq is not None and data is not None else None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.r.aclose()


def reader(data: str | None, redis_url: str | None) -> Reader:
    if redis_url:
        return RedisReader(redis_url)
    assert data is not None
    return SqliteReader(Path(data) / JOURNAL_FILE)


async def open_writer(data: str | None, redis_url: str | None, durability: str = "always") -> Any:
    """The target store's journal, opened for appends (coded errors when it cannot be)."""
    if redis_url:
        from server.io.journal.redis import RedisJournal

        journal: Any = RedisJournal(redis_url, durability=durability)
        try:
            await journal.open()
        except (RuntimeError, OSError) as exc:
            with contextlib.suppress(Exception):
                await journal.close()
            raise StoreError(str(exc)) from exc
        return journal
    from server.io.journal.sqlite import JournalBusy, SqliteJournal

    assert data is not None
    journal = SqliteJournal(Path(data) / JOURNAL_FILE)
    try:
        await journal.open()
    except JournalBusy:
        raise StoreError(f"a server is running on {data} (it holds the journal); stop it first, "
                         "or load into a Redis whose processes are running", code="journal_busy") from None
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the journal in {data}: {exc}") from exc
    return journal


async def append_all(journal: Any, stream: str, bodies: list[Any], chunk: int = 2_000) -> int:
    """Append ``bodies`` (fact objects) to a new stream: the first chunk only
    if the stream is still empty (``expect_seq=0``), each next one only on top
    of the last (so a concurrent writer makes it fail, never interleave)."""
    seq = 0
    for i in range(0, len(bodies), chunk):
        seq = await journal.append(stream, bodies[i:i + chunk], expect_seq=seq)
    return seq
