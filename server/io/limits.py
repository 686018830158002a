"""The numbers of docs/protocol.md#limits, and the per-app buckets that
enforce them.

Every bucket and count here is in the memory of one process. With several
processes each keeps its own: a point spread over N processes may send N
times the rate, and an address may fail N times as often. Socket counts go
through ``point_sockets`` alone, the one seam where a cluster-wide count
(presence shared through Redis) replaces the local one.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.core.limits import Buckets

MAX_POINT_SOCKETS = 8  # simultaneous sockets per point token: a phone, a projector, a spare, and room
POINT_RATE_PER_S = 10.0  # mutations a point may sustain (a person taps far slower)
POINT_BURST = 20  # an outbox flushing after a reconnect
AUTH_FAIL_PER_S = 1 / 6  # failed organizer logins an address gets back: 10 a minute...
AUTH_FAIL_BURST = 10  # ...after 10 in a row
MAX_JSON_BODY = 64 * 1024
MAX_IMPORT_BODY = 5_000_000  # 5 MB: a sheet of tens of thousands of points is well under 1 MB


class Guard:
    """The buckets of one application (one process)."""

    def __init__(self) -> None:
        self.mutations = Buckets(POINT_RATE_PER_S, POINT_BURST)
        self.auth_failures = Buckets(AUTH_FAIL_PER_S, AUTH_FAIL_BURST)


GUARD_KEY: web.AppKey[Guard] = web.AppKey("guard", Guard)


def guard_of(request: web.Request) -> Guard:
    return request.app[GUARD_KEY]


def point_sockets(rt: Any, code: str) -> int:
    """How many sockets the point ``code`` of event ``rt`` has open: in this
    process only (see the module's docstring)."""
    return len(rt.room.points.get(code, ()))
