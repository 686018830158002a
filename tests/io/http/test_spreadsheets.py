"""No formula from outside text (docs/protocol.md#spreadsheets): every
spreadsheet download, opened as Excel would, holds no formula and no cell a
spreadsheet would run, and a phone number stays readable."""

from __future__ import annotations

import csv
import io

import aiohttp
from openpyxl import load_workbook

from server.core.text import FORMULA_STARTS
from tests.io.ws.test_point import connect, request
from tests.utils import Api

LINK = '=HYPERLINK("http://evil.example/x","bấm vào")'
PHONE = "+84 912 345 678"
EVENT_NAME = "=1+1 Lễ phát động"
POINTS = [
    ["code", "name", "level", "parent", "chair", "phone", "expected"],
    ["TH", "Hội trường tỉnh", "province", "", "Chủ tịch", "0900000000", "300"],
    ["D0", "=2+3 Huyện", "district", "TH", "@SUM(A1)", PHONE, "100"],
    ["D0-C0", "-4+5 Xã", "commune", "D0", "+cmd|' /C calc'!A0", "-1", "50"],
]


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


async def _download(api: Api, path: str) -> bytes:
    status, body = await api.call("GET", path)
    assert status == 200, (path, status)
    return bytes(body)


def _check_xlsx(data: bytes, where: str) -> set[str]:
    texts: set[str] = set()
    book = load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.add(cell.value)
                    if cell.value[:1] in FORMULA_STARTS:  # shown exactly, as text, never run
                        assert cell.data_type == "s" and cell.quotePrefix, (where, ws.title, cell.coordinate)
    return texts


def _check_csv(data: bytes, where: str) -> set[str]:
    cells = {c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for c in row}
    ran = [c for c in cells if c[:1] in FORMULA_STARTS]
    assert ran == [], (where, ran)
    return cells


async def test_outside_text_never_becomes_a_formula_in_any_spreadsheet(server) -> None:
    """Catches a formula cell from outside text: an incident note, a point's
    name, a chair, a phone or the event name starting with "=", "+", "-" or
    "@" in report.xlsx (Sự cố, summary, missing sheets), report.csv,
    links.csv or a snapshot's CSV/XLSX; and a phone made unreadable."""
    api: Api = server.api
    eid = await api.event(name=EVENT_NAME)
    imported = await api.import_csv(eid, _csv_text(POINTS))
    assert imported.get("errors", []) == [], imported
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    async with aiohttp.ClientSession() as s:
        ws = await connect(server, s, tokens["D0"])
        opened = await request(ws, {"type": "incident", "id": "m1", "kind": "audio", "note": LINK})
        assert opened.get("incident"), opened
        await ws.close()
    await api.call("POST", f"/api/events/{eid}/report/snapshots", 201, json={"label": "=cmd|' /C calc'!A0"})

    xlsx: dict[str, set[str]] = {}
    for path in ("report.xlsx", "report/snapshots/1.xlsx"):
        xlsx[path] = _check_xlsx(await _download(api, f"/api/events/{eid}/{path}"), path)
    csvs: dict[str, set[str]] = {}
    for path in ("report.csv", "report/snapshots/1.csv", "links.csv"):
        csvs[path] = _check_csv(await _download(api, f"/api/events/{eid}/{path}"), path)

    # The outside text is there, exact in the workbooks, quoted in the CSVs.
    for path, texts in xlsx.items():
        assert {LINK, PHONE, EVENT_NAME, "=2+3 Huyện", "@SUM(A1)", "-4+5 Xã"} <= texts, (path, texts)
    for path in ("report.csv", "report/snapshots/1.csv"):
        assert {"'" + LINK, "'" + PHONE, "'=2+3 Huyện", "'@SUM(A1)", "'-4+5 Xã"} <= csvs[path], path
    assert {"'" + PHONE, "'=2+3 Huyện", "'@SUM(A1)", "'-4+5 Xã", "'+cmd|' /C calc'!A0", "'-1"} <= csvs["links.csv"]


def test_a_tab_or_carriage_return_in_front_is_defused_too() -> None:
    """Catches the CSV rule missing the tab and carriage return (a cell
    "\\t=1+1" is run by some spreadsheets), and numbers being touched."""
    from server.core.text import defuse_csv

    assert defuse_csv("\t=1+1") == "'\t=1+1" and defuse_csv("\r=1") == "'\r=1"
    assert defuse_csv(PHONE) == "'" + PHONE and defuse_csv("Xã An") == "Xã An"
    assert defuse_csv(-3) == -3 and defuse_csv(None) is None
