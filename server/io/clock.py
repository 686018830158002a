"""The server's clock and local time: neutral helpers every shell uses.

Kept apart from the handlers so that no handler imports another for them.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo


def now_ms() -> float:
    """The server clock, in ms since the epoch (docs/protocol.md#time)."""
    return time.time_ns() / 1e6


def local_time(ms: float, tz: str) -> str:
    """``ms`` as an ISO-8601 time with its offset, in the event's time zone."""
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).isoformat(timespec="seconds")
