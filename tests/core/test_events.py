"""Creating an event: validation of the body, and the state it starts."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import facts as f
from server.core.audit import AuditLog
from server.core.errors import BadRequest, LaunchdayError
from server.core.events import decide_create_event, decide_edit_event, event_view, instant_ms
from server.core.fold import apply, fold_facts
from server.core.state import new_state

from .conftest import ADMIN, NOW, Journal, roundtrip

BODY: dict[str, Any] = {
    "name": "Lễ phát động phong trào thi đua",
    "starts_at": "2025-05-08T08:00:00+07:00",
    "report_deadline": "2025-05-08T07:30:00+07:00",
    "timezone": "Asia/Ho_Chi_Minh",
}


def test_create_an_event() -> None:
    fact = decide_create_event("ev1", BODY, NOW, ADMIN)
    assert isinstance(fact, f.EventCreated)
    assert (fact.event_id, fact.name, fact.timezone, fact.actor, fact.at_ms) == (
        "ev1", BODY["name"], "Asia/Ho_Chi_Minh", ADMIN, NOW)
    assert fact.starts_at == "2025-05-08T08:00:00+07:00"
    assert instant_ms(fact.starts_at) == 1_746_666_000_000.0


@pytest.mark.parametrize(
    ("over", "field", "value"),
    [
        ({"name": "  Lễ   phát động  "}, "name", "Lễ phát động"),
        ({"name": "Le\u0302\u0303"}, "name", "Lễ"),  # NFC
        ({"timezone": None}, "timezone", "Asia/Ho_Chi_Minh"),
        ({"timezone": ""}, "timezone", "Asia/Ho_Chi_Minh"),
        ({"timezone": "UTC"}, "timezone", "UTC"),
        ({"timezone": "Asia/Bangkok"}, "timezone", "Asia/Bangkok"),
        ({"starts_at": "2025-05-08T01:00:00Z"}, "starts_at", "2025-05-08T01:00:00+00:00"),
        ({"starts_at": "2025-05-08T08:00+07:00"}, "starts_at", "2025-05-08T08:00:00+07:00"),
        ({"starts_at": "2025-05-08T08:00:00.250+07:00"}, "starts_at", "2025-05-08T08:00:00.250000+07:00"),
        ({"report_deadline": "2025-05-07T17:00:00-05:00"}, "report_deadline", "2025-05-07T17:00:00-05:00"),
    ],
)
def test_create_event_normalizes(over: dict[str, Any], field: str, value: str) -> None:
    body = {**BODY, **over}
    fact = decide_create_event("ev1", body, NOW, ADMIN)
    assert getattr(fact, field) == value


def test_timezone_may_be_omitted() -> None:
    body = {k: v for k, v in BODY.items() if k != "timezone"}
    assert decide_create_event("ev1", body, NOW, None).timezone == "Asia/Ho_Chi_Minh"


def _without(key: str) -> dict[str, Any]:
    return {k: v for k, v in BODY.items() if k != key}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(_without("name"), "name", id="missing-name"),
        pytest.param({**BODY, "name": ""}, "name", id="empty-name"),
        pytest.param({**BODY, "name": "   "}, "name", id="blank-name"),
        pytest.param({**BODY, "name": None}, "name", id="null-name"),
        pytest.param({**BODY, "name": "x" * 301}, "name", id="long-name"),
        pytest.param(_without("starts_at"), "starts_at", id="missing-start"),
        pytest.param({**BODY, "starts_at": "2025-05-08T08:00:00"}, "starts_at", id="start-without-offset"),
        pytest.param({**BODY, "starts_at": "2025-05-08"}, "starts_at", id="start-date-only"),
        pytest.param({**BODY, "starts_at": "08:00"}, "starts_at", id="start-time-only"),
        pytest.param({**BODY, "starts_at": "tomorrow"}, "starts_at", id="start-words"),
        pytest.param({**BODY, "starts_at": 1746666000000}, "starts_at", id="start-number"),
        pytest.param({**BODY, "starts_at": ""}, "starts_at", id="start-empty"),
        pytest.param({**BODY, "starts_at": "2025-13-08T08:00:00+07:00"}, "starts_at", id="start-bad-month"),
        pytest.param(_without("report_deadline"), "report_deadline", id="missing-deadline"),
        pytest.param({**BODY, "report_deadline": "2025-05-08 07:30"}, "report_deadline",
                     id="deadline-without-offset"),
        pytest.param({**BODY, "timezone": "Mars/Olympus"}, "timezone", id="unknown-zone"),
        pytest.param({**BODY, "timezone": "GMT+7"}, "timezone", id="offset-not-zone"),
        pytest.param({**BODY, "timezone": "../../etc/passwd"}, "timezone", id="path-zone"),
        pytest.param({**BODY, "timezone": "/etc/localtime"}, "timezone", id="absolute-path-zone"),
        pytest.param({**BODY, "timezone": 7}, "timezone", id="number-zone"),
        pytest.param({**BODY, "timezone": "Asia"}, "timezone", id="zone-directory"),
        pytest.param({**BODY, "timezone": "zone.tab"}, "timezone", id="zone-table-file"),
        pytest.param({**BODY, "timezone": "UTC\x00"}, "timezone", id="nul-in-zone"),
    ],
)
def test_create_event_validation(body: dict[str, Any], field: str) -> None:
    with pytest.raises(BadRequest) as info:
        decide_create_event("ev1", body, NOW, ADMIN)
    assert info.value.code == "validation_error"
    assert info.value.status == 400
    assert [d["field"] for d in info.value.details] == [field]


@pytest.mark.parametrize("body", [None, [], "event", 5, [BODY]])
def test_create_event_needs_an_object(body: Any) -> None:
    with pytest.raises(BadRequest) as info:
        decide_create_event("ev1", body, NOW, ADMIN)
    assert info.value.code == "validation_error"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:00+00:00", 0.0),
        ("1970-01-01T07:00:00+07:00", 0.0),
        ("2025-05-08T08:00:00+07:00", 1_746_666_000_000.0),
        ("2025-05-08T01:00:00.5+00:00", 1_746_666_000_500.0),
    ],
)
def test_instant_ms(text: str, ms: float) -> None:
    assert instant_ms(text) == ms


def test_new_state_from_the_fact_and_its_view() -> None:
    fact = decide_create_event("ev1", BODY, NOW, ADMIN)
    state = apply(new_state(fact), fact, 1)
    assert state.seq == 1
    assert state.points == {} and state.incidents == {}
    assert event_view(state.info) == {
        "id": "ev1", "name": BODY["name"], "starts_at": BODY["starts_at"],
        "report_deadline": BODY["report_deadline"], "timezone": "Asia/Ho_Chi_Minh", "created_ms": NOW,
        "group_level": None, "group_level_effective": None,
    }
    assert fold_facts([(1, fact)]) == state


def test_parse_and_dump_the_fact_roundtrip() -> None:
    fact = decide_create_event("ev1", BODY, NOW, ADMIN)
    assert f.parse_fact(f.dump_fact(fact)) == fact


@pytest.mark.parametrize(
    "facts",
    [[], [(1, f.PointDeleted(at_ms=NOW, code="X"))]],
    ids=["no-facts", "not-event-created-first"],
)
def test_a_journal_starts_with_event_created(facts: list[Any]) -> None:
    with pytest.raises(ValueError):
        fold_facts(facts)


# -- editing (PATCH /api/events/{eid}) -------------------------------------------------



def test_edit_changes_only_given_fields_and_survives_replay_and_snapshot() -> None:
    j = Journal()
    facts = decide_edit_event(j.state, {"name": "Lễ phát động (sửa)", "report_deadline": "2025-05-08T07:45:00+07:00"},
                              NOW, ADMIN)
    assert len(facts) == 1 and facts[0].starts_at is None and facts[0].timezone is None
    state = j.fold(facts)
    assert (state.info.name, state.info.report_deadline) == ("Lễ phát động (sửa)", "2025-05-08T07:45:00+07:00")
    assert state.info.starts_at == "2025-05-08T08:00:00+07:00"
    assert j.replay().info == state.info
    assert roundtrip(state).info == state.info
    assert event_view(state.info)["name"] == "Lễ phát động (sửa)"


def test_edit_without_change_is_no_fact() -> None:
    j = Journal()
    info = j.state.info
    assert decide_edit_event(j.state, {"name": info.name, "starts_at": info.starts_at, "timezone": info.timezone},
                             NOW, ADMIN) == []
    assert decide_edit_event(j.state, {}, NOW, ADMIN) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 301}, "name"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"starts_at": "8 giờ sáng"}, "starts_at"),
        ({"starts_at": "2025-05-08T09:00"}, "starts_at"),  # no offset
        ({"report_deadline": 7}, "report_deadline"),
        ({"id": "ev-other"}, "id"),  # validation_error, as before unknown_field existed
    ],
)
def test_edit_refuses_bad_fields_and_changes_nothing(body: dict[str, Any], field: str) -> None:
    j = Journal()
    before = j.state.info
    with pytest.raises(LaunchdayError) as exc:
        decide_edit_event(j.state, body, NOW, ADMIN)
    assert exc.value.code == "validation_error"
    assert field in str(exc.value.message) + str(exc.value.details)
    assert j.state.info == before


def test_edit_is_in_the_audit_log_naming_the_fields() -> None:
    j = Journal()
    j.fold(decide_edit_event(j.state, {"report_deadline": "2025-05-08T07:40:00+07:00", "name": "Lễ mới"}, NOW, ADMIN))
    page = AuditLog().feed_all(j.facts).page()
    assert page["items"][0]["summary"] == "Sửa sự kiện: tên, hạn chốt báo cáo"
    assert page["items"][0]["actor"] == ADMIN and page["items"][0]["type"] == "event.edited"


# -- deleting an event ----------------------------------------------------------------


def test_delete_marks_the_event_gone_and_survives_replay_and_snapshot() -> None:
    from server.core.events import decide_delete_event

    j = Journal()
    state = j.fold(decide_delete_event(j.state, NOW + 5, ADMIN))
    assert state.info.deleted_ms == NOW + 5
    assert j.replay().info.deleted_ms == NOW + 5
    assert roundtrip(state).info.deleted_ms == NOW + 5
    # A second deletion folded later (two processes, two admins) keeps the first time.
    state = j.fold(decide_delete_event(j.state, NOW + 9, ADMIN))
    assert state.info.deleted_ms == NOW + 5


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], False),
        (["agenda.start"], True),
        (["agenda.start", "agenda.pause"], True),
        (["agenda.start", "agenda.finish"], False),
        (["launch.arm"], True),
        (["launch.arm", "launch.press"], True),  # counting down
        (["launch.arm", "launch.abort"], False),
    ],
)
def test_delete_is_refused_while_the_ceremony_is_under_way(steps: list[str], refused: bool) -> None:
    from server.core import agenda as ag
    from server.core import launch as ln
    from server.core.events import decide_delete_event

    j = Journal()
    j.fold(ag.decide_set_agenda(j.state, {"items": [{"title": "Khai mạc", "planned_s": 60}]}, NOW, ADMIN).facts)
    for step in steps:
        kind, action = step.split(".")
        if kind == "agenda":
            j.fold(ag.decide_agenda_action(j.state, action, NOW, ADMIN).facts)
        elif action == "arm":
            j.fold(ln.decide_arm(j.state, {"countdown_ms": 5000}, NOW, ADMIN).facts)
        elif action == "press":
            j.fold(ln.decide_press(j.state, {"key": "Chủ tịch"}, NOW, ADMIN).facts)
        else:
            j.fold(ln.decide_abort(j.state, NOW, ADMIN).facts)
    before = j.state.seq
    if refused:
        with pytest.raises(LaunchdayError) as err:
            decide_delete_event(j.state, NOW + 1, ADMIN)
        assert err.value.code == "event_in_progress" and err.value.status == 409
        assert j.state.seq == before and j.state.info.deleted_ms is None
    else:
        assert [x.type for x in decide_delete_event(j.state, NOW + 1, ADMIN)] == ["event.deleted"]
