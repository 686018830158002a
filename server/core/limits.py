"""Token buckets: how much a point, or an address, may do per second
(docs/protocol.md#limits).

Hand-written rather than taken from ``limits`` or ``aiolimiter``: the core
is pure and is given the time (so a test or a hypothesis run drives the
clock), ``aiolimiter`` waits instead of refusing, and neither answers the
one figure the protocol needs, how long until the next token
(``retry_after_ms``). A bucket is two floats; the arithmetic below is all of it.

Buckets live in the memory of one process: with several processes behind a
balancer each has its own buckets, so a client spread over N processes gets
up to N times the rate. That is accepted: the limits bound floods, they are
not quotas.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Bucket:
    tokens: float
    at_ms: float


class Buckets:
    """One bucket per key (a point's code, a client address): ``rate`` tokens
    a second up to ``burst``. Full buckets are forgotten once there are more
    than ``max_keys``, so memory stays bounded whatever the keys."""

    def __init__(self, rate_per_s: float, burst: float, max_keys: int = 10_000) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate_per_s / 1000.0  # tokens per ms
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, Bucket] = {}

    def _refill(self, key: str, now_ms: float) -> Bucket:
        b = self._buckets.get(key)
        if b is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now_ms)
            b = self._buckets[key] = Bucket(self.burst, now_ms)
            return b
        if now_ms > b.at_ms:  # a clock that steps back refills nothing
            b.tokens = min(self.burst, b.tokens + (now_ms - b.at_ms) * self.rate)
            b.at_ms = now_ms
        return b

    def take(self, key: str, now_ms: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens: 0.0 if allowed, else the ms until it would be."""
        b = self._refill(key, now_ms)
        if b.tokens >= cost:
            b.tokens -= cost
            return 0.0
        return (cost - b.tokens) / self.rate

    def wait_ms(self, key: str, now_ms: float, cost: float = 1.0) -> float:
        """Like ``take`` but takes nothing: 0.0 if ``cost`` tokens are there."""
        b = self._buckets.get(key)
        if b is None:
            return 0.0
        tokens = min(self.burst, b.tokens + max(0.0, now_ms - b.at_ms) * self.rate)
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate

    def _prune(self, now_ms: float) -> None:
        full = [k for k, b in self._buckets.items()
                if b.tokens + max(0.0, now_ms - b.at_ms) * self.rate >= self.burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_keys:  # every bucket in use: drop the oldest
            for k in list(self._buckets)[: len(self._buckets) - self.max_keys + 1]:
                del self._buckets[k]

    def __len__(self) -> int:
        return len(self._buckets)
