"""The process's registry: every event's runtime, and the organizers.

Loaded from the journal at start (snapshot + replay), closed on shutdown
with a final snapshot of each event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
from typing import Any

import structlog

from server.core import org as orgs
from server.core.errors import NotFound
from server.core.events import decide_create_event
from server.core.facts import EventCreated
from server.io.journal import Journal
from server.io.runtime import EventRuntime, now_ms

log = structlog.get_logger("launchday.store")


def new_token() -> str:
    """A point or organizer token: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


def new_event_id() -> str:
    return "ev-" + secrets.token_hex(4)


class Store:
    def __init__(self, journal: Journal, admin_token: str) -> None:
        self.journal = journal
        self.admin_token = admin_token
        self.events: dict[str, EventRuntime] = {}
        self.org = orgs.OrgState()
        # Last use of each organizer token (id -> server ms), for the console's
        # list. In memory and per process: not journaled (a use is not a fact),
        # lost at a restart, and with several processes each knows its own.
        self.last_used: dict[str, float] = {}
        self._org_task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self.journal.open()
        for stream in await self.journal.streams():
            if stream == orgs.ORG_STREAM:
                for seq, fact in await self.journal.read(stream):
                    orgs.apply_org(self.org, fact, seq)
                continue
            rt = await EventRuntime.load(self.journal, stream)
            self.events[rt.id] = rt
            rt.start()
            log.info("event_loaded", event_id=rt.id, seq=rt.state.seq, points=len(rt.state.points))
        self._org_task = asyncio.create_task(self._tail_org())

    async def close(self) -> None:
        if self._org_task is not None:
            self._org_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._org_task
        for rt in self.events.values():
            await rt.stop()
        await self.journal.close()

    async def _tail_org(self) -> None:
        async for entries in self.journal.tail(orgs.ORG_STREAM, self.org.seq):
            for seq, fact in entries:
                orgs.apply_org(self.org, fact, seq)

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
        await self.journal.append(event_id, [fact], expect_seq=0)
        rt = await EventRuntime.load(self.journal, event_id)
        self.events[event_id] = rt
        rt.start()
        return rt

    # -- credentials ----------------------------------------------------------

    def organizer(self, token: str) -> tuple[str, str] | None:
        """(name, role) of an organizer token, or None."""
        if not token:
            return None
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return ("admin", "admin")
        digest = orgs.token_hash(token)
        found = self.org.by_hash.get(digest)
        if found is None or found.revoked:
            return None
        self.last_used[digest[:12]] = now_ms()
        return (found.name, found.role)

    def point_by_token(self, token: str) -> tuple[EventRuntime, str] | None:
        if not token:
            return None
        for rt in self.events.values():
            code = rt.state.live.by_token.get(token)
            if code is not None:
                return rt, code
        return None

    async def issue_organizer(self, body: Any, actor: str) -> tuple[str, Any]:
        token = new_token()
        fact = orgs.decide_issue(self.org, body, token, now_ms(), actor)
        seq = await self.journal.append(orgs.ORG_STREAM, [fact])
        orgs.apply_org(self.org, fact, seq)
        return token, fact

    async def revoke_organizer(self, token_id: str, actor: str) -> None:
        fact = orgs.decide_revoke(self.org, token_id, now_ms(), actor)
        seq = await self.journal.append(orgs.ORG_STREAM, [fact])
        orgs.apply_org(self.org, fact, seq)
