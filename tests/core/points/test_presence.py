"""Presence (server/core/points/presence.py): sockets, clock figures, and the
presence other processes of a cluster hold."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import points as pts
from server.core.errors import BadRequest

from ..conftest import NOW, Journal, totals_of
from .conftest import raises

# -- presence -----------------------------------------------------------------------


def test_connect_and_disconnect_change_online(th: Journal) -> None:
    state = th.state
    assert not state.online("C1")
    pts.connect(state, "C1", NOW)
    assert state.online("C1")
    assert state.presence("C1").last_seen_ms == NOW
    assert totals_of(state)["online"] == 1
    pts.disconnect(state, "C1", NOW + 5)
    assert not state.online("C1")
    assert state.presence("C1").last_seen_ms == NOW + 5
    assert totals_of(state)["online"] == 0


@pytest.mark.parametrize(
    ("ops", "sockets", "online"),
    [
        (["+"], 1, 1),
        (["+", "+"], 2, 1),
        (["+", "+", "-"], 1, 1),
        (["+", "+", "-", "-"], 0, 0),
        (["-"], 0, 0),
        (["+", "-", "-", "-"], 0, 0),
        (["-", "-", "+"], 1, 1),
        (["+", "+", "+", "-", "-", "+"], 2, 1),
    ],
)
def test_two_sockets_of_one_point_count_once(th: Journal, ops: list[str], sockets: int, online: int) -> None:
    for i, op in enumerate(ops):
        (pts.connect if op == "+" else pts.disconnect)(th.state, "V1", NOW + i)
    assert th.state.presence("V1").sockets == sockets
    totals = totals_of(th.state)
    assert totals["online"] == online
    assert totals["by_district"]["D1"]["online"] == online
    assert totals["by_level"]["village"]["online"] == online


def test_presence_of_an_unknown_point_does_not_touch_totals(th: Journal) -> None:
    before = totals_of(th.state)
    pts.connect(th.state, "NOPE", NOW)
    pts.connect(th.state, "NOPE", NOW)
    pts.disconnect(th.state, "NOPE", NOW)
    assert totals_of(th.state) == before


def test_clock_sync_records_the_figures(th: Journal) -> None:
    pts.clock_synced(th.state, "C1", -12.5, 40, NOW)
    pres = th.state.presence("C1")
    assert (pres.offset_ms, pres.rtt_ms, pres.last_seen_ms) == (-12.5, 40.0, NOW)
    view = pts.point_view(th.state, th.state.points["C1"])
    assert (view["offset_ms"], view["rtt_ms"]) == (-12.5, 40.0)


def test_clock_sync_keeps_the_pages_secure_context_until_it_says_otherwise(th: Journal) -> None:
    """Catches: an insecure page not counted on the pre-flight board, or a Python client's
    time.sync (no ``secure``) wiping what the page said."""
    view = lambda: pts.point_view(th.state, th.state.points["C1"])["secure"]  # noqa: E731
    assert view() is None  # never said
    pts.clock_synced(th.state, "C1", 0, 10, NOW, False)
    assert view() is False
    pts.clock_synced(th.state, "C1", 0, 10, NOW)  # unknown: the last word stands
    assert view() is False
    pts.clock_synced(th.state, "C1", 0, 10, NOW, True)
    assert view() is True
    with raises(BadRequest, "validation_error"):
        pts.clock_synced(th.state, "C1", 0, 10, NOW, "yes")
    assert view() is True
    # Another process of a cluster says it, with newer figures.
    assert pts.set_remote(th.state, "C1", 1, NOW + 1, 0.0, 10.0, False, False)
    assert view() is False


@pytest.mark.parametrize(
    ("offset", "rtt"),
    [("1", 2), (1, "2"), (None, 2), (True, 2), (1, False), (1, -0.5)],
)
def test_clock_sync_rejects_bad_figures(th: Journal, offset: Any, rtt: Any) -> None:
    with raises(BadRequest, "validation_error"):
        pts.clock_synced(th.state, "C1", offset, rtt, NOW)


# -- presence held by other processes of a cluster (points.set_remote) ----------------


@pytest.mark.parametrize(
    ("local", "remote", "online"),
    [(0, 0, 0), (1, 0, 1), (0, 1, 1), (1, 2, 1), (0, 3, 1), (2, 0, 1)],
)
def test_a_point_is_online_if_any_process_holds_it(th: Journal, local: int, remote: int, online: int) -> None:
    for _ in range(local):
        pts.connect(th.state, "V1", NOW)
    pts.set_remote(th.state, "V1", remote, NOW, None, None)
    totals = totals_of(th.state)
    assert th.state.online("V1") == bool(online)
    assert totals["online"] == online
    assert totals["by_district"]["D1"]["online"] == online
    assert totals["by_level"]["village"]["online"] == online


def test_remote_presence_going_away_turns_the_point_offline(th: Journal) -> None:
    assert pts.set_remote(th.state, "C1", 2, NOW, 3.0, 40.0)
    assert totals_of(th.state)["online"] == 1
    assert not pts.set_remote(th.state, "C1", 2, NOW, 3.0, 40.0)  # nothing new
    assert pts.set_remote(th.state, "C1", 0, None, None, None)
    assert not th.state.online("C1")
    assert totals_of(th.state)["online"] == 0


def test_the_newest_clock_figures_win_whichever_process_has_them(th: Journal) -> None:
    pts.connect(th.state, "C1", NOW)
    pts.clock_synced(th.state, "C1", -12.5, 40, NOW + 10)
    pts.set_remote(th.state, "C1", 1, NOW + 5, 99.0, 99.0)  # older than ours: ours stay
    assert (th.state.presence("C1").offset_ms, th.state.presence("C1").rtt_ms) == (-12.5, 40.0)
    pts.set_remote(th.state, "C1", 1, NOW + 20, 1.5, 8.0)  # newer: the board shows them
    view = pts.point_view(th.state, th.state.points["C1"])
    assert (view["offset_ms"], view["rtt_ms"], view["last_seen_ms"]) == (1.5, 8.0, NOW + 20)


def test_remote_presence_of_an_unknown_point_does_not_touch_totals(th: Journal) -> None:
    before = totals_of(th.state)
    pts.set_remote(th.state, "NOPE", 3, NOW, None, None)
    assert totals_of(th.state) == before


def test_too_many_connections_refused_by_another_process_shows_here(th: Journal) -> None:
    pts.connect(th.state, "C1", NOW)
    view = lambda: pts.point_view(th.state, th.state.points["C1"])["too_many_connections"]  # noqa: E731
    assert view() is False
    assert pts.set_remote(th.state, "C1", 7, NOW, None, None, crowded=True)
    assert view() is True
    assert pts.set_remote(th.state, "C1", 3, NOW, None, None, crowded=False)
    assert view() is False
    pts.refuse_connection(th.state, "C1")  # refused here: shown whatever the others say
    assert view() is True
