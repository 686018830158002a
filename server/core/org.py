"""Organizers and their roles: tokens issued and revoked (stream ``_org``).

Roles nest: a viewer sees everything and changes nothing; an operator also
runs the ceremony (agenda, launch, notices, incidents); an admin also manages
events, points and tokens (docs/protocol.md#authentication).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Forbidden, NotFound
from server.core.text import clean

ORG_STREAM = "_org"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class Organizer:
    name: str
    role: str
    issued_ms: float
    revoked: bool = False


@dataclass(slots=True)
class OrgState:
    seq: int = 0
    by_hash: dict[str, Organizer] = field(default_factory=dict)


def role_allows(role: str, needed: str) -> bool:
    return f.ROLES.index(role) >= f.ROLES.index(needed)


def require(role: str | None, needed: str) -> None:
    if role is None or not role_allows(role, needed):
        raise Forbidden(f"this needs the {needed} role", code="forbidden")


def decide_issue(org: OrgState, body: Any, token: str, now_ms: float, actor: str | None) -> f.OrganizerTokenIssued:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="validation_error")
    name = clean(body.get("name"))
    role = body.get("role")
    if not name or len(name) > 100:
        raise BadRequest("name is required (at most 100 characters)", code="validation_error")
    if role not in f.ROLES:
        raise BadRequest(f"role must be one of {', '.join(f.ROLES)}", code="validation_error")
    return f.OrganizerTokenIssued(at_ms=now_ms, actor=actor, token_hash=token_hash(token), name=name, role=role)


def decide_revoke(org: OrgState, hash_prefix: str, now_ms: float, actor: str | None) -> f.OrganizerTokenRevoked:
    matches = [h for h, o in org.by_hash.items() if h.startswith(hash_prefix) and not o.revoked]
    if len(hash_prefix) < 8 or len(matches) != 1:
        raise NotFound("no such organizer token", code="not_found")
    return f.OrganizerTokenRevoked(at_ms=now_ms, actor=actor, token_hash=matches[0])


def apply_org(org: OrgState, fact: Any, seq: int) -> None:
    if isinstance(fact, f.OrganizerTokenIssued):
        org.by_hash[fact.token_hash] = Organizer(fact.name, fact.role, fact.at_ms)
    elif isinstance(fact, f.OrganizerTokenRevoked):
        if fact.token_hash in org.by_hash:
            org.by_hash[fact.token_hash].revoked = True
    else:  # never skipped: a process that cannot fold it must stop, not diverge
        raise ValueError(f"unknown organizer fact type {getattr(fact, 'type', fact)!r} at seq {seq}")
    org.seq = seq


def organizers_view(org: OrgState) -> list[dict[str, Any]]:
    return [
        {"id": h[:12], "name": o.name, "role": o.role, "issued_ms": o.issued_ms, "revoked": o.revoked}
        for h, o in org.by_hash.items()
    ]
