"""What the point protocol state takes in and gives out (checkin/protocol.py).

:class:`Now` is one reading of the device's clocks, passed into every call;
the events are what the state tells its driver besides the frames to write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import structlog

from checkin.errors import ServerError

__all__ = [
    "AgendaChanged",
    "Answered",
    "Event",
    "LaunchChanged",
    "Notice",
    "Now",
    "RoundDone",
    "Synced",
    "Welcome",
    "parse_frame",
]

log = structlog.get_logger("checkin.protocol")


class Now(NamedTuple):
    """One reading of the device's clocks: wall ms (with any simulated error) and monotonic s."""

    local_ms: float
    mono_s: float


# -- events (drained with PointProtocol.events_received) ----------------------------
@dataclass(frozen=True, slots=True)
class Welcome:
    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AgendaChanged:
    agenda: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LaunchChanged:
    launch: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Notice:
    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answered:
    """The server answered message ``id`` for good (an ack, or an error not retried)."""

    id: str
    frame: dict[str, Any]
    error: ServerError | None


@dataclass(frozen=True, slots=True)
class Synced:
    """The estimate has its ``ping_count`` samples for the first time."""


@dataclass(frozen=True, slots=True)
class RoundDone:
    """A ping round ended (what :meth:`PointProtocol.resync` waits for)."""


Event = Welcome | AgendaChanged | LaunchChanged | Notice | Answered | Synced | RoundDone


def parse_frame(text: str) -> dict[str, Any] | None:
    """A JSON object, or ``None`` (logged) for anything else: junk never closes the connection."""
    try:
        frame = json.loads(text)
    except ValueError:
        log.warning("frame_not_json", text=text[:200])
        return None
    if not isinstance(frame, dict):
        log.warning("frame_not_object", text=text[:200])
        return None
    return frame
