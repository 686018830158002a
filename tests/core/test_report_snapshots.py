"""Report snapshots (server/core/report_snapshots.py): the report as it stood
at a moment, its label, the one automatic snapshot, and its survival of a
snapshot/restore of the state."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import report_snapshots as rs
from server.core.errors import BadRequest, NotFound
from server.core.report import build_report
from server.core.report_render import vi_time

from .conftest import ADMIN, NOW, Journal, roundtrip


def take(j: Journal, label: Any = None, now_ms: float = NOW, automatic: bool = False) -> rs.Snapshot:
    fact = rs.decide_snapshot(j.state, build_report(j.state, now_ms), label, now_ms,
                              None if automatic else ADMIN, automatic=automatic)
    j.fold([fact])
    return rs.snapshots_of(j.state)[-1]


def test_a_snapshot_keeps_the_report_and_its_label(th: Journal) -> None:
    th.checkin("C1", 40)
    snap = take(th, "  sáng  nay ")
    assert (snap.label, snap.taken_ms, snap.automatic, snap.actor) == ("sáng nay", NOW, False, ADMIN)
    assert snap.report["overall"]["attendees"] == 40
    th.checkin("C2", 30)
    assert rs.get_snapshot(th.state, 1).report["overall"]["attendees"] == 40  # the moment, not the live figure


def test_without_a_label_it_is_named_by_its_local_time(th: Journal) -> None:
    snap = take(th, "")
    assert snap.label == f"báo cáo lúc {vi_time(NOW, th.state.info.timezone, seconds=False)}"


def test_the_deadline_label_is_in_the_event_time_zone() -> None:
    assert rs.deadline_label("2025-05-08T07:30:00+07:00", "Asia/Ho_Chi_Minh") == "báo cáo lúc 07:30"
    assert rs.deadline_label("2025-05-08T07:30:00+07:00", "UTC") == "báo cáo lúc 00:30"


@pytest.mark.parametrize("label", [12, ["a"], {"x": 1}, "x" * (rs.MAX_LABEL + 1)])
def test_bad_labels_are_refused(th: Journal, label: Any) -> None:
    with pytest.raises(BadRequest) as err:
        rs.decide_snapshot(th.state, build_report(th.state, NOW), label, NOW, ADMIN)
    assert err.value.code == "validation_error"


def test_only_the_first_automatic_snapshot_is_kept(th: Journal) -> None:
    assert not rs.has_automatic(th.state)
    take(th, automatic=True)
    take(th, automatic=True, now_ms=NOW + 1000)  # the deadline timer fired in a second process
    take(th, "by hand")
    assert [(s.automatic, s.label == "by hand") for s in rs.snapshots_of(th.state)] == [(True, False), (False, True)]
    assert rs.has_automatic(th.state)


def test_list_view_and_lookup(th: Journal) -> None:
    take(th, "one")
    take(th, "two", now_ms=NOW + 5)
    listed = rs.snapshot_list(th.state)
    assert [(v["n"], v["label"], v["taken_ms"]) for v in listed] == [(1, "one", NOW), (2, "two", NOW + 5)]
    assert set(listed[0]) == {"n", "label", "taken_ms", "automatic", "actor", "seq", "overall"}
    for n in (0, 3):
        with pytest.raises(NotFound):
            rs.get_snapshot(th.state, n)


def test_snapshots_survive_a_restart(th: Journal) -> None:
    take(th, "kept")
    again = roundtrip(th.state)
    assert [(s.label, s.report) for s in rs.snapshots_of(again)] == [(s.label, s.report) for s in rs.snapshots_of(th.state)]
