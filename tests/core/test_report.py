"""The totals report: its model (build_report) and its CSV rendering."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest

from server.core import points as pts
from server.core.events import decide_edit_event
from server.core.report import LEVEL_ORDER, build_report, render_csv
from server.core.report_render import render_html
from server.core.report_xlsx import render_xlsx

from .conftest import ADMIN, HEADER, NOW, TH_TREE, Journal, totals_of

TAKEN = NOW + 3_600_000


@pytest.fixture
def day(th: Journal) -> Journal:
    """Half the tree checked in, two sockets, three incidents (one resolved)."""
    th.checkin("TH", 180, now_ms=NOW - 600_000)
    th.checkin("D1", 95, now_ms=NOW - 500_000)
    th.checkin("C1", 48, now_ms=NOW - 400_000)
    th.checkin("C3", 27, now_ms=NOW - 300_000)
    pts.connect(th.state, "TH", NOW)
    pts.connect(th.state, "C1", NOW)
    th.incident("C2", "audio", "mất tiếng, \"rè\"\nở loa 2", now_ms=NOW - 200)
    done = th.incident("C3", "video", "", now_ms=NOW - 300)
    th.incident("LS", "power", "mất điện", now_ms=NOW - 100)
    th.decide(pts.decide_resolve_incident(th.state, done, NOW, ADMIN))
    return th


def test_report_overall(day: Journal) -> None:
    report = build_report(day.state, TAKEN)
    assert report["taken_ms"] == TAKEN
    assert report["seq"] == day.state.seq
    assert report["event"]["id"] == day.state.info.id
    assert report["overall"] == {
        "points": 9, "checked_in": 4, "online": 2, "attendees": 180 + 95 + 48 + 27,
        "expected": sum(e for _, _, e in TH_TREE.values()), "incidents_open": 2,
    }
    totals = totals_of(day.state)
    assert all(report["overall"][k] == totals[k] for k in report["overall"])


def test_report_by_level_in_level_order(day: Journal) -> None:
    rows = build_report(day.state, TAKEN)["by_level"]
    assert [r["level"] for r in rows] == ["province", "department", "district", "commune", "village", "school"]
    assert [r["level"] for r in rows] == [lvl for lvl in LEVEL_ORDER if any(r["level"] == lvl for r in rows)]
    commune = next(r for r in rows if r["level"] == "commune")
    assert commune == {"level": "commune", "points": 3, "checked_in": 2, "online": 1, "attendees": 75,
                       "expected": 120}


def test_report_by_district_with_names(day: Journal) -> None:
    rows = build_report(day.state, TAKEN)["by_district"]
    # Ordered by name as Vietnamese readers expect ("Đông" before "Triệu").
    assert rows == [
        {"code": "D2", "name": "Huyện Đông Sơn", "points": 2, "checked_in": 1, "online": 0, "attendees": 27,
         "expected": 110},
        {"code": "D1", "name": "Huyện Triệu Sơn", "points": 4, "checked_in": 2, "online": 1, "attendees": 143,
         "expected": 210},
    ]


def test_report_missing_points_with_chair_and_phone(day: Journal) -> None:
    missing = build_report(day.state, TAKEN)["missing"]
    assert {m["code"] for m in missing} == {"D2", "C2", "V1", "SGD", "LS"}
    by_code = {m["code"]: m for m in missing}
    assert by_code["V1"] == {
        "code": "V1", "name": "Thôn Yên Thịnh", "level": "village", "district": "D1",
        "district_name": "Huyện Triệu Sơn", "group": "D1", "group_name": "Huyện Triệu Sơn",
        "chair": "Vũ Văn G", "phone": "0930000001", "expected": 20,
    }
    assert (by_code["LS"]["district"], by_code["LS"]["district_name"]) == (None, "")
    assert by_code["SGD"]["chair"] == "Đỗ Văn H"
    # Grouped by district name; points outside any district last.
    names = [m["district_name"] for m in missing]
    assert names == ["Huyện Đông Sơn", "Huyện Triệu Sơn", "Huyện Triệu Sơn", "", ""]


def test_report_open_incidents_only_oldest_first(day: Journal) -> None:
    incidents = build_report(day.state, TAKEN)["incidents_open"]
    assert [(i["point"], i["kind"]) for i in incidents] == [("C2", "audio"), ("LS", "power")]
    first = incidents[0]
    assert first["point_name"] == "Xã Hợp Lý"
    assert first["phone"] == "0920000002"
    assert first["chair"] == "Phạm Văn D"
    assert first["open"] is True


def test_report_is_json(day: Journal) -> None:
    report = build_report(day.state, TAKEN)
    assert json.loads(json.dumps(report, ensure_ascii=False)) == report


def test_report_of_an_empty_event(journal: Journal) -> None:
    report = build_report(journal.state, TAKEN)
    assert report["overall"] == {"points": 0, "checked_in": 0, "online": 0, "attendees": 0, "expected": 0,
                                 "incidents_open": 0}
    assert (report["by_level"], report["by_district"], report["missing"], report["incidents_open"]) == (
        [], [], [], [])
    rows = list(csv.reader(io.StringIO(render_csv(report, "08:00"))))
    assert rows[0][0] == "report"


def test_everyone_checked_in_leaves_nothing_missing(th: Journal) -> None:
    for code in TH_TREE:
        th.checkin(code, 1)
    report = build_report(th.state, TAKEN)
    assert report["missing"] == []
    assert report["overall"]["checked_in"] == len(TH_TREE)


# -- CSV --------------------------------------------------------------------------------


def sections(text: str) -> list[list[list[str]]]:
    """The CSV parsed back, split at blank lines."""
    out: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text, newline="")):
        if not row:
            out.append([])
        else:
            out[-1].append(row)
    return out


def test_csv_parses_back(day: Journal) -> None:
    report = build_report(day.state, TAKEN)
    text = render_csv(report, "2025-05-08 09:00 +07:00")
    head, totals, missing, incidents = sections(text)
    assert head == [["report", "Lễ phát động phong trào thi đua", "taken", "2025-05-08 09:00 +07:00"]]

    assert totals[0] == ["section", "key", "name", "points", "checked_in", "online", "attendees", "expected"]
    overall = totals[1]
    assert overall[0] == "overall"
    assert [int(x) for x in overall[3:]] == [report["overall"][k] for k in
                                             ("points", "checked_in", "online", "attendees", "expected")]
    levels = [r for r in totals if r[0] == "level"]
    assert [r[1] for r in levels] == [r["level"] for r in report["by_level"]]
    districts = {r[1]: r for r in totals if r[0] == "district"}
    assert districts["D1"][2] == "Huyện Triệu Sơn"
    assert [int(x) for x in districts["D1"][3:]] == [4, 2, 1, 143, 210]
    groups = {r[1]: r for r in totals if r[0] == "group"}
    assert groups["D1"][2:] == [*districts["D1"][2:], "district"]  # grouped by district: the same numbers
    assert len(totals) == 2 + len(levels) + len(districts) + len(groups)

    assert missing[0] == ["missing", "code", "name", "level", "district", "chair", "phone", "expected", "group"]
    rows = {r[1]: r for r in missing[1:]}
    assert set(rows) == {"D2", "C2", "V1", "SGD", "LS"}
    assert rows["V1"] == ["missing", "V1", "Thôn Yên Thịnh", "village", "Huyện Triệu Sơn", "Vũ Văn G",
                          "0930000001", "20", "Huyện Triệu Sơn"]
    assert rows["LS"][4] == ""

    assert incidents[0][:3] == ["incident", "id", "point"]
    [c2, ls] = incidents[1:]
    # The note's quotes and comma survive (its newline was folded to a space when stored).
    assert c2[2:6] == ["C2", "Xã Hợp Lý", "audio", "mất tiếng, \"rè\" ở loa 2"]
    assert c2[7] == "0920000002"
    assert ls[2] == "LS"


@pytest.mark.parametrize(
    "name",
    ["Hội nghị, \"phát động\"", "Tên\nhai dòng", "=HYPERLINK(\"x\")", "Đông Sơn; Triệu Sơn"],
)
def test_csv_quotes_awkward_text(th: Journal, name: str) -> None:
    th.decide(pts.decide_patch(th.state, "V1", {"chair": name}, NOW, ADMIN))
    text = render_csv(build_report(th.state, TAKEN), "t")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r and r[0] == "missing" and r[1] == "V1"]
    expected: Any = " ".join(name.split())  # fields are cleaned (whitespace collapsed) when stored
    if expected[:1] in ("=", "+", "-", "@"):
        expected = "'" + expected  # defused: a spreadsheet must not run it as a formula
    assert rows[0][5] == expected


def test_csv_keeps_newlines_inside_a_cell(day: Journal) -> None:
    report = build_report(day.state, TAKEN)
    report["missing"][0] = {**report["missing"][0], "name": "hai\ndòng, \"một\" ô"}
    rows = [r for r in csv.reader(io.StringIO(render_csv(report, "t"), newline="")) if r and r[0] == "missing"]
    assert rows[1][2] == "hai\ndòng, \"một\" ô"


def test_a_two_tier_registry_reports_by_commune_and_groups_the_missing(journal: Journal) -> None:
    """Catches a report whose by_group, missing order or HTML/XLSX section
    still speaks of districts when the event groups by commune."""
    journal.import_table([HEADER, ["TH", "Tỉnh Thanh Hóa", "province", "", "", "", "10"],
                          ["P2", "Phường Hạc Thành", "commune", "TH", "", "", "10"],
                          ["X1", "Đặc khu Hòn Mê", "commune", "TH", "", "", "10"],
                          ["P1", "Phường Hạc Thành", "commune", "TH", "", "", "10"],
                          ["S1", "Trường Hạc Thành", "school", "P1", "", "", "10"]])
    journal.fold(decide_edit_event(journal.state, {"group_level": "commune"}, TAKEN, ADMIN))
    report = build_report(journal.state, TAKEN)
    assert report["group_level"] == "commune" and report["by_district"] == []
    assert [(r["code"], r["points"], r["level"]) for r in report["by_group"]] == [
        ("X1", 1, "commune"), ("P1", 2, "commune"), ("P2", 1, "commune")]
    # By group name, then code (two units may share a name); outside any group last.
    assert [m["code"] for m in report["missing"]] == ["X1", "P1", "S1", "P2", "TH"]
    page = render_html(report)
    assert "III. Theo xã, phường, đặc khu" in page and "Theo huyện" not in page
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(report)))
    rows = list(book["Theo địa bàn"].iter_rows(values_only=True))
    assert rows[0][1] == "Xã, phường, đặc khu" and rows[1][0] == "X1"
