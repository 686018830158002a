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
