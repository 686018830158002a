"""Reading an uploaded sheet (CSV or XLSX) into rows of cells.

Only the reading lives here; what a row means is decided by
server.core.importing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from server.core.errors import BadRequest

XLSX_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/octet-stream",
}


def read_table(data: bytes, content_type: str, filename: str = "") -> list[list[Any]]:
    """Rows of cells from a CSV (UTF-8, with or without BOM) or an XLSX file."""
    if not data:
        raise BadRequest("the file is empty", code="import_invalid", details={"message_vi": "Tệp trống."})
    is_xlsx = data[:2] == b"PK" or filename.lower().endswith(".xlsx") or (
        content_type in XLSX_TYPES and not content_type.startswith("text/"))
    if is_xlsx:
        return _read_xlsx(data)
    return _read_csv(data)


def _read_csv(data: bytes) -> list[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the CSV is not UTF-8 (byte {exc.start})", code="import_invalid",
                         details={"message_vi": "Tệp CSV không ở mã UTF-8; hãy lưu lại dưới dạng CSV UTF-8."}) from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    except csv.Error as exc:
        raise BadRequest(f"the CSV cannot be read: {exc}", code="import_invalid",
                         details={"message_vi": "Không đọc được tệp CSV."}) from None


def _read_xlsx(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook  # loaded on first use: ~150 ms off every server start

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BadRequest(f"the XLSX file cannot be read: {exc}", code="import_invalid",
                         details={"message_vi": "Không đọc được tệp Excel (.xlsx)."}) from None
    try:
        sheet = book.worksheets[0]
        return [[_cell(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _cell(value: Any) -> Any:
    # Spreadsheets store codes such as 101 and counts such as 40 as floats.
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
