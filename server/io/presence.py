"""Presence across processes: who is connected, wherever they are connected.

Presence is not a fact (docs/architecture.md §4): it is never journaled. With
one process it lives in that process's state and nothing more is needed
(:class:`LocalPresence`). In a cluster each process publishes the points it
holds and reads what the others hold (:class:`RedisPresence`), the way
centrifuge's ``presence_redis.go`` keeps a hash of entries beside a sorted set
of their expiry times:

- ``ld:{E}:presence`` maps each process id to the JSON of the points it holds
  (``{code: [sockets, last_seen_ms, offset_ms, rtt_ms, crowded, secure]}``;
  a reader takes the first five from a process that writes no ``secure``), written when they
  change (coalesced, at most every ``FLUSH_S``) and every ``REWRITE_S``;
- ``ld:{E}:presence:expiry`` gives each process's entry an expiry time, pushed
  forward every ``HEARTBEAT_S``; an entry past it belongs to a dead process and
  is pruned by whichever process sees it first, so a dead process's points
  turn offline within ``TTL_S`` plus one poll (under 10 s);
- ``ld:{E}:presence:version`` is bumped on every write, so a poller reads the
  entries only when something changed.

Each process folds the others' figures into its state with
``points.set_remote``: ``online``, the pre-flight board and ``totals.online``
are then the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any

import orjson
import structlog
from redis import exceptions as rexc

from server.core import points as pts
from server.io.journal import keys
from server.io.journal.redis import RedisJournal, reraise_cancel

if TYPE_CHECKING:
    from server.io.runtime import EventRuntime, Events

log = structlog.get_logger("launchday.presence")

POLL_S = 0.25  # how often the others' presence is read (when its version moved)
FLUSH_S = 0.2  # changes to this process's points are written at most this often
HEARTBEAT_S = 2.0  # this process's entries' expiry is pushed forward this often
TTL_S = 8.0  # an entry not refreshed for this long is a dead process's
REWRITE_S = 30.0  # rewrite this process's entry even without changes (Redis restarted empty)


class LocalPresence:
    """One process: its state already knows every socket."""

    def changed(self, rt: EventRuntime, code: str) -> None:
        pass

    async def start(self, store: Events) -> None:
        pass

    async def stop(self) -> None:
        pass


class RedisPresence:
    def __init__(self, journal: RedisJournal) -> None:
        self.journal = journal
        self.proc_id = journal.proc_id
        self._store: Events | None = None
        self._dirty: set[str] = set()  # event ids whose local presence changed
        self._seen: dict[str, tuple[int, int] | None] = {}  # event -> (version, id of the state) merged
        self._remote: dict[str, dict[str, list[Any]]] = {}  # event -> code -> merged figures
        self._written: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def changed(self, rt: EventRuntime, code: str) -> None:
        self._dirty.add(rt.id)

    async def start(self, store: Events) -> None:
        self.client = self.journal.client  # the journal's retrying client, open by now
        self._store = store
        self._task = asyncio.create_task(self._run(), name="presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._store is not None:
            with contextlib.suppress(Exception):
                pipe = self.client.pipeline(transaction=False)
                for event_id in self._store.events:
                    pipe.hdel(keys.presence(event_id), self.proc_id)
                    pipe.zrem(keys.presence_expiry(event_id), self.proc_id)
                    pipe.incr(keys.presence_version(event_id))
                await asyncio.wait_for(pipe.execute(), 2.0)

    async def _run(self) -> None:
        assert self._store is not None
        last_beat = 0.0
        last_flush = 0.0
        while True:
            now = time.monotonic()
            try:
                if now - last_flush >= FLUSH_S:
                    await self._publish(now, beat=now - last_beat >= HEARTBEAT_S)
                    if now - last_beat >= HEARTBEAT_S:
                        last_beat = now
                    last_flush = now
                await self._poll()
            except (TimeoutError, rexc.RedisError, OSError) as exc:
                reraise_cancel()
                # Redis away: keep what we know; the entries expire by themselves
                # if this process is the one that is gone.
                log.debug("presence_unavailable", error=repr(exc))
                last_beat = 0.0
                self._written.clear()  # rewrite every entry once Redis is back (a new primary)
            reraise_cancel()
            await asyncio.sleep(POLL_S)

    # -- this process's points -----------------------------------------------------

    def _mine(self, rt: EventRuntime) -> bytes:
        held = {code: [p.sockets, p.last_seen_ms, p.offset_ms, p.rtt_ms, p.crowded, p.secure]
                for code, p in rt.state.live.presence.items() if p.sockets > 0 or p.crowded}
        return orjson.dumps(held)

    async def _publish(self, now: float, beat: bool) -> None:
        assert self._store is not None
        events = list(self._store.events.values())
        pipe = self.client.pipeline(transaction=False)
        queued = False
        expires = time.time() * 1000 + TTL_S * 1000
        for rt in events:
            rewrite = rt.id not in self._written or now - self._written[rt.id] >= REWRITE_S
            if rt.id in self._dirty or rewrite:
                pipe.hset(keys.presence(rt.id), self.proc_id, self._mine(rt))
                pipe.incr(keys.presence_version(rt.id))
                queued = True
            if beat or rewrite or rt.id in self._dirty:
                pipe.zadd(keys.presence_expiry(rt.id), {self.proc_id: expires})
                queued = True
        dirty, self._dirty = self._dirty, set()
        if queued:
            try:
                await pipe.execute()
            except BaseException:
                self._dirty |= dirty  # written again on the next try
                raise
        for rt in events:
            if rt.id in dirty or rt.id not in self._written or now - self._written[rt.id] >= REWRITE_S:
                self._written[rt.id] = now

    # -- the others' points --------------------------------------------------------

    async def _poll(self) -> None:
        assert self._store is not None
        for gone in self._seen.keys() - self._store.events.keys():  # deleted events
            self._seen.pop(gone, None)
            self._remote.pop(gone, None)
            self._written.pop(gone, None)
        events = list(self._store.events.values())
        if not events:
            return
        versions = await self.client.mget([keys.presence_version(rt.id) for rt in events])
        now_ms = time.time() * 1000
        for rt, raw in zip(events, versions, strict=True):
            expired = await self.client.zrangebyscore(keys.presence_expiry(rt.id), "-inf", now_ms)
            if expired:
                # Any process may prune a dead one: the removal is idempotent.
                pipe = self.client.pipeline(transaction=False)
                for proc in expired:
                    pipe.hdel(keys.presence(rt.id), proc)
                    pipe.zrem(keys.presence_expiry(rt.id), proc)
                pipe.incr(keys.presence_version(rt.id))
                await pipe.execute()
                log.info("presence_pruned", event_id=rt.id, processes=[p.decode() for p in expired])
            # Read again when the entries changed (their version moved, or we
            # pruned some), or when the state is new (an event rebuilt after a
            # failover starts with no remote presence).
            seen = (int(raw or 0), id(rt.state))
            if not expired and self._seen.get(rt.id) == seen:
                continue
            entries = await self.client.hgetall(keys.presence(rt.id))
            self._seen[rt.id] = None if expired else seen
            self._merge(rt, entries)

    def _merge(self, rt: EventRuntime, entries: dict[bytes, bytes]) -> None:
        merged: dict[str, list[Any]] = {}
        for proc, blob in entries.items():
            if proc.decode() == self.proc_id:
                continue
            for code, (sockets, seen, offset, rtt, crowded, *more) in orjson.loads(blob).items():
                secure = more[0] if more else None  # a process that does not write it yet
                have = merged.get(code)
                if have is None:
                    merged[code] = [sockets, seen, offset, rtt, crowded, secure]
                    continue
                have[0] += sockets
                if seen is not None and (have[1] is None or seen > have[1]):
                    have[1:4] = [seen, offset, rtt]
                    if secure is not None:
                        have[5] = secure
                have[4] = have[4] or crowded
        before = self._remote.get(rt.id, {})
        state = rt.state
        for code in before.keys() - merged.keys():
            if code in state.points and pts.set_remote(state, code, 0, None, None, None):
                rt.touch(code)
        for code, (sockets, seen, offset, rtt, crowded, secure) in merged.items():
            if code in state.points and pts.set_remote(state, code, sockets, seen, offset, rtt, crowded, secure):
                rt.touch(code)
        self._remote[rt.id] = merged
