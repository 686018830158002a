"""The process's registry: every event's runtime, and the organizers.

Loaded from the journal at start (snapshot + replay), closed on shutdown
with a final snapshot of each event. While it runs, it follows the journal's
index of streams, so an event created by another process sharing the journal
appears here too; an event created here appears the same way (``create_event``
waits for it), so there is one path for both.

Organizer facts, like event facts, are folded only from the tail: the
appender waits until its own tail has folded them (docs/architecture.md §1).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
from typing import Any

import structlog

from server.core import org as orgs
from server.core.errors import LaunchdayError, NotFound
from server.core.events import decide_create_event
from server.core.facts import EventCreated
from server.io import gcpolicy
from server.io.clock import now_ms
from server.io.journal import Journal
from server.io.presence import LocalPresence
from server.io.runtime import EventRuntime
from server.io.ws.hub import CLOSE_TOKEN_REVOKED

log = structlog.get_logger("launchday.store")


CATCH_UP_S = 2.0  # how long a lookup waits for this process to fold the others' writes


def new_token() -> str:
    """A point or organizer token: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


def new_event_id() -> str:
    return "ev-" + secrets.token_hex(4)


class Store:
    def __init__(self, journal: Journal, admin_token: str, presence: Any = None) -> None:
        self.journal = journal
        self.admin_token = admin_token
        self.presence = presence if presence is not None else LocalPresence()
        self.events: dict[str, EventRuntime] = {}
        self.org = orgs.OrgState()
        self._tasks: list[asyncio.Task[None]] = []
        self._event_waiters: dict[str, list[asyncio.Future[EventRuntime]]] = {}
        self._org_waiters: list[tuple[int, asyncio.Future[None]]] = []
        # Last use of each organizer token (id -> server ms), for the console's
        # list. In memory and per process: not journaled (a use is not a fact),
        # lost at a restart, and with several processes each knows its own.
        self.last_used: dict[str, float] = {}
        self._loading: dict[str, asyncio.Future[EventRuntime]] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._deleted: set[str] = set()  # events whose deletion was folded: never loaded again

    async def open(self) -> None:
        await self.journal.open()
        for stream in await self.journal.streams():
            if stream == orgs.ORG_STREAM:
                for seq, fact in await self.journal.read(stream):
                    orgs.apply_org(self.org, fact, seq)
                continue
            await self._ensure_event(stream)
        if self.shared:
            await self._share_admin_token()
        self._tasks = [asyncio.create_task(self._tail_org(), name="tail-org"),
                       asyncio.create_task(self._follow_streams(), name="follow-streams")]
        await self.presence.start(self)

    async def close(self) -> None:
        await self.presence.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for rt in self.events.values():
            await rt.stop()
        await self.journal.close()

    async def _share_admin_token(self) -> None:
        """In a cluster, the first admin token of each process (from the
        environment or its data directory) is registered in the shared
        organizers' stream, by its hash only, so every process accepts it."""
        digest = orgs.token_hash(self.admin_token)
        if digest in self.org.by_hash:
            return
        fact = orgs.decide_issue(self.org, {"name": "admin", "role": "admin"}, self.admin_token, now_ms(), None)
        seq = await self.journal.append(orgs.ORG_STREAM, [fact])
        for s, f in await self.journal.read(orgs.ORG_STREAM, self.org.seq):
            if s > self.org.seq:
                orgs.apply_org(self.org, f, s)
        log.info("admin_token_shared", org_seq=seq)

    def health(self) -> str | None:
        """None when this process can acknowledge writes, else why not (/healthz)."""
        reason = self.journal.health()
        if reason is not None:
            return reason
        for task in self._tasks:
            if task.done() and not task.cancelled():
                return f"{task.get_name()} stopped: {task.exception()!r}"
        for rt in self.events.values():
            if rt.failed is not None:
                return f"event {rt.id}: {rt.failed}"
        return None

    @property
    def shared(self) -> bool:
        """True when other processes append to the same journal (Redis)."""
        return bool(getattr(self.journal, "shared", False))

    async def _ensure_event(self, stream: str) -> EventRuntime:
        """The event's runtime, loaded once however many callers ask at once."""
        rt = self.events.get(stream)
        if rt is not None:
            return rt
        loading = self._loading.get(stream)
        if loading is None:
            loading = self._loading[stream] = asyncio.ensure_future(self._add_event(stream))
            loading.add_done_callback(lambda _: self._loading.pop(stream, None))
        return await asyncio.shield(loading)

    async def catch_up(self, event_id: str | None = None, timeout_s: float = CATCH_UP_S) -> bool:
        """Read your writes across processes: fold what other processes have
        appended up to now (one event, or every event). Without it, a request
        that follows a write but lands on another process (through a load
        balancer) could be told 404 (an event or a point created a moment
        ago) or 401 (a point imported a moment ago, whose device would then
        stop for good). True when the event(s) are caught up; False with one
        process (nothing to catch up), for an event that does not exist, or
        when Redis does not answer in ``timeout_s``."""
        if not self.shared:
            return False
        try:
            if event_id is not None and event_id not in self.events:
                if event_id in self._deleted or not event_id.startswith("ev-") or await self.journal.last_seq(event_id) == 0:
                    return False
                await asyncio.wait_for(self._ensure_event(event_id), timeout_s)
                if event_id not in self.events:
                    return False  # deleted
            runtimes = [self.events[event_id]] if event_id is not None else list(self.events.values())
            tops = [await self.journal.last_seq(rt.id) for rt in runtimes]
            await asyncio.wait_for(asyncio.gather(*(rt.wait_seq(top) for rt, top in zip(runtimes, tops, strict=True))),
                                   timeout_s)
            streams = set(await self.journal.streams())
            for stream in streams - self.events.keys() - self._deleted - {orgs.ORG_STREAM}:
                if event_id is None:
                    await asyncio.wait_for(self._ensure_event(stream), timeout_s)
        except (TimeoutError, LaunchdayError):
            return False
        return True

    async def _add_event(self, stream: str) -> EventRuntime:
        rt = await EventRuntime.load(self.journal, stream)
        if rt.state.info.deleted_ms is not None:
            self._deleted.add(rt.id)
            log.info("event_deleted_skipped", event_id=rt.id)
            return rt  # gone: never listed, never tailed
        rt.presence_board = self.presence
        rt.on_deleted = self._let_go
        self.events[rt.id] = rt
        rt.start()
        log.info("event_loaded", event_id=rt.id, seq=rt.state.seq, points=len(rt.state.points))
        for future in self._event_waiters.pop(rt.id, []):
            if not future.done():
                future.set_result(rt)
        return rt

    def _let_go(self, rt: EventRuntime) -> None:
        """The event's deletion was folded (here or in another process): it
        leaves this process's lists now, its tail and timers stop in a task of
        their own (this runs inside its tail), and the collector is asked to
        release its frozen objects."""
        self._deleted.add(rt.id)
        if self.events.get(rt.id) is rt:
            del self.events[rt.id]
        task = asyncio.get_running_loop().create_task(self._stop_deleted(rt))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _stop_deleted(self, rt: EventRuntime) -> None:
        await rt.stop()
        gcpolicy.request_refreeze(self, "event deleted")
        log.info("event_deleted", event_id=rt.id)

    async def _follow_streams(self) -> None:
        """Events created after start, here or by another process."""
        async for stream in self.journal.new_streams():
            if stream != orgs.ORG_STREAM and stream not in self._deleted:
                await self._ensure_event(stream)

    async def _tail_org(self) -> None:
        async for entries in self.journal.tail(orgs.ORG_STREAM, self.org.seq):
            for seq, fact in entries:
                if seq > self.org.seq:
                    orgs.apply_org(self.org, fact, seq)
                    if fact.type == "org.token_revoked":
                        self._close_revoked(fact.token_hash)
            ready = [w for w in self._org_waiters if w[0] <= self.org.seq]
            self._org_waiters = [w for w in self._org_waiters if w[0] > self.org.seq]
            for _, future in ready:
                if not future.done():
                    future.set_result(None)

    def _close_revoked(self, token_hash: str) -> None:
        """A revoked token's consoles close at once, on every process (each
        folds the revocation from its own tail of ``_org``)."""
        closed = sum(rt.room.close_holder(token_hash, CLOSE_TOKEN_REVOKED, "token revoked")
                     for rt in self.events.values())
        if closed:
            log.info("revoked_consoles_closed", token=token_hash[:12], sockets=closed)

    async def _commit_org(self, fact: Any, *more: Any) -> int:
        """Append organizer facts; return once the org tail has folded them."""
        seq = await self.journal.append(orgs.ORG_STREAM, [fact, *more])
        if self.org.seq < seq:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._org_waiters.append((seq, future))
            await future
        return seq

    # -- events -------------------------------------------------------------

    def event(self, event_id: str) -> EventRuntime:
        rt = self.events.get(event_id)
        if rt is None:
            raise NotFound(f"no event {event_id!r}", code="event_not_found")
        return rt

    def latest_event(self) -> EventRuntime | None:
        if not self.events:
            return None
        return max(self.events.values(), key=lambda rt: rt.state.info.created_ms)

    def event_or_latest(self, event_id: str | None) -> EventRuntime:
        """The named event, or the most recently created one (``?event=`` is optional)."""
        rt = self.event(event_id) if event_id else self.latest_event()
        if rt is None:
            raise NotFound("there is no event yet", code="event_not_found")
        return rt

    async def create_event(self, body: Any, actor: str | None) -> EventRuntime:
        event_id = new_event_id()
        fact: EventCreated = decide_create_event(event_id, body, now_ms(), actor)
        future: asyncio.Future[EventRuntime] = asyncio.get_running_loop().create_future()
        self._event_waiters.setdefault(event_id, []).append(future)
        try:
            await self.journal.append(event_id, [fact], expect_seq=0)
            return self.events.get(event_id) or await future
        finally:
            waiters = self._event_waiters.get(event_id)
            if waiters and future in waiters:
                waiters.remove(future)

    # -- credentials ----------------------------------------------------------

    def organizer(self, token: str) -> orgs.Holder | None:
        """Who holds an organizer token (name, role, its hash, a desk's scope), or None."""
        if not token:
            return None
        digest = orgs.token_hash(token)
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return orgs.Holder("admin", "admin", digest, None)
        found = self.org.by_hash.get(digest)
        if found is None or found.revoked:
            return None
        self.last_used[digest[:12]] = now_ms()
        return orgs.Holder(found.name, found.role, digest, found.scope)

    async def find_point(self, token: str) -> tuple[EventRuntime, str] | None:
        """``point_by_token``, caught up with the other processes on a miss."""
        found = self.point_by_token(token)
        # Point tokens are 27 characters (new_token); a shorter one is not
        # worth a round trip to Redis.
        if found is None and len(token) >= 20 and await self.catch_up():
            found = self.point_by_token(token)
        return found

    def point_by_token(self, token: str) -> tuple[EventRuntime, str] | None:
        if not token:
            return None
        for rt in self.events.values():
            code = rt.state.live.by_token.get(token)
            if code is not None:
                return rt, code
        return None

    def points_of(self, event_id: str) -> Any:
        """An event's point codes (for a desk's scope), None if there is no such event."""
        rt = self.events.get(event_id)
        return None if rt is None else rt.state.points

    async def issue_organizer(self, body: Any, actor: str) -> tuple[str, Any]:
        token = new_token()
        fact = orgs.decide_issue(self.org, body, token, now_ms(), actor, self.points_of)
        await self._commit_org(fact)
        return token, fact

    async def issue_desks(self, rt: EventRuntime, body: Any, actor: str) -> Any:
        """Desks in bulk (server/core/desks.py): one durable append for all of them."""
        from server.core.desks import decide_desks

        bulk = decide_desks(self.org, rt.state, body, new_token, now_ms(), actor)
        if bulk.created:
            await self._commit_org(*(d.fact for d in bulk.created))
        return bulk

    async def revoke_organizer(self, token_id: str, actor: str) -> None:
        fact = orgs.decide_revoke(self.org, token_id, now_ms(), actor)
        await self._commit_org(fact)
