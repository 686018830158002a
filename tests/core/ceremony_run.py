"""A small event for the ceremony tests (agenda, launch): its state and journal,
with decisions folded as the I/O shell would after appending them."""

from __future__ import annotations

from typing import Any

from server.core import facts as f
from server.core import fold as st
from server.core.points import Decision

T0 = 1_700_000_000_000.0


def ms(seconds: float) -> float:
    return T0 + seconds * 1000.0


class Run:
    def __init__(self, codes: tuple[str, ...] = ("A", "B", "C")) -> None:
        self.facts: list[Any] = []
        created = f.EventCreated(at_ms=T0 - 1e6, event_id="ev1", name="Lễ phát động",
                                 starts_at="2025-05-08T08:00:00+07:00",
                                 report_deadline="2025-05-08T12:00:00+07:00", timezone="Asia/Ho_Chi_Minh")
        self.state = st.new_state(created)
        self.add(created)
        for code in codes:
            self.add(f.PointUpserted(at_ms=T0 - 1e5, code=code, name=f"Điểm cầu {code}", level="commune",
                                     parent=None, chair="", phone="", expected=10, token=f"tok-{code}"))

    def add(self, fact: Any) -> None:
        self.facts.append(fact)
        st.apply(self.state, fact, len(self.facts))

    def do(self, decision: Decision) -> Decision:
        for fact in decision.facts:
            self.add(fact)
        return decision
