"""Folds (server/core/points/folds.py): folding twice, racing deciders,
stale and unknown facts, replays and snapshots, races between organizer commands."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.fold import apply, snapshot

from ..conftest import ADMIN, NOW, TH_TREE, Journal, roundtrip, totals_of
from .conftest import CHILD, MESSAGES, point_dump


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_folding_the_same_fact_twice_is_a_no_op(busy: Journal, kind: str) -> None:
    first, _ = MESSAGES[kind]
    decision = busy.decide(first(busy.state))
    before = (totals_of(busy.state), point_dump(busy.state), copy.deepcopy(busy.state.incidents))
    busy.fold(decision.facts)
    assert (totals_of(busy.state), point_dump(busy.state), busy.state.incidents) == before


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_idempotency_survives_snapshot_json_restore(busy: Journal, kind: str) -> None:
    first, retry = MESSAGES[kind]
    decision = busy.decide(first(busy.state))
    restored = roundtrip(busy.state)
    assert restored.points["C1"].applied == busy.state.points["C1"].applied
    again = retry(restored)
    assert again.facts == []
    assert again.ack == decision.ack
    # And the journal's copy of the fact, replayed onto the restored state, changes nothing.
    before = (totals_of(restored), point_dump(restored))
    for fact in decision.facts:
        apply(restored, fact, restored.seq + 1)
    assert (totals_of(restored), point_dump(restored)) == before


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_two_deciders_racing_on_one_old_state_fold_once(busy: Journal, kind: str) -> None:
    """Two sockets (or processes) decide the same message id on the same state:
    both produce a fact; the journal holds both; the fold applies the first only."""
    first, retry = MESSAGES[kind]
    a = first(busy.state)
    b = retry(busy.state)
    assert len(a.facts) == len(b.facts) == 1
    assert a.ack == b.ack
    busy.fold([*a.facts, *b.facts])
    once = Journal()
    once.facts = busy.facts[:-1]
    expected = once.replay()
    assert totals_of(busy.state) == totals_of(expected)
    assert point_dump(busy.state) == point_dump(expected)
    assert busy.state.incidents == expected.incidents


def test_racing_incidents_with_one_msg_id_open_one_incident(th: Journal) -> None:
    a = pts.decide_incident(th.state, "C3", "same", "power", "first", NOW)
    b = pts.decide_incident(th.state, "C3", "same", "power", "first", NOW + 1)
    th.fold([*a.facts, *b.facts])
    assert list(th.state.incidents) == [a.ack["incident"]]
    assert th.state.incidents[a.ack["incident"]].opened_ms == NOW
    assert totals_of(th.state)["incidents_open"] == 1
    assert th.state.live.open_incidents == {"C3": 1}


def test_racing_resolves_close_once(th: Journal) -> None:
    inc = th.incident("C3")
    by_point = pts.decide_point_resolve(th.state, "C3", "r1", inc, NOW + 1)
    by_org = pts.decide_resolve_incident(th.state, inc, NOW + 2, ADMIN)
    th.fold([*by_point.facts, *by_org.facts])
    incident = th.state.incidents[inc]
    assert (incident.resolved_ms, incident.resolved_by) == (NOW + 1, "point")
    assert totals_of(th.state)["incidents_open"] == 0
    assert th.state.live.open_incidents == {}


def test_a_stale_attendees_fact_for_a_point_not_checked_in_is_a_no_op(th: Journal) -> None:
    fact = f.AttendeesCounted(at_ms=NOW, code="C1", msg_id="x", count=5)
    th.fold([fact])
    assert not th.state.points["C1"].checked_in
    assert th.state.points["C1"].applied == {}
    assert totals_of(th.state)["attendees"] == 0


@pytest.mark.parametrize(
    "fact",
    [
        f.CheckedIn(at_ms=NOW, code="GONE", msg_id="m", attendees=1),
        f.AttendeesCounted(at_ms=NOW, code="GONE", msg_id="m", count=1),
        f.IncidentOpened(at_ms=NOW, code="GONE", msg_id="m", incident="inc-x", kind="audio", note=""),
        f.IncidentResolved(at_ms=NOW, code="GONE", msg_id="m", incident="inc-x"),
        f.PointDeleted(at_ms=NOW, code="GONE"),
        f.TokenRotated(at_ms=NOW, code="GONE", token="t"),
    ],
    ids=lambda fact: fact.type,
)
def test_facts_about_an_unknown_point_fold_as_no_ops(th: Journal, fact: Any) -> None:
    before = (totals_of(th.state), point_dump(th.state), dict(th.state.incidents))
    th.fold([fact])
    assert (totals_of(th.state), point_dump(th.state), th.state.incidents) == before
    assert th.state.seq == len(th.facts)


def test_replaying_the_json_journal_gives_the_same_state(busy: Journal) -> None:
    busy.count("C1", 44)
    busy.checkin("V1", 12)
    inc = busy.incident("V1", "other", "ồn, \"nhiễu\"")
    busy.decide(pts.decide_resolve_incident(busy.state, inc, NOW + 1, ADMIN))
    busy.decide(pts.decide_patch(busy.state, "C2", {"parent": "D2"}, NOW, ADMIN))
    replayed = busy.replay()
    assert (replayed.info, replayed.seq) == (busy.state.info, busy.state.seq)
    assert replayed.points == busy.state.points
    assert replayed.incidents == busy.state.incidents
    assert totals_of(replayed) == totals_of(busy.state)
    assert replayed.live.district_of == busy.state.live.district_of
    assert replayed.live.by_token == busy.state.live.by_token


def test_snapshot_restore_keeps_everything_but_presence(busy: Journal) -> None:
    pts.connect(busy.state, "C1", NOW)
    restored = roundtrip(busy.state)
    assert restored.info == busy.state.info
    assert restored.points == busy.state.points
    assert restored.incidents == busy.state.incidents
    assert restored.seq == busy.state.seq
    assert restored.live.open_incidents == busy.state.live.open_incidents
    assert restored.live.search == busy.state.live.search
    assert not restored.online("C1")
    live = totals_of(busy.state)
    live["online"] -= 1
    live["by_level"]["commune"]["online"] -= 1
    live["by_district"]["D1"]["online"] -= 1
    live["by_group"]["D1"]["online"] -= 1
    assert totals_of(restored) == live
    assert restored.live.group_of == busy.state.live.group_of


def test_snapshot_is_plain_json(busy: Journal) -> None:
    text = json.dumps(snapshot(busy.state))
    data = json.loads(text)
    assert data["info"]["id"] == busy.state.info.id
    assert {p["code"] for p in data["points"]} == set(TH_TREE)


# -- races between organizer commands (the fold must stay total) ------------------------
# Regressions: the fold used to apply a delete that had lost a race with a child's
# creation (leaving an orphan and totals that differed from a rebuild), and a
# parent change that closed a loop with a racing patch.


@pytest.mark.parametrize("order", ["child-first", "delete-first"])
def test_delete_racing_a_child_create_keeps_the_tree_whole(th: Journal, order: str) -> None:
    delete = pts.decide_delete(th.state, "V1", NOW, ADMIN)
    child = pts.decide_create(th.state, CHILD, NOW, "tok-a", ADMIN)
    facts = [*child.facts, *delete.facts] if order == "child-first" else [*delete.facts, *child.facts]
    th.fold(facts)
    # Whichever was journaled first wins; the other folds as a no-op.
    if order == "child-first":
        assert {"V1", "V1-A"} <= set(th.state.points)
        assert th.state.live.district_of["V1-A"] == "D1"
    else:
        assert "V1" not in th.state.points and "V1-A" not in th.state.points
        assert "tok-a" not in th.state.live.by_token
    assert pts.upsert_applied(th.state, child.facts[0]) is (order == "child-first")
    # No point is left with a parent that is not a point, and the totals are exact.
    assert all(p.parent is None or p.parent in th.state.points for p in th.state.points.values())
    incremental = totals_of(th.state)
    th.state.rebuild()
    assert incremental == totals_of(th.state)
    assert th.replay().points == th.state.points


def test_two_racing_patches_cannot_close_a_loop(th: Journal) -> None:
    a = pts.decide_patch(th.state, "C1", {"parent": "C2"}, NOW, ADMIN)
    b = pts.decide_patch(th.state, "C2", {"parent": "C1"}, NOW, ADMIN)
    th.fold([*a.facts, *b.facts])
    assert th.state.points["C1"].parent == "C2"  # the first one journaled won
    assert th.state.points["C2"].parent == "D1"  # the second lost
    assert pts.upsert_applied(th.state, a.facts[0])
    assert not pts.upsert_applied(th.state, b.facts[0])
    for code in ("C1", "C2"):
        assert not pts.would_cycle(th.state, code, th.state.points[code].parent)
    incremental = totals_of(th.state)
    th.state.rebuild()
    assert incremental == totals_of(th.state)


def test_a_create_under_a_parent_deleted_meanwhile_folds_as_a_no_op(th: Journal) -> None:
    create = pts.decide_create(th.state, {**CHILD, "parent": "LS"}, NOW, "tok-b", ADMIN)
    th.decide(pts.decide_delete(th.state, "LS", NOW, ADMIN))
    before = totals_of(th.state)
    th.fold(create.facts)
    assert "V1-A" not in th.state.points
    assert totals_of(th.state) == before


def test_deleting_a_point_closes_its_open_incidents(th: Journal) -> None:
    opened = pts.decide_incident(th.state, "V1", "m-del", "power", "", NOW)
    th.decide(opened)
    assert totals_of(th.state)["incidents_open"] == 1
    th.decide(pts.decide_delete(th.state, "V1", NOW + 1, ADMIN))
    assert totals_of(th.state)["incidents_open"] == 0
    inc = th.state.incidents[opened.ack["incident"]]
    assert (inc.open, inc.resolved_by) == (False, "point deleted")
    incremental = totals_of(th.state)
    th.state.rebuild()
    assert totals_of(th.state) == incremental
