"""Points: check-in, counts, incidents, idempotency, presence, views, filters,
and the organizer's create / patch / delete / rotate."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.errors import BadRequest, Conflict, LaunchdayError, NotFound
from server.core.fold import apply, snapshot
from server.core.state import EventState

from .conftest import ADMIN, NOW, TH_TABLE, TH_TREE, Journal, roundtrip, totals_of

INVALID_COUNTS = [
    pytest.param(-1, id="negative"),
    pytest.param(True, id="bool-true"),
    pytest.param(False, id="bool-false"),
    pytest.param(1.0, id="float-whole"),
    pytest.param(2.5, id="float"),
    pytest.param("10", id="string"),
    pytest.param("", id="empty-string"),
    pytest.param(None, id="none"),
    pytest.param([10], id="list"),
    pytest.param({"n": 1}, id="dict"),
    pytest.param(1_000_001, id="too-big"),
    pytest.param(10**18, id="huge"),
]


def point_dump(state: EventState) -> dict[str, Any]:
    return {code: asdict(p) for code, p in state.points.items()}


def raises(exc: type[LaunchdayError], code: str) -> Any:
    """pytest.raises for a coded error; checks the code after the block."""
    return _Raises(exc, code)


class _Raises:
    def __init__(self, exc: type[LaunchdayError], code: str) -> None:
        self.exc, self.code = exc, code
        self._ctx = pytest.raises(exc)

    def __enter__(self) -> Any:
        self.info = self._ctx.__enter__()
        return self.info

    def __exit__(self, *exc_info: Any) -> bool:
        handled = bool(self._ctx.__exit__(*exc_info))
        if handled:
            assert self.info.value.code == self.code, (self.info.value.code, self.info.value.message)
        return handled


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


# -- idempotency -------------------------------------------------------------------

# Each case: (decide a first message with id "dup", decide a retry of it).
MESSAGES = {
    "checkin": (
        lambda s: pts.decide_checkin(s, "C1", "dup", 25, NOW),
        lambda s: pts.decide_checkin(s, "C1", "dup", 25, NOW + 99),
    ),
    "attendees": (
        lambda s: pts.decide_attendees(s, "C1", "dup", 30, NOW),
        lambda s: pts.decide_attendees(s, "C1", "dup", 30, NOW + 99),
    ),
    "incident": (
        lambda s: pts.decide_incident(s, "C1", "dup", "audio", "no sound", NOW),
        lambda s: pts.decide_incident(s, "C1", "dup", "audio", "no sound", NOW + 99),
    ),
    "incident.resolve": (
        lambda s: pts.decide_point_resolve(s, "C1", "dup", pts.incident_id("C1", "open"), NOW),
        lambda s: pts.decide_point_resolve(s, "C1", "dup", pts.incident_id("C1", "open"), NOW + 99),
    ),
}


@pytest.fixture
def busy(th: Journal) -> Journal:
    """C1 checked in with one open incident (opened by message "open")."""
    th.checkin("C1", 20, msg_id="first")
    th.incident("C1", "video", msg_id="open")
    return th


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
    assert totals_of(restored) == live


def test_snapshot_is_plain_json(busy: Journal) -> None:
    text = json.dumps(snapshot(busy.state))
    data = json.loads(text)
    assert data["info"]["id"] == busy.state.info.id
    assert {p["code"] for p in data["points"]} == set(TH_TREE)


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


@pytest.mark.parametrize(
    ("offset", "rtt"),
    [("1", 2), (1, "2"), (None, 2), (True, 2), (1, False), (1, -0.5)],
)
def test_clock_sync_rejects_bad_figures(th: Journal, offset: Any, rtt: Any) -> None:
    with raises(BadRequest, "validation_error"):
        pts.clock_synced(th.state, "C1", offset, rtt, NOW)


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


# -- organizer commands: create, patch, delete, rotate ---------------------------------

GOOD = {"code": "C4", "name": "Xã Thọ Ngọc", "level": "commune", "parent": "D1", "chair": "Lý Văn M",
        "phone": "0920000004", "expected": 45}


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
        ("C1", {"colour": "red"}, BadRequest, "validation_error"),
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


# -- races between organizer commands (the fold must stay total) ------------------------
# Regressions: the fold used to apply a delete that had lost a race with a child's
# creation (leaving an orphan and totals that differed from a rebuild), and a
# parent change that closed a loop with a racing patch.

CHILD = {"code": "V1-A", "name": "Xóm A", "level": "other", "parent": "V1", "expected": 5}


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
