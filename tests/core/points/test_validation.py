"""Validation of a point's fields (server/core/points/validation.py), as an
organizer's create meets it."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import points as pts
from server.core.errors import BadRequest

from ..conftest import ADMIN, NOW, Journal
from .conftest import GOOD, raises


@pytest.mark.parametrize(
    ("body", "columns"),
    [
        ({**GOOD, "code": ""}, {"code"}),
        ({k: v for k, v in GOOD.items() if k != "code"}, {"code"}),
        ({**GOOD, "code": "a/b"}, {"code"}),
        ({**GOOD, "code": "a?b"}, {"code"}),
        ({**GOOD, "code": "x" * 65}, {"code"}),
        ({**GOOD, "name": "   "}, {"name"}),
        ({k: v for k, v in GOOD.items() if k != "name"}, {"name"}),
        ({**GOOD, "name": "x" * 201}, {"name"}),
        ({**GOOD, "phone": "9" * 201}, {"phone"}),
        ({**GOOD, "level": "hamlet"}, {"level"}),
        ({**GOOD, "level": ""}, {"level"}),
        ({**GOOD, "expected": -1}, {"expected"}),
        ({**GOOD, "expected": "abc"}, {"expected"}),
        ({**GOOD, "expected": 1.5}, {"expected"}),
        ({**GOOD, "expected": True}, {"expected"}),
        ({**GOOD, "expected": 1_000_001}, {"expected"}),
        ({**GOOD, "chair": {"a": 1}}, {"chair"}),
        ({**GOOD, "name": "", "level": "x", "expected": "-"}, {"name", "level", "expected"}),
    ],
)
def test_create_validation(th: Journal, body: dict[str, Any], columns: set[str]) -> None:
    with raises(BadRequest, "validation_error") as info:
        pts.decide_create(th.state, body, NOW, "tok", ADMIN)
    assert {d["column"] for d in info.value.details} == columns
    assert info.value.status == 400


# Regression: "²".isdigit() is true but int("²") fails; it used to escape as ValueError.
@pytest.mark.parametrize("expected", ["²", "3³", "¹⁰"])
def test_create_with_superscript_expected_is_a_validation_error(th: Journal, expected: str) -> None:
    with raises(BadRequest, "validation_error"):
        pts.decide_create(th.state, {**GOOD, "expected": expected}, NOW, "tok", ADMIN)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        ({"level": "District"}, {"level": "district"}),
        ({"expected": "1 000"}, {"expected": 1000}),
        ({"expected": 50.0}, {"expected": 50}),
        ({"expected": ""}, {"expected": 0}),
        ({"parent": ""}, {"parent": None}),
        ({"name": "  Xã\u00a0 Thọ   Ngọc "}, {"name": "Xã Thọ Ngọc"}),
    ],
)
def test_create_cleans_fields(th: Journal, over: dict[str, Any], expected: dict[str, Any]) -> None:
    [fact] = pts.decide_create(th.state, {**GOOD, **over}, NOW, "tok", ADMIN).facts
    for name, value in expected.items():
        assert getattr(fact, name) == value


# -- the module's own functions, called directly ---------------------------------------


def test_validate_fields_partial_checks_only_the_given_fields() -> None:
    values, errors = pts.validate_fields({"expected": " 1 000 "}, partial=True)
    assert (values, errors) == ({"expected": 1000}, [])
    _, errors = pts.validate_fields({"level": "planet"}, partial=True)
    assert [(e["column"], e["code"]) for e in errors] == [("level", "unknown_level")]
    assert errors[0]["message_vi"].startswith("Cấp “planet” không hợp lệ")


@pytest.mark.parametrize(("code", "parent", "loop"), [("D1", "V1", True), ("D1", "D1", True),
                                                      ("V1", "C2", False), ("NEW", "V1", False)])
def test_would_cycle(th: Journal, code: str, parent: str, loop: bool) -> None:
    assert pts.would_cycle(th.state, code, parent) is loop


# -- optional coordinates (docs/protocol.md#import) ---------------------------------------------


@pytest.mark.parametrize(("over", "lat", "lon"), [
    ({"lat": 19.8, "lon": 105.77}, 19.8, 105.77),
    ({"lat": "19,8", "lon": " 105.77 "}, 19.8, 105.77),
    ({"lat": -90, "lon": 180}, -90.0, 180.0),
    ({"lat": "", "lon": None}, None, None),
    ({}, None, None),
])
def test_coordinates_are_optional_numbers(th: Journal, over: dict[str, Any], lat: Any, lon: Any) -> None:
    """Catches coordinates dropped, kept as text, or required."""
    [fact] = pts.decide_create(th.state, {**GOOD, **over}, NOW, "tok", ADMIN).facts
    assert (fact.lat, fact.lon) == (lat, lon)
    th.fold([fact])
    view = pts.point_view(th.state, th.state.points["C4"])
    assert (view["lat"], view["lon"]) == (lat, lon)


@pytest.mark.parametrize("over", [
    {"lat": 90.01}, {"lat": -91}, {"lon": 180.5}, {"lon": -181}, {"lat": "north"}, {"lat": True},
    {"lon": "nan"}, {"lon": "inf"}, {"lat": [1]}, {"lat": "1e3"},
])
def test_a_bad_coordinate_is_a_validation_error_and_changes_nothing(th: Journal, over: dict[str, Any]) -> None:
    """Catches an out-of-range or non-numeric coordinate stored (a dot off the map)."""
    with raises(BadRequest, "validation_error") as info:
        pts.decide_create(th.state, {**GOOD, **over}, NOW, "tok", ADMIN)
    [detail] = info.value.details
    assert (detail["column"], detail["code"]) == (next(iter(over)), "bad_coordinate")
    assert "C4" not in th.state.points
    with raises(BadRequest, "validation_error"):
        pts.decide_patch(th.state, "D1", over, NOW, ADMIN)
    assert th.state.points["D1"].lat is None


def test_patch_sets_and_clears_coordinates(th: Journal) -> None:
    """Catches a patch that cannot set, or cannot clear, a point's coordinates."""
    th.decide(pts.decide_patch(th.state, "D1", {"lat": 19.9, "lon": "105.4"}, NOW, ADMIN))
    assert (th.state.points["D1"].lat, th.state.points["D1"].lon) == (19.9, 105.4)
    th.decide(pts.decide_patch(th.state, "D1", {"lat": None}, NOW, ADMIN))
    assert (th.state.points["D1"].lat, th.state.points["D1"].lon) == (None, 105.4)


def test_an_old_upsert_without_coordinates_still_folds(th: Journal) -> None:
    """Catches the optional fields made required: older journals must replay."""
    from server.core import facts as f
    old = ('{"type": "point.upserted", "at_ms": 1, "actor": null, "code": "OLD", "name": "Xã Cũ", '
           '"level": "commune", "parent": "D1", "chair": "", "phone": "", "expected": 3, "token": "t-old"}')
    th.fold([f.parse_fact(old)])
    assert (th.state.points["OLD"].lat, th.state.points["OLD"].lon) == (None, None)
