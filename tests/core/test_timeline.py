"""The check-in timeline: changes fed from facts, cut into buckets."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import facts as f
from server.core.errors import BadRequest
from server.core.timeline import MAX_BUCKETS, Timeline, bucket_seconds, timeline_view

from .conftest import NOW, TH_TABLE, Journal, totals_of

MIN = 60_000.0
T0 = (NOW // MIN) * MIN  # a minute boundary


def up(code: str, at: float = T0 - MIN) -> f.PointUpserted:
    return f.PointUpserted(at_ms=at, actor="a", code=code, name=code, level="commune", parent=None, chair="",
                           phone="", expected=10, token=f"t-{code}")


def ci(code: str, n: int, at: float, msg: str | None = None) -> f.CheckedIn:
    return f.CheckedIn(at_ms=at, code=code, msg_id=msg or f"c-{code}-{n}", attendees=n)


def cnt(code: str, n: int, at: float, msg: str | None = None) -> f.AttendeesCounted:
    return f.AttendeesCounted(at_ms=at, code=code, msg_id=msg or f"n-{code}-{n}", count=n)


def feed(facts: list[Any]) -> Timeline:
    return Timeline().feed_all(list(enumerate(facts, 1)))


# (case, facts, expected final (checked_in, attendees))
CASES = [
    ("nothing", [up("A")], (0, 0)),
    ("one check-in", [up("A"), ci("A", 30, T0)], (1, 30)),
    ("a recount replaces the count", [up("A"), ci("A", 30, T0), cnt("A", 45, T0 + 1)], (1, 45)),
    ("a second check-in replaces the count", [up("A"), ci("A", 30, T0), ci("A", 12, T0 + 1, "again")], (1, 12)),
    ("a repeated id counts once", [up("A"), ci("A", 30, T0, "x"), cnt("A", 40, T0 + 1), ci("A", 30, T0 + 2, "x")],
     (1, 40)),
    ("a count before a check-in is ignored", [up("A"), cnt("A", 40, T0)], (0, 0)),
    ("a check-in of an unknown point is ignored", [ci("Z", 9, T0)], (0, 0)),
    ("a deleted point takes its count away",
     [up("A"), up("B"), ci("A", 30, T0), ci("B", 5, T0), f.PointDeleted(at_ms=T0 + 1, actor="a", code="A")], (1, 5)),
    ("a point created again starts from nothing",
     [up("A"), ci("A", 30, T0), f.PointDeleted(at_ms=T0 + 1, actor="a", code="A"), up("A", T0 + 2),
      cnt("A", 7, T0 + 3)], (0, 0)),
    ("an edit keeps the check-in", [up("A"), ci("A", 30, T0), up("A", T0 + 1)], (1, 30)),
]


@pytest.mark.parametrize(("facts", "final"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_final_figures(facts: list[Any], final: tuple[int, int]) -> None:
    line = feed(facts)
    assert line.totals() == final
    buckets = line.series(MIN, T0 + 10 * MIN)
    if buckets:
        assert (buckets[-1]["checked_in"], buckets[-1]["attendees"]) == final


def test_buckets_are_cumulative_and_aligned() -> None:
    line = feed([up("A"), up("B"), up("C"),
                 ci("A", 10, T0 + 5_000), ci("B", 20, T0 + 59_999),  # minute 0
                 cnt("A", 15, T0 + MIN + 1),  # minute 1
                 ci("C", 5, T0 + 3 * MIN)])  # minute 3
    buckets = line.series(MIN, T0 + 3 * MIN + 10)
    assert [(b["start_ms"] - T0, b["checked_in"], b["attendees"], b["checkins"]) for b in buckets] == [
        (0, 2, 30, 2), (MIN, 2, 35, 0), (2 * MIN, 2, 35, 0), (3 * MIN, 3, 40, 1)]
    assert all(b["end_ms"] - b["start_ms"] == MIN for b in buckets)


@pytest.mark.parametrize(("bucket_ms", "count"), [(MIN, 4), (30_000.0, 7), (3_600_000.0, 1)])
def test_bucket_sizes(bucket_ms: float, count: int) -> None:
    line = feed([up("A"), ci("A", 10, T0), cnt("A", 11, T0 + 3 * MIN)])
    buckets = line.series(bucket_ms, T0 + 3 * MIN)
    assert len(buckets) == count and buckets[-1]["attendees"] == 11


def test_from_ms_starts_later_with_the_figures_before_it() -> None:
    line = feed([up("A"), up("B"), ci("A", 10, T0), ci("B", 20, T0 + 5 * MIN)])
    buckets = line.series(MIN, T0 + 5 * MIN, from_ms=T0 + 4 * MIN)
    assert [(b["checked_in"], b["attendees"]) for b in buckets] == [(1, 10), (2, 30)]
    assert feed([up("A")]).series(MIN, T0 + MIN, from_ms=T0) == [
        {"start_ms": T0, "end_ms": T0 + MIN, "checked_in": 0, "attendees": 0, "checkins": 0},
        {"start_ms": T0 + MIN, "end_ms": T0 + 2 * MIN, "checked_in": 0, "attendees": 0, "checkins": 0}]


def test_at_most_max_buckets_and_the_latest_kept() -> None:
    line = feed([up("A"), up("B"), ci("A", 10, T0), ci("B", 1, T0 + 2000 * MIN)])
    buckets = line.series(MIN, T0 + 2000 * MIN)
    assert len(buckets) == MAX_BUCKETS
    assert buckets[0]["checked_in"] == 1 and buckets[-1]["checked_in"] == 2


def test_out_of_order_times_are_sorted() -> None:
    line = feed([up("A"), up("B"), ci("A", 10, T0 + MIN + 5), ci("B", 20, T0 + 5)])
    buckets = line.series(MIN, T0 + MIN + 10)
    assert [b["checked_in"] for b in buckets] == [1, 2]


def test_incremental_feeding_equals_one_pass() -> None:
    facts = list(enumerate([up("A"), up("B"), ci("A", 10, T0), cnt("A", 12, T0 + MIN), ci("B", 3, T0 + MIN)], 1))
    whole = Timeline().feed_all(facts)
    parts = Timeline().feed_all(facts[:2]).feed_all(facts[:3]).feed_all(facts)  # repeats are skipped
    assert parts.series(MIN, T0 + MIN) == whole.series(MIN, T0 + MIN)
    assert parts.seq == whole.seq == 5


def test_agrees_with_the_fold(th: Journal) -> None:
    for i, (code, n) in enumerate([("TH", 180), ("D1", 95), ("C1", 48), ("C3", 27)]):
        th.checkin(code, n, now_ms=NOW + i * 1000)
    th.count("C1", 50, now_ms=NOW + 5000)
    th.checkin("C1", 50, msg_id="ci-C1-48", now_ms=NOW + 6000)  # a repeat: no fact
    line = Timeline().feed_all(th.facts)
    totals = totals_of(th.state)
    assert line.totals() == (totals["checked_in"], totals["attendees"])
    assert len(TH_TABLE) - 1 == len(th.state.points)


@pytest.mark.parametrize(("raw", "value"), [(None, 60), ("", 60), ("1", 1), ("300", 300), ("3600", 3600)])
def test_bucket_param(raw: str | None, value: int) -> None:
    assert bucket_seconds(raw) == value


@pytest.mark.parametrize("raw", ["0", "3601", "-5", "1.5", "abc", "٣"])
def test_bucket_param_refused(raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        bucket_seconds(raw)
    assert info.value.code == "validation_error"


def test_view_shape() -> None:
    view = timeline_view(feed([up("A"), ci("A", 4, T0)]), 60, T0 + 1)
    assert view == {"bucket_s": 60, "as_of_ms": T0 + 1, "seq": 2, "checked_in": 1, "attendees": 4,
                    "buckets": [{"start_ms": T0, "end_ms": T0 + MIN, "checked_in": 1, "attendees": 4,
                                 "checkins": 1}]}
