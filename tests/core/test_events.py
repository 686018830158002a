"""Creating an event: validation of the body, and the state it starts."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import facts as f
from server.core.errors import BadRequest
from server.core.events import decide_create_event, event_view, instant_ms
from server.core.fold import apply, fold_facts
from server.core.state import new_state

from .conftest import ADMIN, NOW

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
