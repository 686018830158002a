"""The journal's trusted decode (server/core/facts.py: parse_fact_trusted)
gives the same objects as the validated one, for every fact type."""

from __future__ import annotations

import typing
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from server.core import facts as f

T = 1_764_000_000_123.25

EXAMPLES: list[Any] = [
    f.EventCreated(at_ms=T, actor="admin", event_id="ev-1", name="Lễ phát động", starts_at="2025-05-08T08:00:00+07:00",
                   report_deadline="2025-05-08T07:30:00+07:00", timezone="Asia/Ho_Chi_Minh"),
    f.EventDeleted(at_ms=T, actor="admin"),
    f.EventEdited(at_ms=T, actor="admin", name="Lễ phát động (sửa)"),
    f.EventEdited(at_ms=T, actor="admin", starts_at="2025-05-08T08:30:00+07:00",
                  report_deadline="2025-05-08T07:45:00+07:00", timezone="Asia/Bangkok"),
    f.KeyHolderAdded(at_ms=T, actor="Chị Lan", keyholder_id="k-0123456789", name="Chủ tịch UBND tỉnh",
                     token_hash="ab" * 32),
    f.KeyHolderRevoked(at_ms=T, actor="Chị Lan", keyholder_id="k-0123456789"),
    f.KeyHolderRevoked(at_ms=T, actor="Chị Lan", keyholder_id="k-0123456789", name="Chủ tịch UBND tỉnh"),
    f.PointUpserted(at_ms=T, code="X01", name="Xã Quảng Phú", level="commune", parent="H01", chair="Lê Văn A",
                    phone="0912", expected=57, token="tok"),
    f.PointUpserted(at_ms=T, code="T", name="Tỉnh", level="province", parent=None, chair="", phone="",
                    expected=0, token="t2"),
    f.PointDeleted(at_ms=T, actor="admin", code="X01"),
    f.TokenRotated(at_ms=T, code="X01", token="new"),
    f.CheckedIn(at_ms=T, code="X01", msg_id="m1", attendees=40),
    f.AttendeesCounted(at_ms=T, code="X01", msg_id="m2", count=41),
    f.IncidentOpened(at_ms=T, code="X01", msg_id="m3", incident="i1", kind="audio", note="mất tiếng"),
    f.IncidentResolved(at_ms=T, code="X01", incident="i1"),
    f.IncidentResolved(at_ms=T, code="X01", msg_id="m4", incident="i1"),
    f.NoticeSent(at_ms=T, text="Chuẩn bị"),
    f.NoticeSent(at_ms=T, text="Chuẩn bị", district="H01"),
    f.OrganizerTokenIssued(at_ms=T, token_hash="h", name="Ops", role="operator"),
    f.OrganizerTokenIssued(at_ms=T, token_hash="d", name="Bàn Xã A", role="viewer",  # a desk: a nested scope
                           scope=f.DeskScope(event="ev-1", point="X-A")),
    f.OrganizerTokenRevoked(at_ms=T, token_hash="h"),
    f.SessionOpened(at_ms=T, actor="Ops", session_hash="s" * 64, token_hash="h", expires_ms=T + 7 * 86_400_000),
    f.SessionClosed(at_ms=T, session_hash="s" * 64),
    f.AgendaSet(at_ms=T, items=(f.AgendaItemSpec(title="Khai mạc", planned_s=60),
                                f.AgendaItemSpec(title="Phát động", speaker="Chủ tịch", location="T", planned_s=300))),
    f.AgendaSet(at_ms=T, items=()),
    f.AgendaStepped(at_ms=T, action="start"),
    f.AgendaStepped(at_ms=T, action="next", current=0),
    f.LaunchArmed(at_ms=T, attempt=1, countdown_ms=5000, keys_required=2),
    f.LaunchArmed(at_ms=T, attempt=2, countdown_ms=3000, keys_required=1, rehearsal=True),
    f.LaunchKeyPressed(at_ms=T, attempt=1, key="Nguyễn Văn A"),
    f.LaunchAborted(at_ms=T, attempt=1),
    f.LaunchReset(at_ms=T, attempt=1),
    f.LaunchFiredReported(at_ms=T, code="X01", msg_id="m5", attempt=1, fired_ms=T + 0.5, offset_ms=-4999.75,
                          rtt_ms=1.0),
    f.LaunchFiredBatch(at_ms=T, reports=(
        f.FiredEntry(code="X01", msg_id="m5", attempt=1, fired_ms=T + 0.5, offset_ms=-4999.75, rtt_ms=1.0, at_ms=T),
        f.FiredEntry(code="X02", msg_id="m6", attempt=1, fired_ms=T - 0.25, offset_ms=12.0, rtt_ms=0.5, at_ms=T + 1),
    )),
    f.LaunchFiredBatch(at_ms=T, reports=()),
    f.ReportSnapshotTaken(at_ms=T, label="07:30", taken_ms=T, report={"totals": {"points": 3}, "missing": [None, 1.5]},
                          automatic=True),
]


def _union_members() -> set[type]:
    union = typing.get_args(f.Fact)[0]
    return set(typing.get_args(union))


def test_every_fact_type_has_an_example() -> None:
    assert _union_members() == {type(x) for x in EXAMPLES}


def _deep(obj: Any) -> Any:
    """Type, fields and fields-set of a model and of every model inside it."""
    if isinstance(obj, BaseModel):
        return (type(obj), obj.model_fields_set, {k: _deep(v) for k, v in obj.__dict__.items()})
    if isinstance(obj, tuple | list):
        return (type(obj), [_deep(v) for v in obj])
    return (type(obj), obj)


@pytest.mark.parametrize("fact", EXAMPLES, ids=lambda x: x.type)
def test_trusted_equals_validated(fact: Any) -> None:
    body = f.dump_fact(fact)
    validated, trusted = f.parse_fact(body), f.parse_fact_trusted(body)
    assert trusted == validated == fact
    assert _deep(trusted) == _deep(validated)
    assert hash(trusted.type) and trusted.model_dump() == validated.model_dump()
    assert f.dump_fact(trusted) == body
    with pytest.raises(Exception, match="frozen"):
        trusted.at_ms = 0.0


@pytest.mark.parametrize(("body", "missing"), [
    ({"at_ms": T, "type": "launch.armed", "attempt": 1, "countdown_ms": 5000, "keys_required": 1}, "rehearsal"),
    ({"at_ms": T, "type": "incident.resolved", "code": "X", "incident": "i"}, "msg_id"),
    ({"at_ms": T, "type": "agenda.set", "items": [{"title": "A", "planned_s": 5}]}, "actor"),
])
def test_trusted_fills_defaults_of_older_bodies(body: dict[str, Any], missing: str) -> None:
    raw = orjson.dumps(body)
    assert f.parse_fact_trusted(raw) == f.parse_fact(raw)
    assert missing not in f.parse_fact_trusted(raw).model_fields_set


@pytest.mark.parametrize("body", [b'{"at_ms": 1, "type": "no.such"}', b"[1, 2]", b'{"at_ms": 1}'])
def test_trusted_refuses_what_is_not_a_fact(body: bytes) -> None:
    with pytest.raises(ValueError):
        f.parse_fact_trusted(body)
