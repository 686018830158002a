"""The report as an XLSX workbook (openpyxl): a sheet per breakdown.

Kept apart from report_render so that openpyxl (about 150 ms to import) is
loaded only when someone downloads a workbook, not at every server start.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from server.core.report_render import (
    KIND_VI,
    LAUNCH_STATE_VI,
    LAUNCH_VI,
    LEVEL_VI,
    W,
    _tz,
    group_column,
    groups_of,
    local,
    missing_group_name,
    vi_time,
)
from server.core.text import looks_like_formula

_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INT = "#,##0"
_PCT = "0.0%"
_TIME = "hh:mm:ss"
_DATETIME = "dd/mm/yyyy hh:mm:ss"


def _naive(ms: float | None, tz: str) -> datetime | None:
    """Excel has no time zones: the local time of the event, without its offset."""
    return None if ms is None else local(ms, tz).replace(tzinfo=None)


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]], widths: list[int],
           formats: dict[int, str] | None = None, total: list[Any] | None = None) -> Any:
    ws = book.create_sheet(title)
    ws.append(headers)
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
    for row in rows:
        ws.append(row)
    if total is not None:
        ws.append(total)
        for cell in ws[ws.max_row]:
            cell.font = _BOLD
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for col, fmt in (formats or {}).items():
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = fmt
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    return ws


def _as_text(book: Workbook) -> None:
    """No formula from outside text (docs/protocol.md#spreadsheets): openpyxl
    makes a formula of any text starting with "="; every cell whose text a
    spreadsheet would run becomes a text cell, shown exactly ("+84 912 345
    678" stays readable), with the quote prefix so that editing it in Excel
    does not turn it into a formula either. The workbook has no formulas of
    its own."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if looks_like_formula(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _breakdown_cells(row: dict[str, Any]) -> list[Any]:
    return [row["points"], row["checked_in"], _ratio(row["checked_in"], row["points"]), row["online"],
            row["attendees"], row["expected"], _ratio(row["attendees"], row["expected"])]


_BREAKDOWN_FORMATS = {2: _INT, 3: _INT, 4: _PCT, 5: _INT, 6: _INT, 7: _INT, 8: _PCT}


def render_xlsx(report: dict[str, Any], label: str | None = None) -> bytes:
    """The report as a workbook: one sheet per table, Vietnamese headers, numbers as numbers."""
    tz = _tz(report)
    o = report["overall"]
    book = Workbook()
    book.remove(book.active)
    summary = _sheet(book, W["sheet_summary"], [W["figure"], W["value"], W["rate"]], [
        [W["total_points"], o["points"], None],
        [W["checked_points"], o["checked_in"], _ratio(o["checked_in"], o["points"])],
        [W["missing_points"], o["points"] - o["checked_in"], _ratio(o["points"] - o["checked_in"], o["points"])],
        [W["online_points"], o["online"], _ratio(o["online"], o["points"])],
        [W["attendees_n"], o["attendees"], _ratio(o["attendees"], o["expected"])],
        [W["expected_n"], o["expected"], None],
        [W["incidents_open"], o["incidents_open"], None],
    ], [34, 16, 12], {2: _INT, 3: _PCT})
    summary.freeze_panes = None
    summary.auto_filter.ref = None
    summary.append([])
    summary.append([W["event"], report["event"]["name"]])
    summary.append([W["as_of"], _naive(report["taken_ms"], tz)])
    summary.cell(summary.max_row, 2).number_format = _DATETIME
    summary.append([W["time_zone"], tz])
    if label:
        summary.append([W["snapshot_label"], label])

    breakdown = [W[k] for k in ("points", "checked_in", "checked_rate", "online", "attendees", "expected",
                                "attendance_rate")]
    _sheet(book, W["sheet_levels"], [W["level"], *breakdown],
           [[LEVEL_VI.get(r["level"], r["level"]), *_breakdown_cells(r)] for r in report["by_level"]],
           [26, 13, 14, 14, 12, 15, 12, 14], _BREAKDOWN_FORMATS, [W["total"], *_breakdown_cells(o)])
    level, groups = groups_of(report)
    if level == "district":
        _sheet(book, W["sheet_districts"], [W["code"], W["district_col"], *breakdown],
               [[r["code"], r["name"], *_breakdown_cells(r)] for r in groups],
               [16, 30, 13, 14, 14, 12, 15, 12, 14], {k + 1: v for k, v in _BREAKDOWN_FORMATS.items()})
    else:
        _sheet(book, W["sheet_groups"], [W["code"], LEVEL_VI.get(level or "", W["unit"]), *breakdown],
               [[r["code"], r["name"], *_breakdown_cells(r)] for r in groups],
               [16, 30, 13, 14, 14, 12, 15, 12, 14], {k + 1: v for k, v in _BREAKDOWN_FORMATS.items()})
    _sheet(book, W["sheet_missing"], [W[k] for k in ("no", "code", "name", "level")]
           + [group_column(level), W["chair"], W["phone"], W["expected"]],
           [[i, m["code"], m["name"], LEVEL_VI.get(m["level"], m["level"]), missing_group_name(m), m["chair"],
             m["phone"], m["expected"]] for i, m in enumerate(report["missing"], 1)],
           [6, 18, 36, 22, 26, 26, 14, 10], {1: _INT, 8: _INT})
    _sheet(book, W["sheet_incidents"], [W[k] for k in ("no", "point_code", "point", "kind", "note", "since", "chair",
                                                       "phone")],
           [[i, x["point"], x["point_name"], KIND_VI.get(x["kind"], x["kind"]), x["note"],
             _naive(x["opened_ms"], tz), x["chair"], x["phone"]] for i, x in enumerate(report["incidents_open"], 1)],
           [6, 18, 32, 12, 40, 12, 26, 14], {1: _INT, 6: _TIME})
    agenda = report.get("agenda")
    if agenda and agenda.get("items"):
        _sheet(book, W["sheet_agenda"], [W[k] for k in ("no", "item", "speaker", "planned_s", "actual_s", "offset_s",
                                                         "start", "end")],
               [[i["index"] + 1, i["title"], i["speaker"], i["planned_s"], i["actual_s"], i["offset_s"],
                 _naive(i["actual_start_ms"], tz), _naive(i["actual_end_ms"], tz)] for i in agenda["items"]],
               [6, 44, 26, 15, 15, 17, 11, 11], {4: _INT, 5: "0", 6: "+0;-0;0", 7: _TIME, 8: _TIME},
               ["", W["total"], "", agenda["planned_total_s"], agenda["actual_total_s"], agenda["offset_s"]])
    launch = (report.get("launch") or {}).get("launch")
    if launch:
        fired = launch["fired"]
        rows: list[list[Any]] = [
            [W["state"], LAUNCH_STATE_VI.get(launch["state"], launch["state"])],
            [W["armed_at"], _naive(launch["armed_ms"], tz)],
            [LAUNCH_VI["fire_at"], _naive(launch["fire_at_ms"], tz)],
            [LAUNCH_VI["fired_count"], fired["count"]],
            [W["not_reported"], fired["missing"]],
            [W["spread"], fired["spread_ms"]],
            [W["worst_bound"], fired["worst_bound_ms"]],
            *[[W["key_holder_n"].format(n=n), f"{k['key']} ({vi_time(k['at_ms'], tz)})"]
              for n, k in enumerate(launch["keys"], 1)],
        ]
        ws = _sheet(book, LAUNCH_VI["sheet"], [W["figure"], W["value"]], rows, [34, 30])
        ws["B3"].number_format = _TIME
        ws["B4"].number_format = _TIME
        for ref in ("B5", "B6", "B7", "B8"):
            ws[ref].number_format = "#,##0.0" if ref in ("B7", "B8") else _INT
        ws.auto_filter.ref = None
    _as_text(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


