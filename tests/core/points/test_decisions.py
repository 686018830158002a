"""Decisions (server/core/points/decisions.py): check-in, counts, incidents,
retried messages, and the organizer's create / patch / delete / rotate."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.errors import BadRequest, Conflict, LaunchdayError, NotFound

from ..conftest import ADMIN, NOW, TH_TABLE, Journal, totals_of
from .conftest import GOOD, INVALID_COUNTS, MESSAGES, point_dump, raises

# -- check-in ------------------------------------------------------------------


@pytest.mark.parametrize("attendees", [0, 1, 57, 999_999, 1_000_000])
def test_checkin_decides_one_fact_and_folds(th: Journal, attendees: int) -> None:
    decision = pts.decide_checkin(th.state, "C1", "m1", attendees, NOW + 5)
    assert decision.ack == {}
    [fact] = decision.facts
    assert isinstance(fact, f.CheckedIn)
    assert (fact.code, fact.msg_id, fact.attendees, fact.at_ms) == ("C1", "m1", attendees, NOW + 5)
    # Deciding is pure: nothing changed yet.
    assert not th.state.points["C1"].checked_in

    th.decide(decision)
    point = th.state.points["C1"]
    assert point.checked_in
    assert point.attendees == attendees
    assert point.checked_in_ms == NOW + 5
    assert point.updated_ms == NOW + 5
    assert point.applied == {"m1": {}}
    totals = totals_of(th.state)
    assert totals["checked_in"] == 1
    assert totals["attendees"] == attendees
    assert totals["by_district"]["D1"]["attendees"] == attendees
    assert totals["by_level"]["commune"]["checked_in"] == 1


@pytest.mark.parametrize("value", INVALID_COUNTS)
def test_checkin_rejects_invalid_counts(th: Journal, value: Any) -> None:
    with raises(BadRequest, "invalid_count"):
        pts.decide_checkin(th.state, "C1", "m1", value, NOW)


@pytest.mark.parametrize("value", INVALID_COUNTS)
def test_attendees_rejects_invalid_counts(th: Journal, value: Any) -> None:
    th.checkin("C1", 10)
    with raises(BadRequest, "invalid_count"):
        pts.decide_attendees(th.state, "C1", "m2", value, NOW)


def test_attendees_before_checkin_is_a_conflict(th: Journal) -> None:
    with raises(Conflict, "not_checked_in") as info:
        pts.decide_attendees(th.state, "C1", "m1", 10, NOW)
    assert info.value.status == 409
    assert info.value.to_frame("m1") == {
        "type": "error", "id": "m1", "code": "not_checked_in", "message": info.value.message,
    }


def test_attendees_after_checkin_updates_the_count(th: Journal) -> None:
    th.checkin("C1", 10, now_ms=NOW)
    th.count("C1", 35, now_ms=NOW + 60_000)
    point = th.state.points["C1"]
    assert point.attendees == 35
    assert point.checked_in_ms == NOW  # the first check-in time is kept
    assert point.updated_ms == NOW + 60_000
    assert totals_of(th.state)["attendees"] == 35


def test_a_second_checkin_keeps_the_first_time_and_takes_the_new_count(th: Journal) -> None:
    th.checkin("C1", 10, msg_id="a", now_ms=NOW)
    th.checkin("C1", 12, msg_id="b", now_ms=NOW + 1000)
    point = th.state.points["C1"]
    assert (point.attendees, point.checked_in_ms, point.updated_ms) == (12, NOW, NOW + 1000)
    assert totals_of(th.state)["checked_in"] == 1
    assert totals_of(th.state)["attendees"] == 12


@pytest.mark.parametrize(
    "decide",
    [
        lambda s: pts.decide_checkin(s, "NOPE", "m", 1, NOW),
        lambda s: pts.decide_attendees(s, "NOPE", "m", 1, NOW),
        lambda s: pts.decide_incident(s, "NOPE", "m", "audio", "", NOW),
        lambda s: pts.decide_point_resolve(s, "NOPE", "m", "inc-x", NOW),
        lambda s: pts.decide_patch(s, "NOPE", {"name": "x"}, NOW, ADMIN),
        lambda s: pts.decide_delete(s, "NOPE", NOW, ADMIN),
        lambda s: pts.decide_rotate(s, "NOPE", "t", NOW, ADMIN),
    ],
    ids=["checkin", "attendees", "incident", "resolve", "patch", "delete", "rotate"],
)
def test_unknown_point_is_not_found(th: Journal, decide: Any) -> None:
    with raises(NotFound, "point_not_found"):
        decide(th.state)


# -- incidents -------------------------------------------------------------------


@pytest.mark.parametrize("kind", f.INCIDENT_KINDS)
def test_incident_opens_with_an_id_in_the_ack(th: Journal, kind: str) -> None:
    decision = pts.decide_incident(th.state, "C2", "i1", kind, "mất tiếng", NOW)
    [fact] = decision.facts
    assert isinstance(fact, f.IncidentOpened)
    assert decision.ack == {"incident": fact.incident}
    assert fact.incident == pts.incident_id("C2", "i1")
    assert fact.incident.startswith("inc-")
    th.decide(decision)
    inc = th.state.incidents[fact.incident]
    assert (inc.point, inc.kind, inc.note, inc.opened_ms, inc.open) == ("C2", kind, "mất tiếng", NOW, True)
    assert th.state.points["C2"].applied["i1"] == {"incident": fact.incident}
    assert totals_of(th.state)["incidents_open"] == 1
    assert pts.status_of(th.state, th.state.points["C2"]) == "incident"


@pytest.mark.parametrize(
    ("note", "stored"),
    [
        ("", ""),
        (None, ""),
        ("  mất   điện  ", "mất điện"),
        ("x" * pts.MAX_NOTE, "x" * pts.MAX_NOTE),
        ("Hoa\u0300ng", "Hoàng"),  # NFC
    ],
    ids=["empty", "none", "trimmed", "max-length", "nfc"],
)
def test_incident_note_is_cleaned(th: Journal, note: Any, stored: str) -> None:
    inc = th.incident("C2", "power", note)
    assert th.state.incidents[inc].note == stored


@pytest.mark.parametrize(
    "note",
    [pytest.param("x" * (pts.MAX_NOTE + 1), id="too-long"), pytest.param(5, id="number"),
     pytest.param(["a"], id="list")],
)
def test_incident_rejects_bad_notes(th: Journal, note: Any) -> None:
    with raises(BadRequest, "invalid_note"):
        pts.decide_incident(th.state, "C2", "i1", "audio", note, NOW)


@pytest.mark.parametrize("kind", ["fire", "", None, "AUDIO", " audio", 1, ["audio"]])
def test_incident_rejects_unknown_kinds(th: Journal, kind: Any) -> None:
    with raises(BadRequest, "invalid_kind"):
        pts.decide_incident(th.state, "C2", "i1", kind, "", NOW)


def test_incident_ids_differ_by_point_and_message() -> None:
    ids = {pts.incident_id(code, msg) for code in ("C1", "C2") for msg in ("a", "b")}
    assert len(ids) == 4
    assert pts.incident_id("C1", "a") == pts.incident_id("C1", "a")


def test_point_resolves_its_own_incident(th: Journal) -> None:
    inc = th.incident("C2", "video")
    decision = pts.decide_point_resolve(th.state, "C2", "r1", inc, NOW + 10)
    [fact] = decision.facts
    assert isinstance(fact, f.IncidentResolved)
    assert (fact.code, fact.msg_id, fact.incident, fact.actor) == ("C2", "r1", inc, None)
    th.decide(decision)
    incident = th.state.incidents[inc]
    assert (incident.open, incident.resolved_ms, incident.resolved_by) == (False, NOW + 10, "point")
    assert totals_of(th.state)["incidents_open"] == 0
    assert pts.status_of(th.state, th.state.points["C2"]) == "pending"


@pytest.mark.parametrize(
    ("incident", "setup"),
    [
        pytest.param("inc-000000000000", "none", id="unknown-id"),
        pytest.param(None, "none", id="none"),
        pytest.param(42, "none", id="number"),
        pytest.param("OTHER", "other-point", id="other-points-incident"),
    ],
)
def test_point_resolve_of_an_incident_not_its_own_is_not_found(th: Journal, incident: Any, setup: str) -> None:
    if setup == "other-point":
        incident = th.incident("C1", "audio")
    with raises(NotFound, "incident_not_found"):
        pts.decide_point_resolve(th.state, "C2", "r1", incident, NOW)
    if setup == "other-point":
        assert th.state.incidents[incident].open


def test_point_resolving_twice_is_incident_closed(th: Journal) -> None:
    inc = th.incident("C2")
    th.decide(pts.decide_point_resolve(th.state, "C2", "r1", inc, NOW))
    with raises(Conflict, "incident_closed"):
        pts.decide_point_resolve(th.state, "C2", "r2", inc, NOW)


def test_organizer_resolves_an_incident(th: Journal) -> None:
    inc = th.incident("V1", "network", "mất mạng")
    decision = pts.decide_resolve_incident(th.state, inc, NOW + 30, ADMIN)
    [fact] = decision.facts
    assert (fact.code, fact.msg_id, fact.actor, fact.incident) == ("V1", None, ADMIN, inc)
    th.decide(decision)
    assert th.state.incidents[inc].resolved_by == ADMIN
    assert totals_of(th.state)["incidents_open"] == 0
    # Neither the organizer nor the point can close it again.
    with raises(Conflict, "incident_closed"):
        pts.decide_resolve_incident(th.state, inc, NOW, ADMIN)
    with raises(Conflict, "incident_closed"):
        pts.decide_point_resolve(th.state, "V1", "r9", inc, NOW)


def test_organizer_resolving_an_unknown_incident_is_not_found(th: Journal) -> None:
    with raises(NotFound, "incident_not_found"):
        pts.decide_resolve_incident(th.state, "inc-nope", NOW, ADMIN)


def test_open_incidents_count_per_point_and_overall(th: Journal) -> None:
    a = th.incident("C1", "audio")
    b = th.incident("C1", "video")
    th.incident("C3", "power")
    assert th.state.live.open_incidents == {"C1": 2, "C3": 1}
    assert totals_of(th.state)["incidents_open"] == 3
    th.decide(pts.decide_resolve_incident(th.state, a, NOW, ADMIN))
    assert th.state.live.open_incidents == {"C1": 1, "C3": 1}
    assert pts.status_of(th.state, th.state.points["C1"]) == "incident"
    th.decide(pts.decide_point_resolve(th.state, "C1", "r", b, NOW))
    assert th.state.live.open_incidents == {"C3": 1}
    assert totals_of(th.state)["incidents_open"] == 1


# -- idempotency ---------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MESSAGES))
def test_same_msg_id_decided_again_returns_no_facts_and_the_same_ack(busy: Journal, kind: str) -> None:
    first, retry = MESSAGES[kind]
    decision = busy.decide(first(busy.state))
    assert len(decision.facts) == 1
    before = (totals_of(busy.state), point_dump(busy.state), busy.state.seq)
    again = retry(busy.state)
    assert again.facts == []
    assert again.ack == decision.ack
    assert (totals_of(busy.state), point_dump(busy.state), busy.state.seq) == before


@pytest.mark.parametrize(
    "retry",
    [
        lambda s: pts.decide_checkin(s, "C1", "open", "garbage", NOW),
        lambda s: pts.decide_attendees(s, "C1", "open", -5, NOW),
        lambda s: pts.decide_incident(s, "C1", "open", "fire", 7, NOW),
        lambda s: pts.decide_point_resolve(s, "C1", "open", None, NOW),
    ],
    ids=["checkin", "attendees", "incident", "resolve"],
)
def test_an_applied_msg_id_is_answered_before_its_body_is_checked(busy: Journal, retry: Any) -> None:
    decision = retry(busy.state)
    assert decision.facts == []
    assert decision.ack == {"incident": pts.incident_id("C1", "open")}


def test_incident_retry_keeps_the_incident_id(busy: Journal) -> None:
    again = pts.decide_incident(busy.state, "C1", "open", "video", "", NOW + 500)
    assert again.facts == []
    assert again.ack == {"incident": pts.incident_id("C1", "open")}
    assert len(busy.state.incidents) == 1


# -- organizer commands: create, patch, delete, rotate ---------------------------------


def test_create_a_point(th: Journal) -> None:
    decision = pts.decide_create(th.state, GOOD, NOW, "tok-new", ADMIN)
    [fact] = decision.facts
    assert isinstance(fact, f.PointUpserted)
    assert (fact.token, fact.actor, fact.expected, fact.parent) == ("tok-new", ADMIN, 45, "D1")
    th.decide(decision)
    assert th.state.live.district_of["C4"] == "D1"
    assert th.state.live.by_token["tok-new"] == "C4"
    assert totals_of(th.state)["by_district"]["D1"]["expected"] == 210 + 45


@pytest.mark.parametrize(
    ("body", "exc", "code"),
    [
        ({**GOOD, "code": "C1"}, Conflict, "duplicate_code"),
        ({**GOOD, "parent": "NOPE"}, BadRequest, "validation_error"),
        ({**GOOD, "parent": "C4"}, BadRequest, "validation_error"),  # itself, not yet a point
    ],
)
def test_create_refusals(th: Journal, body: dict[str, Any], exc: type[LaunchdayError], code: str) -> None:
    with raises(exc, code):
        pts.decide_create(th.state, body, NOW, "tok", ADMIN)


@pytest.mark.parametrize(
    ("code", "body", "exc", "err"),
    [
        ("C1", {"colour": "red"}, BadRequest, "validation_error"),  # its code before unknown_field existed
        ("C1", {"name": "x", "token": "steal"}, BadRequest, "validation_error"),
        ("C1", {"code": "C9"}, BadRequest, "validation_error"),
        ("C1", {"name": ""}, BadRequest, "validation_error"),
        ("C1", {"level": "hamlet"}, BadRequest, "validation_error"),
        ("C1", {"expected": -3}, BadRequest, "validation_error"),
        ("C1", {"parent": "NOPE"}, BadRequest, "validation_error"),
        ("C1", {"parent": "C1"}, BadRequest, "validation_error"),  # itself
        ("C1", {"parent": "V1"}, BadRequest, "validation_error"),  # its own child
        ("D1", {"parent": "V1"}, BadRequest, "validation_error"),  # its grandchild
        ("TH", {"parent": "C3"}, BadRequest, "validation_error"),  # the root under a leaf
        ("NOPE", {"name": "x"}, NotFound, "point_not_found"),
    ],
)
def test_patch_refusals(th: Journal, code: str, body: dict[str, Any], exc: type[LaunchdayError], err: str) -> None:
    with raises(exc, err):
        pts.decide_patch(th.state, code, body, NOW, ADMIN)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "Xã Dân Lực"},
        {"name": "  Xã Dân  Lực "},
        {"code": "C1", "expected": "50"},
        {"parent": "D1", "level": "Commune"},
    ],
)
def test_patch_that_changes_nothing_decides_nothing(th: Journal, body: dict[str, Any]) -> None:
    assert pts.decide_patch(th.state, "C1", body, NOW, ADMIN).facts == []


@pytest.mark.parametrize(
    ("body", "check"),
    [
        ({"phone": "0999"}, lambda p: p.phone == "0999"),
        ({"expected": 75}, lambda p: p.expected == 75),
        ({"parent": "D2"}, lambda p: p.parent == "D2"),
        ({"parent": None, "level": "other"}, lambda p: p.parent is None and p.level == "other"),
        ({"chair": ""}, lambda p: p.chair == ""),
    ],
)
def test_patch_changes_only_the_given_fields(th: Journal, body: dict[str, Any], check: Any) -> None:
    old = asdict(th.state.points["C1"])
    [fact] = th.decide(pts.decide_patch(th.state, "C1", body, NOW, ADMIN)).facts
    assert fact.token == old["token"]
    point = th.state.points["C1"]
    assert check(point)
    for name in pts.POINT_FIELDS:
        if name not in body:
            assert getattr(point, name) == old[name]


def test_delete_a_leaf(th: Journal) -> None:
    token = th.state.points["V1"].token
    [fact] = th.decide(pts.decide_delete(th.state, "V1", NOW, ADMIN)).facts
    assert isinstance(fact, f.PointDeleted)
    assert "V1" not in th.state.points
    assert token not in th.state.live.by_token
    assert "V1" not in th.state.live.district_of
    assert "V1" not in th.state.live.search


@pytest.mark.parametrize(
    ("code", "children"),
    [("TH", {"D1", "D2", "SGD", "LS"}), ("D1", {"C1", "C2"}), ("C1", {"V1"})],
)
def test_delete_a_parent_is_has_children(th: Journal, code: str, children: set[str]) -> None:
    with raises(Conflict, "has_children") as info:
        pts.decide_delete(th.state, code, NOW, ADMIN)
    assert set(info.value.details["children"]) == children


def test_rotate_a_token(th: Journal) -> None:
    old = th.state.points["C3"].token
    th.decide(pts.decide_rotate(th.state, "C3", "tok-rotated", NOW, ADMIN))
    assert th.state.points["C3"].token == "tok-rotated"
    assert th.state.live.by_token["tok-rotated"] == "C3"
    assert old not in th.state.live.by_token
    # Re-importing the same sheet afterwards changes nothing, and keeps the new token.
    assert th.import_table(TH_TABLE).facts == []
    assert th.state.points["C3"].token == "tok-rotated"
