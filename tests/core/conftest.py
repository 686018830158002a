"""Shared fixtures for the pure core: an event folded from its first fact, and
a small Thanh Hóa-like tree imported into it.

Everything here is synchronous and in memory: facts are decided, then folded
with :func:`server.core.fold.apply` at increasing journal positions, exactly
as the I/O shell does after appending them to the journal.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.fold import apply, fold_facts, restore, snapshot
from server.core.importing import ImportResult, decide_import
from server.core.state import EventState, new_state

#: 2025-05-08T08:00:00+07:00, the ceremony's start, in server milliseconds.
NOW = 1_746_666_000_000.0
EVENT_ID = "ev-th"
ADMIN = "admin@test"

HEADER = ["code", "name", "level", "parent", "chair", "phone", "expected"]

#: A small Thanh Hóa-like tree. Two districts so that points can move between
#: them; the department and the school hang off the province, outside any
#: district.
TH_ROWS: list[list[Any]] = [
    ["TH", "Tỉnh Thanh Hóa", "province", "", "Chủ tịch tỉnh", "0237000000", "200"],
    ["D1", "Huyện Triệu Sơn", "district", "TH", "Lê Văn A", "0910000001", "100"],
    ["D2", "Huyện Đông Sơn", "district", "TH", "Trần Thị B", "0910000002", "80"],
    ["C1", "Xã Dân Lực", "commune", "D1", "Nguyễn Văn C", "0920000001", "50"],
    ["C2", "Xã Hợp Lý", "commune", "D1", "Phạm Văn D", "0920000002", "40"],
    ["C3", "Xã Đông Tiến", "commune", "D2", "Hoàng Thị E", "0920000003", "30"],
    ["V1", "Thôn Yên Thịnh", "village", "C1", "Vũ Văn G", "0930000001", "20"],
    ["SGD", "Sở Giáo dục và Đào tạo", "department", "TH", "Đỗ Văn H", "0940000001", "60"],
    ["LS", "Trường THPT Chuyên Lam Sơn", "school", "TH", "Bùi Thị K", "0950000001", "300"],
]
TH_TABLE: list[list[Any]] = [HEADER, *TH_ROWS]

#: code -> (level, district or None, expected), what the tree should fold to.
TH_TREE: dict[str, tuple[str, str | None, int]] = {
    "TH": ("province", None, 200),
    "D1": ("district", "D1", 100),
    "D2": ("district", "D2", 80),
    "C1": ("commune", "D1", 50),
    "C2": ("commune", "D1", 40),
    "C3": ("commune", "D2", 30),
    "V1": ("village", "D1", 20),
    "SGD": ("department", None, 60),
    "LS": ("school", None, 300),
}


def event_created(event_id: str = EVENT_ID, **over: Any) -> f.EventCreated:
    fields: dict[str, Any] = {
        "at_ms": NOW - 86_400_000,
        "actor": ADMIN,
        "event_id": event_id,
        "name": "Lễ phát động phong trào thi đua",
        "starts_at": "2025-05-08T08:00:00+07:00",
        "report_deadline": "2025-05-08T07:30:00+07:00",
        "timezone": "Asia/Ho_Chi_Minh",
    }
    fields.update(over)
    return f.EventCreated(**fields)


def token_maker(prefix: str = "tok") -> Callable[[], str]:
    """Deterministic, unique point tokens."""
    counter = itertools.count(1)
    return lambda: f"{prefix}-{next(counter):032x}"


class Journal:
    """An event's journal in memory: facts folded at increasing positions."""

    def __init__(self, first: f.EventCreated | None = None) -> None:
        first = first or event_created()
        self.state: EventState = new_state(first)
        apply(self.state, first, 1)
        self.facts: list[tuple[int, Any]] = [(1, first)]
        self.make_token = token_maker()

    def fold(self, facts: Iterable[Any]) -> EventState:
        for fact in facts:
            seq = self.state.seq + 1
            apply(self.state, fact, seq)
            self.facts.append((seq, fact))
        return self.state

    def decide(self, decision: pts.Decision) -> pts.Decision:
        """Fold a decision's facts and hand it back (for its ack)."""
        self.fold(decision.facts)
        return decision

    def import_table(self, table: list[list[Any]], now_ms: float = NOW) -> ImportResult:
        result = decide_import(self.state, table, now_ms, self.make_token, ADMIN)
        self.fold(result.facts)
        return result

    def replay(self) -> EventState:
        """The state folded from scratch from the facts, through their JSON form."""
        return fold_facts([(seq, f.parse_fact(f.dump_fact(fact))) for seq, fact in self.facts])

    # -- shortcuts for the point commands ---------------------------------

    def checkin(self, code: str, attendees: int, msg_id: str | None = None, now_ms: float = NOW) -> pts.Decision:
        return self.decide(pts.decide_checkin(self.state, code, msg_id or f"ci-{code}-{attendees}", attendees, now_ms))

    def count(self, code: str, count: int, msg_id: str | None = None, now_ms: float = NOW) -> pts.Decision:
        return self.decide(pts.decide_attendees(self.state, code, msg_id or f"n-{code}-{count}", count, now_ms))

    def incident(self, code: str, kind: str = "audio", note: str = "", msg_id: str | None = None,
                 now_ms: float = NOW) -> str:
        msg = msg_id or f"inc-{code}-{len(self.facts)}"
        decision = self.decide(pts.decide_incident(self.state, code, msg, kind, note, now_ms))
        return str(decision.ack["incident"])


def roundtrip(state: EventState) -> EventState:
    """snapshot -> JSON text -> restore, as a process restart does."""
    return restore(json.loads(json.dumps(snapshot(state))))


def totals_of(state: EventState, as_of_ms: float = NOW) -> dict[str, Any]:
    return state.totals_view(as_of_ms)


@pytest.fixture
def journal() -> Journal:
    """An empty event: only its ``event.created`` fact folded."""
    return Journal()


@pytest.fixture
def state(journal: Journal) -> EventState:
    return journal.state


@pytest.fixture
def th(journal: Journal) -> Journal:
    """The event with the Thanh Hóa-like tree imported (nothing checked in)."""
    result = journal.import_table(TH_TABLE)
    assert result.errors == [], result.errors
    assert result.created == len(TH_ROWS)
    return journal
