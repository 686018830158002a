"""What the tests of server/core/points/ share: bad counts, a coded
``raises``, a dump of the points, the retried messages and their state."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest

from server.core import points as pts
from server.core.errors import LaunchdayError
from server.core.state import EventState

from ..conftest import NOW, Journal

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


# -- organizer commands: create, patch, delete, rotate ---------------------------------

GOOD = {"code": "C4", "name": "Xã Thọ Ngọc", "level": "commune", "parent": "D1", "chair": "Lý Văn M",
        "phone": "0920000004", "expected": 45}


CHILD = {"code": "V1-A", "name": "Xóm A", "level": "other", "parent": "V1", "expected": 5}
