"""Where and when the point client connects next (docs/protocol.md#reconnect).

Pure, with time passed in, like the protocol state (checkin/protocol.py): the
asyncio driver (checkin/client.py) asks :class:`Reconnect` for the URL to
try, tells it when a welcome arrived, and sleeps the delay it returns after a
drop or a refusal.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from checkin.transport import point_ws_url, server_urls

__all__ = ["STABLE_S", "TOKEN_CLOSE_CODES", "TOKEN_HTTP_STATUSES", "Reconnect", "backoff_delay"]

#: Close codes meaning "this token no longer opens this point": stop, do not retry.
TOKEN_CLOSE_CODES = frozenset({4401, 4403})
TOKEN_HTTP_STATUSES = frozenset({401, 403})
STABLE_S = 10.0  # a connection that held this long resets the backoff


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random,
                  storm_window: float = 0.0) -> float:
    """Full jitter: ``uniform(0, min(cap, base * 2**attempt))``; the first retry
    after losing an established connection is ``uniform(0, storm_window)``.

    Spreading each retry over the whole interval (not ``delay ± 10%``) is what
    keeps a thousand points dropped by one restart from reconnecting in the
    same 100 ms. The storm window matters most: when a server restarts, every
    point loses its connection at once, and with short first windows most of
    them are polling when it comes back and land together; spread over 10 s,
    they arrive at about a hundred a second (docs/protocol.md#reconnect).
    """
    ceiling = min(cap, base * 2.0 ** min(attempt, 64))
    if storm_window > 0:  # after an established connection: never narrower than the storm window
        return rng.uniform(0.0, storm_window if attempt == 0 else max(storm_window, ceiling))
    return rng.uniform(0.0, ceiling)


class Reconnect:
    """Round robin over the server URLs, with capped exponential backoff and full jitter."""

    def __init__(self, urls: str | Sequence[str], token: str, *, base: float, cap: float,
                 storm_window: float, stable_s: float, rng: random.Random) -> None:
        self.urls = server_urls(urls)
        self.ws_urls = [point_ws_url(u, token) for u in self.urls]
        self.index = 0
        self.base = base
        self.cap = cap
        self.storm_window = storm_window
        self.stable_s = stable_s
        self.rng = rng
        self.attempt = 0
        self.delays: list[float] = []  # every delay drawn (the load test measures them)
        self._up_since: float | None = None  # monotonic s of the welcome of the current connection

    @property
    def url(self) -> str:
        return self.urls[self.index]

    @property
    def ws_url(self) -> str:
        return self.ws_urls[self.index]

    def welcomed(self, mono_s: float) -> None:
        # The backoff is reset only once the connection has held stable_s: a
        # server that welcomes and drops at once must not be hammered.
        self._up_since = mono_s

    def failed(self, mono_s: float) -> float:
        """A connection dropped or was refused: move to the next server and
        return how long to wait before trying it."""
        # The backoff still applies on the next server, so a dead server's
        # points reach the others spread out.
        self.index = (self.index + 1) % len(self.urls)
        up_since, self._up_since = self._up_since, None
        # The storm window applies only to a connection that was up (a first
        # connect, or a retry of one, goes at the usual pace).
        storm = self.storm_window if up_since is not None else 0.0
        if up_since is not None and mono_s - up_since >= self.stable_s:
            self.attempt = 0  # it held: the next drop starts backoff afresh
        delay = backoff_delay(self.attempt, self.base, self.cap, self.rng, storm)
        self.attempt += 1
        self.delays.append(delay)
        return delay
