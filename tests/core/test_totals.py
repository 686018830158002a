"""Totals: the incremental roll-up (overall, by level, by district, by group)
against a from-scratch recount, under check-ins, counts, presence, moves,
deletes, level changes and edits of the event's group level."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import points as pts
from server.core.errors import LaunchdayError
from server.core.events import decide_edit_event
from server.core.facts import LEVELS
from server.core.state import EventState
from server.core.totals import Bucket, Totals

from .conftest import ADMIN, NOW, TH_TABLE, TH_TREE, Journal, totals_of

KEYS = ("points", "checked_in", "online", "attendees", "expected")


def oracle_group_level(state: EventState) -> str | None:
    """The grouping rule, restated: the event's own level; else district if
    there is one; else the first territory-first level with two points."""
    if state.info.group_level is not None:
        return state.info.group_level
    levels = [p.level for p in state.points.values()]
    if "district" in levels:
        return "district"
    for level in ("commune", "village", "school", "market", "enterprise", "department", "other"):
        if levels.count(level) > 1:
            return level
    return None


def recount(state: EventState) -> dict[str, Any]:
    """An independent oracle: walk the tree for every point, count from nothing."""

    def nearest(code: str, level: str | None) -> str | None:
        seen: set[str] = set()
        cur: str | None = code
        while cur is not None and cur not in seen and level is not None:
            seen.add(cur)
            point = state.points.get(cur)
            if point is None:
                return None
            if point.level == level:
                return cur
            cur = point.parent
        return None

    def zero() -> dict[str, int]:
        return dict.fromkeys(KEYS, 0)

    group_level = oracle_group_level(state)
    overall = zero()
    by_level: dict[str, dict[str, int]] = {}
    by_district: dict[str, dict[str, Any]] = {}
    by_group: dict[str, dict[str, Any]] = {}
    for code, p in state.points.items():
        add = {
            "points": 1,
            "checked_in": int(p.checked_in),
            "online": int(state.live.presence.get(code) is not None and state.live.presence[code].sockets > 0),
            "attendees": p.attendees if p.checked_in else 0,
            "expected": p.expected,
        }
        buckets = [overall, by_level.setdefault(p.level, zero())]
        d = nearest(code, "district")
        if d is not None:
            buckets.append(by_district.setdefault(d, {"name": state.points[d].name, **zero()}))
        g = nearest(code, group_level)
        if g is not None:
            buckets.append(by_group.setdefault(g, {"name": state.points[g].name, "level": group_level, **zero()}))
        for bucket in buckets:
            for k in KEYS:
                bucket[k] += add[k]
    incidents = sum(1 for i in state.incidents.values() if i.open)
    return {
        "as_of_ms": NOW,
        **overall,
        "incidents_open": incidents,
        "by_level": dict(sorted(by_level.items())),
        "by_district": dict(sorted(by_district.items())),
        "group_level": group_level,
        "by_group": dict(sorted(by_group.items())),
    }


def assert_consistent(state: EventState) -> dict[str, Any]:
    """Incremental totals == the oracle == a rebuild; returns them."""
    incremental = totals_of(state)
    assert incremental == recount(state)
    state.rebuild()
    assert totals_of(state) == incremental
    return incremental


# -- the Bucket and Totals objects ----------------------------------------------------


def test_bucket_add_and_subtract() -> None:
    b = Bucket()
    b.add((1, 1, 30, 50), +1)
    b.add((0, 1, 0, 20), +1)
    assert b.to_dict() == {"points": 2, "checked_in": 1, "online": 2, "attendees": 30, "expected": 70}
    b.add((1, 1, 30, 50), -1)
    assert b.to_dict() == {"points": 1, "checked_in": 0, "online": 1, "attendees": 0, "expected": 20}


def test_totals_to_dict_shape_and_empty_buckets() -> None:
    t = Totals()
    t.add("commune", "D1", (1, 0, 10, 20), +1)
    t.add("province", None, (0, 1, 0, 100), +1)
    t.add("village", "D2", (0, 0, 0, 5), +1)
    t.add("village", "D2", (0, 0, 0, 5), -1)  # D2 and "village" are now empty
    t.incidents_open = 2
    out = t.to_dict(123.5, lambda code: f"name of {code}")
    assert out == {
        "as_of_ms": 123.5, "points": 2, "checked_in": 1, "online": 1, "attendees": 10, "expected": 120,
        "incidents_open": 2,
        "by_level": {
            "commune": {"points": 1, "checked_in": 1, "online": 0, "attendees": 10, "expected": 20},
            "province": {"points": 1, "checked_in": 0, "online": 1, "attendees": 0, "expected": 100},
        },
        "by_district": {
            "D1": {"name": "name of D1", "points": 1, "checked_in": 1, "online": 0, "attendees": 10,
                   "expected": 20},
        },
        "group_level": None,
        "by_group": {},
    }


# -- the tree's roll-up ------------------------------------------------------------------


def test_the_tree_before_anything_happens(th: Journal) -> None:
    totals = assert_consistent(th.state)
    assert totals["points"] == 9
    assert totals["expected"] == sum(e for _, _, e in TH_TREE.values())
    assert (totals["checked_in"], totals["online"], totals["attendees"], totals["incidents_open"]) == (0, 0, 0, 0)
    assert totals["by_district"] == {
        "D1": {"name": "Huyện Triệu Sơn", "points": 4, "checked_in": 0, "online": 0, "attendees": 0,
               "expected": 100 + 50 + 40 + 20},
        "D2": {"name": "Huyện Đông Sơn", "points": 2, "checked_in": 0, "online": 0, "attendees": 0,
               "expected": 80 + 30},
    }
    assert {lvl: b["points"] for lvl, b in totals["by_level"].items()} == {
        "province": 1, "district": 2, "commune": 3, "village": 1, "department": 1, "school": 1,
    }


@pytest.mark.parametrize(("code", "level", "district"), [(c, lvl, d) for c, (lvl, d, _) in TH_TREE.items()])
def test_a_checkin_counts_in_overall_its_level_and_its_district(th: Journal, code: str, level: str,
                                                                 district: str | None) -> None:
    before = totals_of(th.state)
    th.checkin(code, 17)
    pts.connect(th.state, code, NOW)
    after = assert_consistent(th.state)
    delta = {"checked_in": 1, "online": 1, "attendees": 17}
    for key, d in delta.items():
        assert after[key] - before[key] == d
        assert after["by_level"][level][key] - before["by_level"][level][key] == d
        for other, bucket in after["by_district"].items():
            moved = bucket[key] - before["by_district"][other][key]
            assert moved == (d if other == district else 0), (other, key)


def test_district_rolls_up_its_own_point_communes_and_villages(th: Journal) -> None:
    th.checkin("D1", 100)
    th.checkin("C1", 40)
    th.checkin("V1", 15)
    th.checkin("C3", 25)
    th.checkin("TH", 150)
    th.checkin("SGD", 30)
    th.checkin("LS", 280)
    totals = assert_consistent(th.state)
    assert totals["by_district"]["D1"]["attendees"] == 100 + 40 + 15
    assert totals["by_district"]["D1"]["checked_in"] == 3
    assert totals["by_district"]["D2"]["attendees"] == 25
    assert totals["attendees"] == 100 + 40 + 15 + 25 + 150 + 30 + 280
    # The province hall, the department and the school count outside any district.
    assert sum(b["attendees"] for b in totals["by_district"].values()) == totals["attendees"] - 150 - 30 - 280
    assert totals["by_level"]["school"]["attendees"] == 280
    assert totals["by_level"]["department"]["attendees"] == 30


def test_attendees_update_replaces_the_contribution(th: Journal) -> None:
    th.checkin("V1", 10)
    th.count("V1", 12)
    th.count("V1", 7)
    totals = assert_consistent(th.state)
    assert totals["attendees"] == 7
    assert totals["by_district"]["D1"]["attendees"] == 7


@pytest.mark.parametrize(
    ("ops", "online"),
    [
        ([("+", "C1")], {"C1"}),
        ([("+", "C1"), ("+", "C1")], {"C1"}),
        ([("+", "C1"), ("+", "C1"), ("-", "C1")], {"C1"}),
        ([("+", "C1"), ("+", "C1"), ("-", "C1"), ("-", "C1")], set()),
        ([("+", "C1"), ("+", "V1"), ("+", "TH")], {"C1", "V1", "TH"}),
        ([("+", "LS"), ("-", "LS"), ("-", "LS"), ("+", "LS")], {"LS"}),
    ],
)
def test_presence_changes_online(th: Journal, ops: list[tuple[str, str]], online: set[str]) -> None:
    for sign, code in ops:
        (pts.connect if sign == "+" else pts.disconnect)(th.state, code, NOW)
    totals = assert_consistent(th.state)
    assert totals["online"] == len(online)
    assert totals["by_district"]["D1"]["online"] == len(online & {"D1", "C1", "C2", "V1"})
    assert {c for c in TH_TREE if th.state.online(c)} == online


@pytest.fixture
def busy(th: Journal) -> Journal:
    """C1 (40) and V1 (15) checked in and online, C2 (30) checked in; C3 (25) checked in."""
    th.checkin("C1", 40)
    th.checkin("V1", 15)
    th.checkin("C2", 30)
    th.checkin("C3", 25)
    pts.connect(th.state, "C1", NOW)
    pts.connect(th.state, "V1", NOW)
    return th


def test_moving_a_commune_to_another_district_moves_its_numbers(busy: Journal) -> None:
    before = totals_of(busy.state)
    busy.decide(pts.decide_patch(busy.state, "C1", {"parent": "D2"}, NOW, ADMIN))
    after = assert_consistent(busy.state)
    moved = {"points": 2, "checked_in": 2, "online": 2, "attendees": 55, "expected": 70}  # C1 and V1
    for key, d in moved.items():
        assert after["by_district"]["D1"][key] == before["by_district"]["D1"][key] - d
        assert after["by_district"]["D2"][key] == before["by_district"]["D2"][key] + d
        assert after[key] == before[key]
    assert busy.state.live.district_of["V1"] == "D2"
    assert pts.point_view(busy.state, busy.state.points["V1"])["district"] == "D2"


def test_moving_a_commune_out_of_every_district(busy: Journal) -> None:
    busy.decide(pts.decide_patch(busy.state, "C1", {"parent": "TH"}, NOW, ADMIN))
    after = assert_consistent(busy.state)
    assert after["by_district"]["D1"]["attendees"] == 30
    assert busy.state.live.district_of["V1"] is None


def test_a_commune_becoming_a_district_takes_its_village(busy: Journal) -> None:
    busy.decide(pts.decide_patch(busy.state, "C1", {"level": "district"}, NOW, ADMIN))
    after = assert_consistent(busy.state)
    assert after["by_district"]["C1"] == {"name": "Xã Dân Lực", "points": 2, "checked_in": 2, "online": 2,
                                          "attendees": 55, "expected": 70}
    assert after["by_district"]["D1"]["points"] == 2


def test_renaming_a_district_renames_its_totals(busy: Journal) -> None:
    busy.decide(pts.decide_patch(busy.state, "D1", {"name": "Huyện Triệu Sơn (mới)"}, NOW, ADMIN))
    assert assert_consistent(busy.state)["by_district"]["D1"]["name"] == "Huyện Triệu Sơn (mới)"


@pytest.mark.parametrize(
    ("body", "key", "delta"),
    [({"expected": 90}, "expected", 40), ({"expected": 0}, "expected", -50)],
)
def test_a_patch_of_expected_changes_the_totals(busy: Journal, body: dict[str, Any], key: str,
                                                delta: int) -> None:
    before = totals_of(busy.state)
    busy.decide(pts.decide_patch(busy.state, "C1", body, NOW, ADMIN))
    after = assert_consistent(busy.state)
    assert after[key] - before[key] == delta
    assert after["by_district"]["D1"][key] - before["by_district"]["D1"][key] == delta


@pytest.mark.parametrize(("code", "district"), [("V1", "D1"), ("C3", "D2"), ("LS", None), ("C2", "D1")])
def test_delete_removes_its_contribution(busy: Journal, code: str, district: str | None) -> None:
    pts.connect(busy.state, code, NOW)
    before = totals_of(busy.state)
    point = busy.state.points[code]
    gone = {"points": 1, "checked_in": int(point.checked_in), "online": 1,
            "attendees": point.attendees if point.checked_in else 0, "expected": point.expected}
    busy.decide(pts.decide_delete(busy.state, code, NOW, ADMIN))
    after = assert_consistent(busy.state)
    for key, d in gone.items():
        assert after[key] == before[key] - d
        assert after["by_level"].get(point.level, dict.fromkeys(KEYS, 0))[key] == before["by_level"][point.level][key] - d
        if district:
            assert after["by_district"].get(district, dict.fromkeys(KEYS, 0))[key] == (
                before["by_district"][district][key] - d)


def test_deleting_a_whole_district_drops_it_from_by_district(th: Journal) -> None:
    for code in ("C3", "D2"):
        th.decide(pts.decide_delete(th.state, code, NOW, ADMIN))
    totals = assert_consistent(th.state)
    assert "D2" not in totals["by_district"]


def test_incidents_open_follow_open_and_resolve(busy: Journal) -> None:
    a = busy.incident("C1", "audio")
    busy.incident("LS", "power")
    assert assert_consistent(busy.state)["incidents_open"] == 2
    busy.decide(pts.decide_resolve_incident(busy.state, a, NOW, ADMIN))
    assert assert_consistent(busy.state)["incidents_open"] == 1


def test_a_point_that_connected_before_it_existed_counts_online_when_created(th: Journal) -> None:
    pts.connect(th.state, "C9", NOW)
    th.decide(pts.decide_create(th.state, {"code": "C9", "name": "Xã Chín", "level": "commune", "parent": "D2"},
                                NOW, "tok-c9", ADMIN))
    totals = assert_consistent(th.state)
    assert totals["by_district"]["D2"]["online"] == 1


def test_replay_equals_the_live_totals_but_for_presence(busy: Journal) -> None:
    busy.count("C1", 41)
    busy.decide(pts.decide_patch(busy.state, "C2", {"parent": "D2"}, NOW, ADMIN))
    replayed = busy.replay()
    for code, pres in busy.state.live.presence.items():
        for _ in range(pres.sockets):
            pts.connect(replayed, code, NOW)
    assert totals_of(replayed) == totals_of(busy.state)


# -- property: any sequence of changes keeps the incremental totals exact ------------------

CODES = list(TH_TREE)
COMMUNES = ["C1", "C2", "C3"]
PARENTS = ["D1", "D2", "TH", "SGD"]

op = st.one_of(
    st.tuples(st.just("checkin"), st.sampled_from(CODES), st.integers(0, 500), st.integers(0, 5)),
    st.tuples(st.just("count"), st.sampled_from(CODES), st.integers(0, 500), st.integers(0, 5)),
    st.tuples(st.just("connect"), st.sampled_from([*CODES, "GHOST"])),
    st.tuples(st.just("disconnect"), st.sampled_from([*CODES, "GHOST"])),
    st.tuples(st.just("incident"), st.sampled_from(CODES), st.integers(0, 3)),
    st.tuples(st.just("resolve"), st.integers(0, 20)),
    st.tuples(st.just("move"), st.sampled_from(COMMUNES), st.sampled_from(PARENTS)),
    st.tuples(st.just("expected"), st.sampled_from(CODES), st.integers(0, 1000)),
    st.tuples(st.just("refold"), st.integers(0, 200)),
    st.tuples(st.just("delete"), st.sampled_from(CODES)),
    st.tuples(st.just("create"), st.sampled_from(CODES)),
    st.tuples(st.just("group_level"), st.sampled_from([*LEVELS, None])),
    st.tuples(st.just("level"), st.sampled_from(CODES), st.sampled_from(["district", "commune", "village"])),
)
ROWS = {line[0]: dict(zip(TH_TABLE[0], line, strict=True)) for line in TH_TABLE[1:]}
# The same codes with no district level: D1 and D2 are communes, C1..C3 villages under them.
TWO_TIER_TABLE = [TH_TABLE[0], *[
    [r[0], r[1], {"district": "commune", "commune": "village"}.get(r[2], r[2]), *r[3:]] for r in TH_TABLE[1:]]]


def run(journal: Journal, ops: list[tuple[Any, ...]]) -> None:
    state = journal.state
    for step in ops:
        kind = step[0]
        try:
            if kind == "checkin":
                _, code, n, m = step
                journal.decide(pts.decide_checkin(state, code, f"ci{m}", n, NOW))
            elif kind == "count":
                _, code, n, m = step
                journal.decide(pts.decide_attendees(state, code, f"n{m}", n, NOW))
            elif kind == "connect":
                pts.connect(state, step[1], NOW)
            elif kind == "disconnect":
                pts.disconnect(state, step[1], NOW)
            elif kind == "incident":
                journal.decide(pts.decide_incident(state, step[1], f"i{step[2]}", "audio", "", NOW))
            elif kind == "resolve":
                ids = sorted(state.incidents)
                if ids:
                    inc = ids[step[1] % len(ids)]
                    journal.decide(pts.decide_resolve_incident(state, inc, NOW, ADMIN))
            elif kind == "move":
                journal.decide(pts.decide_patch(state, step[1], {"parent": step[2]}, NOW, ADMIN))
            elif kind == "expected":
                journal.decide(pts.decide_patch(state, step[1], {"expected": step[2]}, NOW, ADMIN))
            elif kind == "delete":
                journal.decide(pts.decide_delete(state, step[1], NOW, ADMIN))
            elif kind == "group_level":
                journal.fold(decide_edit_event(state, {"group_level": step[1]}, NOW, ADMIN))
            elif kind == "level":
                journal.decide(pts.decide_patch(state, step[1], {"level": step[2]}, NOW, ADMIN))
            elif kind == "create":
                journal.decide(pts.decide_create(state, ROWS[step[1]], NOW, f"tok-{len(journal.facts)}", ADMIN))
            elif kind == "refold":
                # A message fact delivered twice (a retry racing itself): must be a no-op.
                done = [fct for _, fct in journal.facts if getattr(fct, "msg_id", None)]
                if done:
                    journal.fold([done[step[1] % len(done)]])
        except LaunchdayError:
            pass  # refused (not checked in, closed incident, has children...): no facts


@settings(max_examples=200, deadline=None)
@given(ops=st.lists(op, max_size=60), two_tier=st.booleans())
def test_incremental_totals_equal_a_rebuild_for_any_sequence(ops: list[tuple[Any, ...]], two_tier: bool) -> None:
    """Catches a by_level, by_district or by_group bucket (or a point's group)
    that drifts from a recount: on the three-tier tree, or on the same tree
    with its districts turned into communes (a 2025 registry), under any mix
    of changes, group-level edits and level changes."""
    journal = Journal()
    journal.import_table(TWO_TIER_TABLE if two_tier else TH_TABLE)
    run(journal, ops)
    incremental = totals_of(journal.state)
    assert incremental == recount(journal.state)
    # From the journal's JSON, with presence replayed, the same totals again.
    replayed = journal.replay()
    for code, pres in journal.state.live.presence.items():
        for _ in range(pres.sockets):
            pts.connect(replayed, code, NOW)
    assert totals_of(replayed) == incremental
    journal.state.rebuild()
    assert totals_of(journal.state) == incremental
