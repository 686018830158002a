"""Presence: a point's sockets, here and on the other processes of a
cluster, and its clock figures. Ephemeral (not facts, not in snapshots)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.core.errors import BadRequest
from server.core.state import EventState, Presence


def _presence(state: EventState, code: str, mutate: Callable[[Presence], None]) -> None:
    """Change a point's presence, keeping the ``online`` counters exact."""
    if code in state.points:
        state.change_point(code, lambda p: mutate(state.presence(code)))
    else:
        mutate(state.presence(code))


def connect(state: EventState, code: str, now_ms: float) -> None:
    def opened(pres: Presence) -> None:
        pres.sockets += 1
        pres.last_seen_ms = now_ms

    _presence(state, code, opened)


def refuse_connection(state: EventState, code: str) -> None:
    """A socket was refused for having too many: the console shows the point
    as "too many connections" (its link has leaked; rotate it) until the
    point has no socket left."""
    state.presence(code).crowded = True


def disconnect(state: EventState, code: str, now_ms: float) -> None:
    pres = state.presence(code)
    if pres.sockets <= 1:
        pres.crowded = False
    if pres.sockets <= 0:
        return

    def closed(pres: Presence) -> None:
        pres.sockets -= 1
        pres.last_seen_ms = now_ms

    _presence(state, code, closed)


def set_remote(state: EventState, code: str, sockets: int, last_seen_ms: float | None,
               offset_ms: float | None, rtt_ms: float | None, crowded: bool = False,
               secure: bool | None = None) -> bool:
    """What the other processes of a cluster hold of this point (their socket
    count, their newest clock figures, whether one of them refused a socket
    for too many). True if anything changed."""
    pres = state.live.presence.get(code)
    if pres is None and sockets == 0 and not crowded:
        return False
    pres = state.presence(code)
    newer = last_seen_ms is not None and (pres.last_seen_ms is None or last_seen_ms > pres.last_seen_ms)
    if pres.remote == sockets and not newer and pres.remote_crowded == crowded:
        return False

    def seen(p: Presence) -> None:
        p.remote = sockets
        p.remote_crowded = crowded
        if newer:
            p.last_seen_ms = last_seen_ms
            if offset_ms is not None and rtt_ms is not None:
                p.offset_ms, p.rtt_ms = offset_ms, rtt_ms
            if secure is not None:
                p.secure = secure

    _presence(state, code, seen)
    return True


def clock_synced(state: EventState, code: str, offset_ms: Any, rtt_ms: Any, now_ms: float,
                 secure: bool | None = None) -> None:
    """A point's clock figures, and whether its page is in a secure context
    (None: it did not say, e.g. the Python client; the last word is kept)."""
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (offset_ms, rtt_ms)):
        raise BadRequest("offset_ms and rtt_ms must be numbers", code="validation_error")
    if rtt_ms < 0:
        raise BadRequest("rtt_ms must be ≥ 0", code="validation_error")
    if secure is not None and not isinstance(secure, bool):
        raise BadRequest("secure must be true or false", code="validation_error")
    pres = state.presence(code)
    pres.offset_ms = float(offset_ms)
    pres.rtt_ms = float(rtt_ms)
    pres.last_seen_ms = now_ms
    if secure is not None:
        pres.secure = bool(secure)
