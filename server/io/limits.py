"""The numbers of docs/protocol.md#limits, and the per-app buckets that
enforce them.

Every bucket here is in the memory of one process. With several processes
each keeps its own: a point spread over N processes may send N times the
rate, and an address or a wrong credential may fail N times as often (a leaked link is still
capped per process, and by the socket limit below). Socket counts are
cluster-wide: ``point_sockets`` adds what the other processes hold of the
point (presence shared through Redis, server/io/presence.py), as of their
last publication (at most a few hundred milliseconds old).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.core.limits import Buckets

MAX_POINT_SOCKETS = 8  # simultaneous sockets per point token: a phone, a projector, a spare, and room
POINT_RATE_PER_S = 10.0  # mutations a point may sustain (a person taps far slower)
POINT_BURST = 20  # an outbox flushing after a reconnect
# Failed authentications (a wrong or revoked token: organizer, key holder, log-in).
# A valid credential is never limited: these slow only the wrong ones.
AUTH_FAIL_PER_S = 1 / 6  # one wrong credential presented again: 10 a minute...
AUTH_FAIL_BURST = 10  # ...after 10 in a row
AUTH_ADDRESS_FAIL_PER_S = 1 / 2  # wrong credentials of any kind from one address: one every 2 s...
AUTH_ADDRESS_FAIL_BURST = 30  # ...after 30 in a row (a hall's devices share one NAT address)
MAX_JSON_BODY = 64 * 1024
MAX_FRAME = 64 * 1024  # the largest WebSocket frame any socket takes
HEARTBEAT_S = 20.0  # a dead phone (no pong) is closed and shown offline within ~30 s
MAX_IMPORT_BODY = 5_000_000  # 5 MB: a sheet of tens of thousands of points is well under 1 MB


class Guard:
    """The buckets of one application (one process)."""

    def __init__(self) -> None:
        self.mutations = Buckets(POINT_RATE_PER_S, POINT_BURST)
        self.auth_failures = Buckets(AUTH_ADDRESS_FAIL_PER_S, AUTH_ADDRESS_FAIL_BURST)  # per client address
        self.credential_failures = Buckets(AUTH_FAIL_PER_S, AUTH_FAIL_BURST)  # per wrong credential (its hash)


GUARD_KEY: web.AppKey[Guard] = web.AppKey("guard", Guard)


def guard_of(request: web.Request) -> Guard:
    return request.app[GUARD_KEY]


def point_sockets(rt: Any, code: str) -> int:
    """How many sockets the point ``code`` of event ``rt`` has open, here and
    on the other processes of a cluster."""
    pres = rt.state.live.presence.get(code)
    return len(rt.room.points.get(code, ())) + (pres.remote if pres is not None else 0)
