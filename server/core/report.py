"""The totals report: a model built from state, and its CSV rendering.

The same model feeds report.json, report.csv (and the XLSX and HTML views),
so every format says the same numbers (docs/protocol.md#report).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from server.core import agenda, launch, scope
from server.core.events import event_view
from server.core.points import incident_view
from server.core.scope import Visible
from server.core.state import EventState
from server.core.text import defuse_csv, fold

# The sections other core modules add to the report, all of them, here:
# never filled in by whichever modules a process happened to import.
REPORT_SECTIONS: dict[str, Callable[[EventState, float, Visible | None], Any]] = {
    "agenda": lambda state, now, visible: agenda.agenda_report(state, now),  # the ceremony: the same for every desk
    "launch": launch.launch_report,
}

LEVEL_ORDER = ("province", "department", "district", "commune", "village", "school", "market",
               "enterprise", "other")


def build_report(state: EventState, now_ms: float, visible: Visible | None = None) -> dict[str, Any]:
    """The report; with ``visible``, a desk's: its subtree only (docs/protocol.md#desks)."""
    totals = state.totals_view(now_ms) if visible is None else scope.totals(state, visible, now_ms)
    district_of = state.live.district_of
    group_of = state.live.group_of
    missing: list[dict[str, Any]] = [
        {
            "code": p.code,
            "name": p.name,
            "level": p.level,
            "district": district_of.get(p.code),
            "district_name": state.district_name(d) if (d := district_of.get(p.code)) else "",
            "group": (g := group_of.get(p.code)),
            "group_name": state.group_name(g) or "",
            "chair": p.chair,
            "phone": p.phone,
            "expected": p.expected,
        }
        for p in state.points.values()
        if not p.checked_in and (visible is None or p.code in visible)
    ]
    # Grouped by the event's group level (docs/protocol.md#grouping): by group
    # name, then code; points outside any group last. Vietnamese order ignores
    # diacritics first ("Đông Sơn" before "Triệu Sơn").
    missing.sort(key=lambda m: (fold(m["group_name"]) or "\uffff", m["group"] or "", m["level"], fold(m["name"])))
    incidents = [incident_view(state, i) for i in state.incidents.values()
                 if i.open and (visible is None or i.point in visible)]
    incidents.sort(key=lambda i: i["opened_ms"])
    report: dict[str, Any] = {
        "taken_ms": now_ms,
        "seq": state.seq,
        "event": event_view(state.info, state.live.group_level),
        "scope": None if visible is None else {"point": visible.root, "name": state.district_name(visible.root)},
        "overall": {k: totals[k] for k in ("points", "checked_in", "online", "attendees", "expected",
                                           "incidents_open")},
        "by_level": [
            {"level": lvl, **totals["by_level"][lvl]} for lvl in LEVEL_ORDER if lvl in totals["by_level"]
        ],
        "by_district": sorted(
            ({"code": code, **row} for code, row in totals["by_district"].items()),
            key=lambda r: fold(r["name"]),
        ),
        "group_level": totals["group_level"],
        "by_group": sorted(
            ({"code": code, **row} for code, row in totals["by_group"].items()),
            key=lambda r: (fold(r["name"]), r["code"]),
        ),
        "missing": missing,
        "incidents_open": incidents,
    }
    for name, section in REPORT_SECTIONS.items():
        report[name] = section(state, now_ms, visible)
    return report


class _SafeWriter:
    """A csv writer that defuses text a spreadsheet would run as a formula
    (a point named "=HYPERLINK(...)" must stay text): server/core/text.py."""

    def __init__(self, out: io.StringIO) -> None:
        self._w = csv.writer(out)

    def writerow(self, row: list[Any]) -> None:
        self._w.writerow([defuse_csv(c) for c in row])


def render_csv(report: dict[str, Any], when: str) -> str:
    """One CSV with a section per table; a blank line between sections."""
    out = io.StringIO()
    w = _SafeWriter(out)
    ev = report["event"]
    w.writerow(["report", ev["name"], "taken", when])
    w.writerow([])
    w.writerow(["section", "key", "name", "points", "checked_in", "online", "attendees", "expected"])
    o = report["overall"]
    w.writerow(["overall", "", "", o["points"], o["checked_in"], o["online"], o["attendees"], o["expected"]])
    for row in report["by_level"]:
        w.writerow(["level", row["level"], "", row["points"], row["checked_in"], row["online"],
                    row["attendees"], row["expected"]])
    for row in report["by_district"]:
        w.writerow(["district", row["code"], row["name"], row["points"], row["checked_in"], row["online"],
                    row["attendees"], row["expected"]])
    for row in report["by_group"]:
        w.writerow(["group", row["code"], row["name"], row["points"], row["checked_in"], row["online"],
                    row["attendees"], row["expected"], row["level"]])
    w.writerow([])
    w.writerow(["missing", "code", "name", "level", "district", "chair", "phone", "expected", "group"])
    for m in report["missing"]:
        w.writerow(["missing", m["code"], m["name"], m["level"], m["district_name"], m["chair"], m["phone"],
                    m["expected"], m["group_name"]])
    w.writerow([])
    w.writerow(["incident", "id", "point", "point_name", "kind", "note", "opened_ms", "phone"])
    for i in report["incidents_open"]:
        w.writerow(["incident", i["id"], i["point"], i["point_name"], i["kind"], i["note"], i["opened_ms"],
                    i["phone"]])
    return out.getvalue()
