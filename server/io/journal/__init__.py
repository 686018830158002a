"""The journal interface: what every backend (SQLite now, Redis later) provides.

A journal holds named streams (one per event, plus ``_org`` for organizer
tokens) of facts numbered 1, 2, 3... An ``append`` returns only once its facts
are durable, which is what lets a handler acknowledge right after it.
``tail`` yields every fact appended after a position, in order, including
facts appended by other processes sharing the journal: the fold is driven by
the tail, never by the appender, so all processes fold the same sequence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from server.core.errors import Unavailable

Entry = tuple[int, Any]  # (seq, fact)


class JournalUnavailable(Unavailable, RuntimeError):
    """Nothing can be appended (a failed write, a closed journal): a coded
    503 ``unavailable`` for the client, and nothing acknowledged."""


class JournalRewound(Exception):
    """The history a tail already yielded is no longer in the journal (a Redis
    failover to a replica that missed the last writes): the fold built on it
    must be rebuilt from the journal as it now is."""


class Journal(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None:
        """Flush what is pending and release the store."""

    async def append(self, stream: str, facts: Sequence[Any], expect_seq: int | None = None) -> int:
        """Append ``facts`` atomically; return the seq of the last one once durable.

        With ``expect_seq``, refuse (``Conflict``, code ``seq_conflict``) unless
        the stream's last seq is exactly that: an optimistic check for
        transitions that must see the latest state.
        """
        ...

    async def read(self, stream: str, after_seq: int = 0) -> list[Entry]: ...

    def tail(self, stream: str, after_seq: int) -> AsyncIterator[list[Entry]]:
        """Batches of entries after ``after_seq``, forever, in order."""
        ...

    async def streams(self) -> list[str]: ...

    async def last_seq(self, stream: str) -> int: ...

    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None: ...

    def new_streams(self) -> AsyncIterator[str]:
        """Streams created after ``open``, by this process or by any other sharing
        the journal: how a running process learns of an event created elsewhere."""
        ...

    async def try_lease(self, stream: str, name: str, ttl_ms: int) -> bool:
        """True for one caller among all processes sharing the journal, until
        ``ttl_ms`` passes: for what must happen once per cluster, not once per
        process (the deadline report)."""
        ...

    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None: ...

    def health(self) -> str | None:
        """None while appends can be made durable, else the reason (for
        ``/healthz``): a failed write, a closed journal, an unreachable server."""
        ...
