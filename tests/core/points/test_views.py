"""Views (server/core/points/views.py): a point's view, its status, the
filters of GET /points, an incident's view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.core import points as pts
from server.core.state import EventState

from ..conftest import ADMIN, NOW, TH_TREE, Journal

# -- views and filters --------------------------------------------------------------


def test_point_view(th: Journal) -> None:
    th.checkin("V1", 18)
    pts.connect(th.state, "V1", NOW)
    view = pts.point_view(th.state, th.state.points["V1"])
    assert view["code"] == "V1"
    assert view["parent"] == "C1"
    assert view["district"] == "D1"
    assert view["status"] == "checked_in"
    assert view["online"] is True
    assert view["attendees"] == 18
    assert view["expected"] == 20
    assert view["incidents_open"] == 0
    assert "token" not in view
    with_token = pts.point_view(th.state, th.state.points["V1"], with_token=True)
    assert with_token["token"] == th.state.points["V1"].token
    json.dumps(with_token)


@pytest.mark.parametrize(
    ("code", "district"),
    [(code, district) for code, (_, district, _) in TH_TREE.items()],
)
def test_point_view_names_the_district(th: Journal, code: str, district: str | None) -> None:
    assert pts.point_view(th.state, th.state.points[code])["district"] == district


@pytest.fixture
def lively(th: Journal) -> Journal:
    """C1 and V1 checked in; C1, C3 and TH online; C2 with an open incident."""
    th.checkin("C1", 40)
    th.checkin("V1", 15)
    for code in ("C1", "C3", "TH"):
        pts.connect(th.state, code, NOW)
    th.incident("C2", "audio")
    return th


def codes_matching(state: EventState, **filters: Any) -> set[str]:
    return {p.code for p in state.points.values() if pts.matches(state, p, **filters)}


ALL = set(TH_TREE)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ALL),
        ({"q": ""}, ALL),
        ({"q": "trieu son"}, {"D1"}),
        ({"q": "Triệu Sơn"}, {"D1"}),
        ({"q": "TRIỆU"}, {"D1"}),
        ({"q": "huyen"}, {"D1", "D2", "LS"}),  # a substring: "chuyen" contains it
        ({"q": "đông"}, {"D2", "C3"}),
        ({"q": "dong son"}, {"D2"}),
        ({"q": "ĐÔNG SƠN"}, {"D2"}),
        ({"q": "  dan   luc "}, {"C1"}),
        ({"q": "lam son"}, {"LS"}),
        ({"q": "son"}, {"D1", "D2", "LS"}),
        ({"q": "c1"}, {"C1"}),  # the code is searched too
        ({"q": "xa"}, {"C1", "C2", "C3"}),
        ({"q": "hanoi"}, set()),
        ({"level": "commune"}, {"C1", "C2", "C3"}),
        ({"level": "village"}, {"V1"}),
        ({"level": "market"}, set()),
        ({"parent": "TH"}, {"D1", "D2", "SGD", "LS"}),
        ({"parent": "D1"}, {"C1", "C2"}),
        ({"parent": ""}, {"TH"}),
        ({"parent": "V1"}, set()),
        ({"district": "D1"}, {"D1", "C1", "C2", "V1"}),
        ({"district": "D2"}, {"D2", "C3"}),
        ({"status": "pending"}, ALL - {"C1", "V1"}),
        ({"status": "checked_in"}, {"C1", "V1"}),
        ({"status": "online"}, {"C1", "C3", "TH"}),
        ({"status": "offline"}, ALL - {"C1", "C3", "TH"}),
        ({"status": "incident"}, {"C2"}),
        ({"status": "online", "level": "commune"}, {"C1", "C3"}),
        ({"status": "pending", "parent": "D1"}, {"C2"}),
        ({"status": "checked_in", "q": "thon"}, {"V1"}),
        ({"level": "commune", "q": "dong"}, {"C3"}),
    ],
)
def test_matches(lively: Journal, filters: dict[str, Any], expected: set[str]) -> None:
    assert codes_matching(lively.state, **filters) == expected


@pytest.mark.parametrize(
    ("code", "status"),
    [("C1", "checked_in"), ("V1", "checked_in"), ("C2", "incident"), ("C3", "pending"), ("TH", "pending")],
)
def test_status_of(lively: Journal, code: str, status: str) -> None:
    assert pts.status_of(lively.state, lively.state.points[code]) == status


def test_search_follows_a_rename(th: Journal) -> None:
    th.decide(pts.decide_patch(th.state, "C2", {"name": "Xã Thọ Dân"}, NOW, ADMIN))
    assert codes_matching(th.state, q="tho dan") == {"C2"}
    assert codes_matching(th.state, q="hop ly") == set()


def test_incident_view(lively: Journal) -> None:
    [inc] = lively.state.incidents.values()
    view = pts.incident_view(lively.state, inc)
    assert view["point"] == "C2"
    assert view["point_name"] == "Xã Hợp Lý"
    assert view["district"] == "D1"
    assert view["phone"] == "0920000002"
    assert view["open"] is True
