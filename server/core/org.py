"""Organizers and their roles: tokens issued and revoked, browser sessions
opened and closed (stream ``_org``).

Roles nest: a viewer sees everything and changes nothing; an operator also
runs the ceremony (agenda, launch, notices, incidents); an admin also manages
events, points and tokens (docs/protocol.md#authentication).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Forbidden, NotFound
from server.core.fields import known_fields
from server.core.scope import Scope
from server.core.text import clean

ORG_STREAM = "_org"
ISSUE_FIELDS = ("name", "role", "scope")  # the body of POST /api/tokens
SCOPE_FIELDS = ("event", "point")  # a desk's scope (docs/protocol.md#desks)
LOGIN_FIELDS = ("token",)  # the body of POST /api/session
SESSION_TTL_MS = 12 * 3600 * 1000  # a browser session lasts one launch morning, then log in again


def token_hash(token: str) -> str:
    """SHA-256, unsalted: tokens and session ids are 160+ random bits, so a
    slow password hash would add nothing; only the hash is ever stored."""
    # surrogatepass: a JSON body may carry a lone surrogate ("\ud800"); it
    # hashes to something no real token matches instead of raising.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(slots=True)
class Organizer:
    name: str
    role: str
    issued_ms: float
    revoked: bool = False
    scope: Scope | None = None  # a desk: one point and its subtree, in one event


@dataclass(frozen=True, slots=True)
class Holder:
    """Who presents a valid organizer credential."""

    name: str
    role: str
    token_hash: str  # of the token (or the token a session stands for): its sockets close when it is revoked
    scope: Scope | None = None


@dataclass(slots=True)
class Session:
    token_hash: str
    expires_ms: float
    closed: bool = False


@dataclass(slots=True)
class OrgState:
    seq: int = 0
    by_hash: dict[str, Organizer] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)  # token hashes, even if seen before their issue
    closed: set[str] = field(default_factory=set)  # session hashes, likewise


def role_allows(role: str, needed: str) -> bool:
    return f.ROLES.index(role) >= f.ROLES.index(needed)


def require(role: str | None, needed: str) -> None:
    if role is None or not role_allows(role, needed):
        raise Forbidden(f"this needs the {needed} role", code="forbidden")


def decide_issue(org: OrgState, body: Any, token: str, now_ms: float, actor: str | None,
                 points_of: Callable[[str], Container[str] | None] | None = None) -> f.OrganizerTokenIssued:
    """``POST /api/tokens``. With ``scope``, a desk: ``points_of(event)`` gives
    that event's point codes (None: no such event)."""
    body = known_fields(body, ISSUE_FIELDS)
    name = clean(body.get("name"))
    role = body.get("role")
    if not name or len(name) > 100:
        raise BadRequest("name is required (at most 100 characters)", code="validation_error")
    if role not in f.ROLES:
        raise BadRequest(f"role must be one of {', '.join(f.ROLES)}", code="validation_error")
    scope = None
    if body.get("scope") is not None:
        scope = parse_scope(body["scope"], role, points_of)
    return f.OrganizerTokenIssued(at_ms=now_ms, actor=actor, token_hash=token_hash(token), name=name, role=role,
                                  scope=f.DeskScope(event=scope.event, point=scope.point) if scope else None)


def parse_scope(raw: Any, role: str, points_of: Callable[[str], Container[str] | None] | None) -> Scope:
    """A desk's scope: ``{"event", "point"}``, naming a point of an existing
    event; never on an admin token (an admin manages the whole province)."""
    body = known_fields(raw, SCOPE_FIELDS, what="scope")
    event, point = body.get("event"), body.get("point")
    if not isinstance(event, str) or not event or not isinstance(point, str) or not point:
        raise BadRequest("scope needs an event id and a point code", code="validation_error",
                         details=[{"field": "scope", "message": "{\"event\": \"<eid>\", \"point\": \"<code>\"}"}])
    if role == "admin":
        raise BadRequest("an admin token cannot be scoped: give a desk the operator or viewer role",
                         code="admin_unscoped")
    points = points_of(event) if points_of is not None else None
    if points is None:
        raise NotFound(f"no event {event!r}", code="event_not_found")
    if point not in points:
        raise NotFound(f"no point {point!r} in event {event!r}", code="point_not_found")
    return Scope(event, point)


def decide_revoke(org: OrgState, hash_prefix: str, now_ms: float, actor: str | None) -> f.OrganizerTokenRevoked:
    matches = [h for h, o in org.by_hash.items() if h.startswith(hash_prefix) and not o.revoked]
    if len(hash_prefix) < 8 or len(matches) != 1:
        raise NotFound("no such organizer token", code="not_found")
    return f.OrganizerTokenRevoked(at_ms=now_ms, actor=actor, token_hash=matches[0])


def decide_open_session(holder_hash: str, session_id: str, now_ms: float, actor: str) -> f.SessionOpened:
    """A session for the holder of the token whose hash is ``holder_hash``;
    ``session_id`` is random, made by the I/O shell, and only its hash is kept."""
    return f.SessionOpened(at_ms=now_ms, actor=actor, session_hash=token_hash(session_id),
                           token_hash=holder_hash, expires_ms=now_ms + SESSION_TTL_MS)


def decide_close_session(org: OrgState, session_id: str, now_ms: float) -> f.SessionClosed | None:
    """Logging out: None if there is nothing to close (unknown or already closed)."""
    h = token_hash(session_id)
    s = org.sessions.get(h)
    if s is None or s.closed:
        return None
    return f.SessionClosed(at_ms=now_ms, session_hash=h)


def session_holder(org: OrgState, session_id: str, now_ms: float) -> str | None:
    """The token hash a live session stands for: None if the session is
    unknown, closed or expired. Whether that token is still valid is the
    caller's question (the first admin token is not in ``by_hash``)."""
    if not session_id or len(session_id) > 200:
        return None
    h = token_hash(session_id)
    s = org.sessions.get(h)
    if s is None or s.closed or now_ms >= s.expires_ms:
        return None
    return s.token_hash


def lookup(org: OrgState, token: str) -> Organizer | None:
    """The live organizer holding ``token``. Tokens are looked up by their
    SHA-256: a dict probe compares hashes, whose prefixes an attacker cannot
    steer towards a stored one, so its timing tells nothing about a token
    (the first admin token, kept in clear, is compared with
    ``hmac.compare_digest`` in ``same_secret``)."""
    if not token or len(token) > 200:
        return None
    found = org.by_hash.get(token_hash(token))
    if found is None or found.revoked:
        return None
    return found


def same_secret(a: str, b: str) -> bool:
    """Constant-time equality of two secrets."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def holder_of_hash(org: OrgState, h: str) -> Organizer | None:
    found = org.by_hash.get(h)
    return None if found is None or found.revoked else found


def apply_org(org: OrgState, fact: Any, seq: int) -> None:
    """Fold one ``_org`` fact. Each fact is applied so that order and
    repetition do not matter (a process applies its own append at once and
    again when its tail delivers it): a revocation or a logout seen before its
    issue still wins."""
    if isinstance(fact, f.OrganizerTokenIssued):
        if fact.token_hash not in org.by_hash:
            scope = Scope(fact.scope.event, fact.scope.point) if fact.scope is not None else None
            org.by_hash[fact.token_hash] = Organizer(fact.name, fact.role, fact.at_ms,
                                                     revoked=fact.token_hash in org.revoked, scope=scope)
    elif isinstance(fact, f.OrganizerTokenRevoked):
        org.revoked.add(fact.token_hash)
        if fact.token_hash in org.by_hash:
            org.by_hash[fact.token_hash].revoked = True
    elif isinstance(fact, f.SessionOpened):
        if fact.session_hash not in org.sessions:
            org.sessions[fact.session_hash] = Session(fact.token_hash, fact.expires_ms,
                                                      closed=fact.session_hash in org.closed)
    elif isinstance(fact, f.SessionClosed):
        org.closed.add(fact.session_hash)
        if fact.session_hash in org.sessions:
            org.sessions[fact.session_hash].closed = True
    else:  # never skipped: a process that cannot fold it must stop, not diverge
        raise ValueError(f"unknown organizer fact type {getattr(fact, 'type', fact)!r} at seq {seq}")
    org.seq = max(org.seq, seq)


def organizers_view(org: OrgState) -> list[dict[str, Any]]:
    return [
        {"id": h[:12], "name": o.name, "role": o.role, "issued_ms": o.issued_ms, "revoked": o.revoked,
         "scope": o.scope.view() if o.scope else None}
        for h, o in org.by_hash.items()
    ]


def desks_of(org: OrgState, event: str) -> list[tuple[str, Organizer]]:
    """(token hash, organizer) of every desk of ``event``, revoked ones too, oldest first."""
    return sorted(((h, o) for h, o in org.by_hash.items() if o.scope is not None and o.scope.event == event),
                  key=lambda item: item[1].issued_ms)
