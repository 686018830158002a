"""The shared journal: one Redis Stream per event, numbered by Redis.

Several ``launchday serve --redis ...`` processes append to and tail the same
streams, so they fold the same facts in the same order and act as one server
(docs/architecture.md, "Several processes on Redis").

- **Numbered where it is appended.** ``redis_lua/append.lua`` checks
  ``expect_seq``, numbers the facts and ``XADD``s them with ``<seq>-0`` as the
  entry id in one atomic step (centrifuge's ``broker_history_add_stream.lua``
  idea), so two processes can never give out the same seq.
- **Group commit.** Appends that arrive while a round trip is in flight wait
  for the next one and share it: one pipeline (not a transaction) with one
  script call per append, and ``WAIT`` on the same connection when replicas
  must confirm. Redis with ``appendfsync always`` fsyncs once for everything
  written in one pass of its event loop, so the pipeline also shares fsyncs.
- **No blind retries of appends.** An append whose outcome is unknown (the
  connection dropped, ``WAIT`` saw fewer replicas than asked) is answered with
  ``Unavailable`` and never acknowledged; the client resends the same message
  id and the fold applies it once (docs/architecture.md §2). Reads and the
  tail retry by themselves.
- **The tail** is ``XREAD BLOCK`` on its own pooled connection, resumes from
  the last seq it yielded after a reconnect, and checks that the history it
  already folded is still there (a failover to a replica that had not
  received the last writes rewinds the stream): if not, it raises
  :class:`~server.io.journal.JournalRewound` and the event rebuilds.
- **Durability is checked at start**: the server's ``appendonly`` and
  ``appendfsync`` must honour what ``--redis-durability`` asks (default
  ``always``), or the process refuses to start (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog
from redis import exceptions as rexc
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff

from server.core.errors import Conflict, Unavailable
from server.core.facts import dump_fact, parse_fact_trusted
from server.io import metrics
from server.io.journal import Entry, JournalRewound, JournalUnavailable, keys
from server.io.journal.commit import GroupCommit, fail_all

log = structlog.get_logger("launchday.journal")

DURABILITY = ("always", "everysec", "unchecked")
WRITE_TIMEOUT_S = 2.0  # an append waits at most this for Redis before it is refused (not acked)
READ_TIMEOUT_S = 10.0
TAIL_BLOCK_MS = 2_000  # below READ_TIMEOUT_S: a blocked XREAD must not look like a dead socket
TAIL_COUNT = 5_000
HEALTH_EVERY_S = 0.5
REPLICA_WAIT_MS = 1_000  # how long WAIT may hold an append for its replicas
_DOWN = (rexc.ConnectionError, rexc.TimeoutError, ConnectionError, OSError, asyncio.TimeoutError)


def reraise_cancel() -> None:
    """redis-py can turn a task's cancellation into a connection or timeout
    error, or into a normal (empty) answer (seen with 8.x: a cancelled PING
    surfaced as an error, a cancelled XREAD returned; a loop that goes on
    after either never ended). Every loop calls this after each command and
    in its error handlers, so a cancel still stops it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _script(name: str) -> str:
    return resources.files("server.io.journal.lua").joinpath(name).read_text()


APPEND_LUA = _script("append.lua")
SNAPSHOT_LUA = _script("snapshot_save.lua")


def connect(url: str, *, retries: int, socket_timeout: float) -> Redis:
    """A client for ``redis://host:port/db`` or ``redis+sentinel://h1:p1,h2:p2/service/db``
    (redis-py's own Sentinel support finds the primary on every new connection)."""
    retry = (Retry(NoBackoff(), 0) if retries == 0
             else Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries))
    common: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": 2.0,
                              "retry": retry, "health_check_interval": 0}
    parts = urlsplit(url)
    if parts.scheme in ("redis", "rediss", "unix"):
        return Redis.from_url(url, **common)
    if parts.scheme != "redis+sentinel":
        raise ValueError(f"unsupported Redis URL {url!r}: redis://host:port/db or redis+sentinel://host:port/service/db")
    hosts = []
    for item in (parts.netloc.rsplit("@", 1)[-1]).split(","):
        host, _, port = item.rpartition(":")
        hosts.append((host or "127.0.0.1", int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a Sentinel URL names its service: redis+sentinel://host:port/service/db")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    password = unquote(parts.password) if parts.password else None
    sentinel = Sentinel(hosts, sentinel_kwargs={"socket_timeout": 1.0, "socket_connect_timeout": 1.0},
                        socket_timeout=socket_timeout, socket_connect_timeout=2.0)
    return sentinel.master_for(service, db=db, password=password, retry=retry, socket_timeout=socket_timeout)


class _Pending:
    __slots__ = ("args", "expect", "future", "stream")

    def __init__(self, stream: str, expect: int | None, bodies: list[str], future: asyncio.Future[int]) -> None:
        self.stream = stream
        self.expect = expect
        self.args = ["" if expect is None else str(expect), stream, *bodies]
        self.future = future


class RedisJournal:
    shared = True  # other processes append to the same streams

    def __init__(self, url: str, *, replicas: int = 0, durability: str = "always",
                 wait_ms: int = REPLICA_WAIT_MS) -> None:
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)}")
        self.url = url
        self.replicas = replicas
        self.durability = durability
        self.wait_ms = wait_ms
        self.proc_id = f"{os.uname().nodename}:{os.getpid()}:{secrets.token_hex(3)}"
        self._w: Redis | None = None  # appends: never retried blindly
        self._r: Redis | None = None  # reads: retried by redis-py
        # Tails: not retried by redis-py, so that every reconnect passes through
        # the tail's own handler, which checks the history before going on.
        self._t: Redis | None = None
        self._append_sha = ""
        self._snapshot_sha = ""
        self._commits: GroupCommit[_Pending] = GroupCommit(self._write)
        self._health_task: asyncio.Task[None] | None = None
        self._down: str | None = None
        self._closing = False
        self._index_pos = "0-0"
        self._known: set[str] = set()
        self.clock_offset_ms: float | None = None  # this process's clock minus Redis's, at open

    @property
    def client(self) -> Redis:
        """The retrying client, for the other cluster parts (presence, leases)."""
        assert self._r is not None, "open() first"
        return self._r

    # -- lifecycle ------------------------------------------------------------

    async def open(self) -> None:
        self._w = connect(self.url, retries=0, socket_timeout=WRITE_TIMEOUT_S)
        self._r = connect(self.url, retries=3, socket_timeout=READ_TIMEOUT_S)
        self._t = connect(self.url, retries=0, socket_timeout=READ_TIMEOUT_S)
        try:
            await self._check_durability()
            await self._load_scripts()
            await self._check_clock()
            index = await self._r.xrange(keys.STREAMS)
        except _DOWN as exc:
            raise RuntimeError(f"cannot reach Redis at {self.url}: {exc}") from exc
        for entry_id, fields in index:
            self._known.add(fields[b"stream"].decode())
            self._index_pos = entry_id.decode()
        self._commits.start()
        self._health_task = asyncio.create_task(self._watch_health(), name="journal-health")

    async def _check_durability(self) -> None:
        assert self._r is not None
        if self.durability == "unchecked":
            log.warning("redis_durability_unchecked", url=self.url,
                        note="acknowledged facts may be lost on a Redis crash or power loss")
            return
        try:
            aof = (await self._r.config_get("appendonly")).get("appendonly")
            fsync = (await self._r.config_get("appendfsync")).get("appendfsync")
        except rexc.ResponseError as exc:  # CONFIG renamed or refused (managed Redis)
            raise RuntimeError(
                f"cannot read Redis's persistence settings ({exc}); if you know they are "
                "appendonly yes / appendfsync always, start with --redis-durability unchecked") from exc
        ok = aof == "yes" and (fsync == "always" or (fsync == "everysec" and self.durability == "everysec"))
        if not ok:
            raise RuntimeError(
                f"Redis at {self.url} has appendonly={aof} appendfsync={fsync}: an acknowledged check-in "
                "could be lost on a crash. Set appendonly yes and appendfsync always (docs/architecture.md), "
                "or accept up to a second of acknowledged writes lost on power loss with "
                "--redis-durability everysec")
        if fsync == "everysec":
            log.warning("redis_durability_everysec",
                        note="up to one second of acknowledged facts can be lost on power loss")

    async def _load_scripts(self) -> None:
        assert self._w is not None
        self._append_sha = await self._w.script_load(APPEND_LUA)
        self._snapshot_sha = await self._w.script_load(SNAPSHOT_LUA)

    async def _check_clock(self) -> None:
        """Every process fires the launch by its own clock: warn when this one is off."""
        assert self._r is not None
        t0 = time.time_ns() / 1e6
        sec, usec = await self._r.time()
        t1 = time.time_ns() / 1e6
        self.clock_offset_ms = (t0 + t1) / 2 - (sec * 1000 + usec / 1000)
        if abs(self.clock_offset_ms) > 20:
            log.warning("clock_differs_from_redis", offset_ms=round(self.clock_offset_ms, 1),
                        note="keep every launchday host on NTP: screens fire by their server's clock")

    async def close(self) -> None:
        self._closing = True
        await self._commits.close(timeout_s=5.0)
        if self._health_task is not None:
            self._health_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._health_task
        for client in (self._w, self._r, self._t):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()

    # -- health ------------------------------------------------------------------

    def health(self) -> str | None:
        """None when Redis answers, else why not (for /healthz)."""
        if self._closing:
            return "the journal is closed"
        return self._down

    def _mark_down(self, exc: BaseException) -> None:
        if self._down is None:
            log.error("redis_unreachable", url=self.url, error=repr(exc))
        self._down = f"Redis unreachable: {exc.__class__.__name__}: {exc}"

    async def _watch_health(self) -> None:
        assert self._w is not None
        while not self._closing:
            try:
                await self._w.ping()
            except (*_DOWN, rexc.RedisError) as exc:
                reraise_cancel()
                self._mark_down(exc)
            else:
                if self._down is not None:
                    log.info("redis_reachable_again", url=self.url)
                    with contextlib.suppress(*_DOWN, rexc.RedisError):
                        await self._load_scripts()  # a promoted replica or a restarted Redis
                self._down = None
            await asyncio.sleep(HEALTH_EVERY_S)

    # -- append with group commit -------------------------------------------------

    async def append(self, stream: str, facts: Sequence[Any], expect_seq: int | None = None) -> int:
        if self._closing or not self._commits.running:
            raise JournalUnavailable("the journal is closed")
        if self._down is not None:
            raise Unavailable("the journal cannot be reached; send again later", code="unavailable")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._commits.submit(_Pending(stream, expect_seq, [dump_fact(fact) for fact in facts], future))
        return await future

    async def _execute(self, batch: list[_Pending]) -> list[Any]:
        assert self._w is not None
        for attempt in range(2):
            pipe = self._w.pipeline(transaction=False)
            for p in batch:
                pipe.evalsha(self._append_sha, 3, keys.facts(p.stream), keys.meta(p.stream), keys.STREAMS,
                             *p.args)
            if self.replicas:
                # WAIT counts this connection's writes, so it goes in the same
                # pipeline, after them (it does not block inside a script).
                pipe.wait(self.replicas, self.wait_ms)
            results: list[Any] = await pipe.execute(raise_on_error=False)
            if attempt == 0 and results and isinstance(results[0], rexc.NoScriptError):
                # A restarted or promoted Redis has no scripts: nothing ran.
                await self._load_scripts()
                continue
            return results
        raise rexc.NoScriptError("the append script could not be loaded")

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            results = await self._execute(batch)
        except (*_DOWN, rexc.RedisError) as exc:
            if isinstance(exc, _DOWN):
                self._mark_down(exc)
            log.warning("journal_append_unknown", error=repr(exc), appends=len(batch))
            fail_all(batch, Unavailable("the journal could not confirm this write; send again with the same id",
                                        code="unavailable"))
            return
        confirmed = True
        if self.replicas:
            replicas = results.pop()
            confirmed = isinstance(replicas, int) and replicas >= self.replicas
            if not confirmed:
                metrics.ERRORS.labels("replica_wait").inc()
                log.warning("journal_replica_wait_short", wanted=self.replicas, got=replicas)
        appended = 0
        for p, result in zip(batch, results, strict=True):
            if p.future.done():
                continue
            if isinstance(result, Exception):
                p.future.set_exception(Unavailable(f"the journal refused the write: {result}", code="unavailable"))
            elif int(result[0]) == 0:
                p.future.set_exception(Conflict("the state changed meanwhile; try again", code="seq_conflict"))
            elif not confirmed:
                # Written on the primary, not known to be on a replica: a
                # failover now could lose it, so it is not acknowledged. The
                # client resends the same id; the fold applies it once.
                p.future.set_exception(Unavailable(
                    f"not yet confirmed by {self.replicas} replica(s); send again with the same id",
                    code="unavailable"))
            else:
                appended += len(p.args) - 2
                p.future.set_result(int(result[1]))
        metrics.JOURNAL_APPENDS.inc(appended)

    # -- reading -------------------------------------------------------------------

    @staticmethod
    def _entries(raw: list[Any]) -> list[tuple[int, bytes]]:
        return [(keys.seq_of(entry_id), fields[b"f"]) for entry_id, fields in raw]

    async def _read_raw(self, stream: str, after_seq: int) -> list[tuple[int, bytes]]:
        assert self._r is not None
        out: list[tuple[int, bytes]] = []
        start = f"({keys.entry_id(after_seq)}" if after_seq else "-"
        while True:
            raw = await self._r.xrange(keys.facts(stream), min=start, max="+", count=TAIL_COUNT)
            if not raw:
                return out
            out.extend(self._entries(raw))
            start = f"({raw[-1][0].decode()}"

    async def read(self, stream: str, after_seq: int = 0) -> list[Entry]:
        try:
            raw = await self._read_raw(stream, after_seq)
        except _DOWN as exc:
            self._mark_down(exc)
            raise Unavailable("the journal cannot be reached", code="unavailable") from exc
        return [(seq, parse_fact_trusted(body)) for seq, body in raw]

    async def tail(self, stream: str, after_seq: int) -> AsyncIterator[list[Entry]]:
        assert self._t is not None
        key = keys.facts(stream)
        position = after_seq
        last_digest: bytes | None = None
        backoff = 0.05
        verify = False
        while True:
            try:
                if verify:
                    await self._verify(stream, position, last_digest)
                    verify = False
                resp = await self._t.xread({key: keys.entry_id(position)}, count=TAIL_COUNT, block=TAIL_BLOCK_MS)
                reraise_cancel()  # a cancel that redis-py turned into an empty answer
            except _DOWN as exc:
                reraise_cancel()
                self._mark_down(exc)
                verify = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            if not resp:
                continue
            raw = self._entries(resp[0][1])
            for seq, _ in raw:
                position += 1
                if seq != position:
                    raise JournalRewound(f"stream {stream}: expected seq {position}, got {seq}")
            last_digest = hashlib.blake2b(raw[-1][1], digest_size=16).digest()
            yield [(seq, parse_fact_trusted(body)) for seq, body in raw]

    async def _verify(self, stream: str, position: int, digest: bytes | None) -> None:
        """After a reconnect: is the history this tail already yielded still there?"""
        if position == 0:
            return
        assert self._t is not None
        found = await self._t.xrange(keys.facts(stream), min=keys.entry_id(position),
                                     max=keys.entry_id(position), count=1)
        if not found:
            raise JournalRewound(f"stream {stream}: seq {position} is gone (a failover lost writes)")
        if digest is not None and hashlib.blake2b(found[0][1][b"f"], digest_size=16).digest() != digest:
            raise JournalRewound(f"stream {stream}: seq {position} was rewritten (a failover lost writes)")

    async def streams(self) -> list[str]:
        return sorted(self._known)

    async def new_streams(self) -> AsyncIterator[str]:
        """Streams created after ``open``, by this process or any other."""
        assert self._t is not None
        backoff = 0.05
        while True:
            try:
                resp = await self._t.xread({keys.STREAMS: self._index_pos}, count=100, block=TAIL_BLOCK_MS)
                reraise_cancel()
            except _DOWN as exc:
                reraise_cancel()
                self._mark_down(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            for entry_id, fields in resp[0][1] if resp else ():
                self._index_pos = entry_id.decode()
                name = fields[b"stream"].decode()
                if name not in self._known:
                    self._known.add(name)
                    yield name

    async def last_seq(self, stream: str) -> int:
        assert self._r is not None
        try:
            return int(await self._r.hget(keys.meta(stream), "seq") or 0)
        except _DOWN as exc:
            self._mark_down(exc)
            raise Unavailable("the journal cannot be reached", code="unavailable") from exc

    async def save_snapshot(self, stream: str, seq: int, data: bytes) -> None:
        assert self._w is not None
        await self._w.evalsha(self._snapshot_sha, 1, keys.snapshot(stream), seq, data)

    async def load_snapshot(self, stream: str) -> tuple[int, bytes] | None:
        assert self._r is not None
        seq, data = await self._r.hmget(keys.snapshot(stream), ["seq", "data"])
        return (int(seq), bytes(data)) if seq is not None and data is not None else None

    async def try_lease(self, stream: str, name: str, ttl_ms: int) -> bool:
        """True for exactly one caller in the cluster until ``ttl_ms`` passes."""
        assert self._w is not None
        return bool(await self._w.set(keys.lease(stream, name), self.proc_id, nx=True, px=ttl_ms))
