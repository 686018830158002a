"""The reconnect policy (checkin/reconnect.py): pure, time passed in, no socket."""

from __future__ import annotations

import random

import pytest

from checkin.reconnect import Reconnect, backoff_delay

pytestmark = pytest.mark.timeout(5)


def policy(urls: str = "http://a:1,https://b", **kwargs: float) -> Reconnect:
    args = {"base": 0.5, "cap": 30.0, "storm_window": 10.0, "stable_s": 10.0, **kwargs}
    return Reconnect(urls, "tok", rng=random.Random(5), **args)


def test_round_robin_over_the_urls() -> None:
    """Catches a client stuck on a dead server, or rotating the wrong list."""
    r = policy()
    assert (r.url, r.ws_url) == ("http://a:1", "ws://a:1/ws/point?token=tok")
    r.failed(0.0)
    assert (r.url, r.ws_url) == ("https://b", "wss://b/ws/point?token=tok")
    r.failed(1.0)
    assert r.url == "http://a:1"


def test_first_connects_back_off_exponentially_without_the_storm_window() -> None:
    """Catches a first connect held to the storm window (10 s for nothing),
    or a backoff that does not grow."""
    r = policy(base=0.5, cap=4.0)
    rng = random.Random(5)
    delays = [r.failed(float(i)) for i in range(6)]
    assert delays == [backoff_delay(i, 0.5, 4.0, rng) for i in range(6)]
    assert r.attempt == 6 and r.delays == delays


def test_a_drop_after_a_welcome_waits_within_the_storm_window_and_resets_once_stable() -> None:
    """Catches points dropped by a restart all retrying at once (no storm
    window), and a crash-looping server hammered (a reset without a stable
    connection)."""
    r = policy(base=0.5, cap=30.0, storm_window=10.0, stable_s=10.0)
    for i in range(3):
        r.failed(float(i))
    r.welcomed(100.0)
    r.failed(101.0)  # dropped 1 s after its welcome: not stable, no reset
    assert r.attempt == 4
    r.welcomed(200.0)
    delay = r.failed(215.0)  # held 15 s: the backoff starts afresh, within the storm window
    assert r.attempt == 1 and 0.0 <= delay <= 10.0
    # A retry that failed before any welcome is back to the usual pace: no storm window.
    assert all(r.failed(216.0 + i) <= 0.5 * 2 ** (i + 1) for i in range(3))
