"""Key holders: the people who press the launch's keys from their own page.

An operator adds a key holder to an event ("Chủ tịch UBND tỉnh"); the I/O
shell makes a random token and the holder's link ``/k/<token>``, shown once
(only the token's hash is journaled, like organizer tokens). With that token
the holder can read their own page and press their own key, with their own
name as the key, and nothing else. Revoking a holder stops the link at once
(docs/protocol.md#key-holders).

Pure: the token comes in from the shell; the holder's id is derived from the
token's hash, so deciding the same addition twice names the same holder.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Conflict, NotFound
from server.core.fields import known_fields
from server.core.state import EventState, Extension
from server.core.text import clean, fold

MAX_NAME = 100  # a launch key's name (server/core/launch.py MAX_KEY) is at most this
MAX_HOLDERS = 20
ADD_FIELDS = ("name",)  # the body of POST keyholders


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class KeyHolder:
    id: str
    name: str
    token_hash: str
    added_ms: float
    added_by: str | None = None
    revoked_ms: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_ms is None


@dataclass(slots=True)
class KeyHolders:
    by_id: dict[str, KeyHolder] = field(default_factory=dict)
    by_hash: dict[str, str] = field(default_factory=dict)  # token hash -> id


def holders_of(state: EventState) -> KeyHolders:
    holders = state.ext.get("keyholders")
    if holders is None:
        holders = state.ext["keyholders"] = KeyHolders()
    return holders


def decide_add(state: EventState, body: Any, token: str, now_ms: float, actor: str | None) -> f.KeyHolderAdded:
    """``POST /api/events/{eid}/keyholders`` with ``{"name"}``. Names are
    distinct among active holders (ignoring case and diacritics), as launch
    keys are."""
    raw = known_fields(body, ADD_FIELDS).get("name") if isinstance(body, dict) else None
    name = clean(raw) if isinstance(raw, str) else ""
    if not name or len(name) > MAX_NAME:
        raise BadRequest(f"name is required (at most {MAX_NAME} characters)", code="validation_error",
                         details=[{"field": "name", "message": "required"}])
    holders = holders_of(state)
    active = [h for h in holders.by_id.values() if h.active]
    if any(fold(h.name) == fold(name) for h in active):
        raise Conflict(f"a key holder named {name!r} exists", code="duplicate_keyholder")
    if len(active) >= MAX_HOLDERS:
        raise Conflict(f"at most {MAX_HOLDERS} key holders", code="too_many_keyholders")
    digest = token_hash(token)
    return f.KeyHolderAdded(at_ms=now_ms, actor=actor, keyholder_id="k-" + digest[:10], name=name,
                            token_hash=digest)


def decide_revoke(state: EventState, keyholder_id: str, now_ms: float, actor: str | None) -> f.KeyHolderRevoked:
    holder = holders_of(state).by_id.get(keyholder_id)
    if holder is None or not holder.active:
        raise NotFound(f"no active key holder {keyholder_id!r}", code="keyholder_not_found")
    return f.KeyHolderRevoked(at_ms=now_ms, actor=actor, keyholder_id=keyholder_id, name=holder.name)


def find_by_token(state: EventState, token: str) -> KeyHolder | None:
    """The active key holder of this token, or None."""
    holders = holders_of(state)
    kid = holders.by_hash.get(token_hash(token))
    holder = holders.by_id.get(kid) if kid else None
    return holder if holder is not None and holder.active else None


def keyholder_view(holder: KeyHolder) -> dict[str, Any]:
    return {"id": holder.id, "name": holder.name, "added_ms": holder.added_ms, "added_by": holder.added_by,
            "revoked_ms": holder.revoked_ms, "revoked": not holder.active}


def keyholders_view(state: EventState) -> list[dict[str, Any]]:
    return [keyholder_view(h) for h in sorted(holders_of(state).by_id.values(), key=lambda h: h.added_ms)]


# -- the folds (listed in server/core/fold.py) -----------------------------------------------


def apply_added(state: EventState, fact: f.KeyHolderAdded) -> None:
    holders = holders_of(state)
    if fact.keyholder_id in holders.by_id:
        return  # the same addition decided twice
    holders.by_id[fact.keyholder_id] = KeyHolder(fact.keyholder_id, fact.name, fact.token_hash, fact.at_ms,
                                                 fact.actor)
    holders.by_hash[fact.token_hash] = fact.keyholder_id


def apply_revoked(state: EventState, fact: f.KeyHolderRevoked) -> None:
    holder = holders_of(state).by_id.get(fact.keyholder_id)
    if holder is not None and holder.active:
        holder.revoked_ms = fact.at_ms


class _KeyHoldersExtension(Extension):
    def dump(self, state: EventState) -> Any:
        holders = state.ext.get("keyholders")
        return [asdict(h) for h in holders.by_id.values()] if holders else None

    def load(self, state: EventState, data: Any) -> None:
        holders = holders_of(state)
        for item in data:
            holder = KeyHolder(**item)
            holders.by_id[holder.id] = holder
            holders.by_hash[holder.token_hash] = holder.id


EXTENSION = _KeyHoldersExtension()
