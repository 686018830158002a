"""Report snapshots (docs/protocol.md#report-snapshots): the report as it stood
at a moment, kept as a ``report.snapshot_taken`` fact and folded into
``state.ext["reports"]``. The one taken at the event's ``report_deadline`` is
``automatic``; only the first automatic snapshot is kept, so two processes
that both fire the deadline timer leave one.

Pure: the time and the report are passed in. Rendered by
:mod:`server.core.report_render` (HTML) and :mod:`server.core.report_xlsx`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, NotFound
from server.core.events import instant_ms
from server.core.report_render import W, vi_time
from server.core.state import EventState, Extension
from server.core.text import clean

MAX_LABEL = 100
SNAPSHOT_FIELDS = ("label",)  # the body of POST report/snapshots


def deadline_label(report_deadline: str, tz: str) -> str:
    """The label of the automatic snapshot: "báo cáo lúc 07:30"."""
    return W["auto_label"].format(t=vi_time(instant_ms(report_deadline), tz, seconds=False))



@dataclass(slots=True)
class Snapshot:
    label: str
    taken_ms: float
    automatic: bool
    actor: str | None
    report: dict[str, Any]


def snapshots_of(state: EventState) -> list[Snapshot]:
    found = state.ext.get("reports")
    if found is None:
        found = state.ext["reports"] = []
    assert isinstance(found, list)
    return found


def has_automatic(state: EventState) -> bool:
    return any(s.automatic for s in snapshots_of(state))


def decide_snapshot(state: EventState, report: dict[str, Any], label: Any, now_ms: float, actor: str | None,
                    automatic: bool = False) -> f.ReportSnapshotTaken:
    """A snapshot of ``report`` (built at ``now_ms``). Without a label: "báo cáo lúc HH:MM"."""
    if label is not None and not isinstance(label, str):
        raise BadRequest("label must be text", code="validation_error",
                         details=[{"field": "label", "message": "not text"}])
    text = clean(label)
    if len(text) > MAX_LABEL:
        raise BadRequest(f"label is longer than {MAX_LABEL} characters", code="validation_error",
                         details=[{"field": "label", "message": "too long"}])
    if not text:
        text = W["auto_label"].format(t=vi_time(now_ms, state.info.timezone, seconds=False))
    return f.ReportSnapshotTaken(at_ms=now_ms, actor=actor, label=text, taken_ms=now_ms, report=report,
                                 automatic=automatic)


def apply_snapshot(state: EventState, fact: f.ReportSnapshotTaken) -> None:
    if fact.automatic and has_automatic(state):
        return  # the deadline timer fired in two processes: the first one counts
    snapshots_of(state).append(Snapshot(fact.label, fact.taken_ms, fact.automatic, fact.actor, dict(fact.report)))


def snapshot_view(n: int, snap: Snapshot) -> dict[str, Any]:
    """One entry of ``GET /report/snapshots`` (``n`` counts from 1)."""
    return {"n": n, "label": snap.label, "taken_ms": snap.taken_ms, "automatic": snap.automatic,
            "actor": snap.actor, "seq": snap.report.get("seq"), "overall": snap.report.get("overall")}


def snapshot_list(state: EventState) -> list[dict[str, Any]]:
    return [snapshot_view(n, s) for n, s in enumerate(snapshots_of(state), 1)]


def get_snapshot(state: EventState, n: int) -> Snapshot:
    found = snapshots_of(state)
    if not 1 <= n <= len(found):
        raise NotFound(f"no report snapshot {n}", code="not_found")
    return found[n - 1]


class _ReportsExtension(Extension):
    def dump(self, state: EventState) -> Any:
        found = state.ext.get("reports")
        return [asdict(s) for s in found] if found else None

    def load(self, state: EventState, data: Any) -> None:
        state.ext["reports"] = [Snapshot(**s) for s in data]


EXTENSION = _ReportsExtension()
