"""Grouping at any level (docs/protocol.md#grouping): the default rule, the
event's own level on create and edit, each group counting its own point and
its whole subtree, and bad input refused with nothing changed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.errors import BadRequest, NotFound
from server.core.events import decide_create_event, decide_edit_event, event_view
from server.core.grouping import check_group, default_group_level

from .conftest import ADMIN, HEADER, NOW, TH_TABLE, Journal, event_created, roundtrip, totals_of

#: A 2025 registry: the province, its communes (xã, phường, đặc khu alike), points below them.
TWO_TIER: list[list[Any]] = [
    HEADER,
    ["TH", "Tỉnh Thanh Hóa", "province", "", "", "", "200"],
    ["SYT", "Sở Y tế", "department", "TH", "", "", "40"],
    ["SGD", "Sở Giáo dục và Đào tạo", "department", "TH", "", "", "60"],
    ["X1", "Xã Triệu Sơn", "commune", "TH", "", "", "50"],
    ["P1", "Phường Hạc Thành", "commune", "TH", "", "", "70"],
    ["DK", "Đặc khu Hòn Mê", "commune", "TH", "", "", "10"],
    ["V1", "Thôn Yên Thịnh", "village", "X1", "", "", "20"],
    ["S1", "Trường THCS Hạc Thành", "school", "P1", "", "", "30"],
    ["S2", "Trường TH Hạc Thành", "school", "S1", "", "", "25"],
]


def counts(**by_level: int) -> Any:
    return lambda level: by_level.get(level, 0)


@pytest.mark.parametrize(
    ("by_level", "expected"),
    [
        ({"province": 1, "district": 1, "commune": 30}, "district"),  # any district: the old registries
        ({"province": 1, "department": 20, "commune": 30, "village": 200}, "commune"),  # departments come after
        ({"province": 1, "commune": 1, "village": 5}, "village"),  # one commune is no grouping
        ({"province": 1, "department": 3}, "department"),
        ({"province": 1, "commune": 1}, None),
        ({}, None),
    ],
)
def test_the_default_level(by_level: dict[str, int], expected: str | None) -> None:
    """Catches a default that picks the departments over the communes, a lone
    commune, or misses the district of an old registry."""
    assert default_group_level(counts(**by_level)) == expected


def test_a_three_tier_registry_groups_by_district_by_default() -> None:
    """Catches by_group differing from by_district when the default is district."""
    j = Journal()
    j.import_table(TH_TABLE)
    j.checkin("V1", 15)
    totals = totals_of(j.state)
    assert totals["group_level"] == "district" and j.state.info.group_level is None
    assert {c: {k: v for k, v in b.items() if k != "level"} for c, b in totals["by_group"].items()} == \
        totals["by_district"]
    assert event_view(j.state.info, j.state.live.group_level)["group_level_effective"] == "district"


def test_a_two_tier_registry_groups_by_commune_own_point_and_subtree() -> None:
    """Catches a group missing its own point, a grandchild, or counting a department."""
    j = Journal()
    j.import_table(TWO_TIER)
    for code, n in (("P1", 70), ("S1", 30), ("S2", 25), ("SYT", 40), ("X1", 5)):
        j.checkin(code, n)
    totals = totals_of(j.state)
    assert totals["group_level"] == "commune"
    assert totals["by_district"] == {}
    assert set(totals["by_group"]) == {"X1", "P1", "DK"}
    assert totals["by_group"]["P1"] == {"name": "Phường Hạc Thành", "level": "commune", "points": 3,
                                        "checked_in": 3, "online": 0, "attendees": 125, "expected": 125}
    assert totals["by_group"]["X1"]["points"] == 2 and totals["by_group"]["X1"]["attendees"] == 5
    assert totals["by_group"]["DK"]["points"] == 1
    view = pts.point_view(j.state, j.state.points["S2"])
    assert (view["group"], view["group_name"], view["district"]) == ("P1", "Phường Hạc Thành", None)
    assert pts.point_view(j.state, j.state.points["SYT"])["group"] is None


def test_an_explicit_level_on_create_and_its_survival_over_replay_and_snapshot() -> None:
    """Catches a group_level lost by the fold, the JSON journal or a snapshot."""
    j = Journal(event_created(group_level="village"))
    j.import_table(TH_TABLE)
    assert j.state.live.group_level == "village"
    assert set(totals_of(j.state)["by_group"]) == {"V1"}
    assert j.replay().live.group_level == "village"
    restored = roundtrip(j.state)
    assert restored.info.group_level == "village" and totals_of(restored) == totals_of(j.state)


def test_an_old_journal_without_group_level_still_folds() -> None:
    """Catches a fact model that now requires the field old journals lack."""
    old = json.dumps({k: v for k, v in json.loads(f.dump_fact(event_created())).items() if k != "group_level"})
    assert "group_level" not in old
    assert f.parse_fact(old).group_level is None  # type: ignore[union-attr]
    edited = f.parse_fact('{"type":"event.edited","at_ms":1,"name":"x"}')
    assert edited.group_level is None  # type: ignore[union-attr]


def test_editing_the_level_regroups_and_null_goes_back_to_the_default() -> None:
    """Catches an edit that changes the field but not the roll-up (no regroup)."""
    j = Journal()
    j.import_table(TH_TABLE)
    j.fold(decide_edit_event(j.state, {"group_level": "commune"}, NOW, ADMIN))
    totals = totals_of(j.state)
    assert totals["group_level"] == "commune" and set(totals["by_group"]) == {"C1", "C2", "C3"}
    assert totals["by_group"]["C1"]["points"] == 2  # C1 and its village
    assert j.state.live.group_of["V1"] == "C1" and j.state.live.group_of["D1"] is None
    facts = decide_edit_event(j.state, {"group_level": None}, NOW, ADMIN)
    assert facts[0].group_level == ""
    j.fold(facts)
    assert j.state.info.group_level is None and j.state.live.group_level == "district"
    assert decide_edit_event(j.state, {"group_level": None}, NOW, ADMIN) == []  # no change: no fact


def test_the_default_moves_as_an_import_brings_the_second_commune() -> None:
    """Catches a group index built before the default level was known."""
    j = Journal()
    j.import_table(TWO_TIER[:2] + TWO_TIER[4:5])
    assert j.state.live.group_level is None
    j.import_table([HEADER, TWO_TIER[5]])
    assert j.state.live.group_level == "commune"
    assert j.state.live.group_of == {"TH": None, "X1": "X1", "P1": "P1"}


@pytest.mark.parametrize("bad", ["huyen", "District", 3, ["commune"], {"x": 1}, "root"])
def test_an_unknown_level_is_refused_on_create_and_on_edit(bad: Any) -> None:
    """Catches a group_level that is stored unchecked (the roll-up would group by nothing)."""
    body = {"name": "x", "starts_at": "2025-05-08T08:00:00+07:00",
            "report_deadline": "2025-05-08T07:30:00+07:00", "group_level": bad}
    with pytest.raises(BadRequest) as err:
        decide_create_event("ev1", body, NOW, ADMIN)
    assert err.value.code == "invalid_group_level"
    j = Journal()
    j.import_table(TH_TABLE)
    before = (j.state.info.group_level, j.state.live.group_level, totals_of(j.state))
    with pytest.raises(BadRequest) as err:
        decide_edit_event(j.state, {"name": "new", "group_level": bad}, NOW, ADMIN)
    assert err.value.code == "invalid_group_level"
    assert (j.state.info.group_level, j.state.live.group_level, totals_of(j.state)) == before
    assert j.state.info.name != "new"


def test_check_group_knows_only_points_at_the_group_level() -> None:
    """Catches group= accepting a commune while grouping by district, or a ghost code."""
    j = Journal()
    j.import_table(TH_TABLE)
    assert check_group(j.state.live.group_of, "D1") == "D1"
    for bad in ("C1", "TH", "GHOST", ""):
        with pytest.raises(NotFound) as err:
            check_group(j.state.live.group_of, bad)
        assert err.value.code == "group_not_found"


def test_the_group_filter_of_points() -> None:
    """Catches a group filter that misses the group's own point or its grandchildren."""
    j = Journal()
    j.import_table(TWO_TIER)
    found = {p.code for p in j.state.points.values() if pts.matches(j.state, p, group="P1")}
    assert found == {"P1", "S1", "S2"}
