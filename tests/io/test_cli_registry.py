"""``launchday registry``: the import sheet of a province or of the country,
and the refusals that write nothing."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from server.io.cli import main
from server.io.http.importfile import read_table
from tests.utils import ROOT, timeout


def run(capsysbinary: pytest.CaptureFixture[bytes], *args: str) -> tuple[int, bytes, str]:
    with pytest.raises(SystemExit) as done:
        main(["registry", *args])
    out, err = capsysbinary.readouterr()
    return int(done.value.code or 0), out, err.decode()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def test_thanh_hoa_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, err = run(capsysbinary, "--province", "thanh hoa")
    assert code == 0, err
    rows = rows_of(out.decode("utf-8"))
    assert list(rows[0]) == ["code", "name", "level", "parent", "chair", "phone", "expected"]
    assert rows[0]["code"] == "38" and rows[0]["name"] == "Tỉnh Thanh Hóa" and rows[0]["level"] == "province"
    units = rows[1:]
    assert len(units) == 166
    assert Counter(r["name"].split()[0] for r in units) == {"Xã": 147, "Phường": 19}
    assert all(r["level"] == "commune" and r["parent"] == "38" for r in units)
    assert {"code": "14797", "name": "Phường Hạc Thành", "level": "commune", "parent": "38",
            "chair": "", "phone": "", "expected": ""} in units
    assert "Tỉnh Thanh Hóa (38): 166 units (147 xã, 19 phường)" in err


def test_the_file_reads_back_through_the_importer_reader(capsysbinary: pytest.CaptureFixture[bytes],
                                                         tmp_path: Path) -> None:
    out_file = tmp_path / "th.csv"
    code, out, _ = run(capsysbinary, "--province", "Tỉnh Thanh Hóa", "--out", str(out_file))
    assert code == 0 and out == b""
    data = out_file.read_bytes()
    assert data.startswith("\ufeff".encode())  # spreadsheets then show the diacritics
    table = read_table(data, "text/csv", "th.csv")
    assert table[0] == ["code", "name", "level", "parent", "chair", "phone", "expected"]
    assert len(table) == 1 + 1 + 166
    assert list(tmp_path.iterdir()) == [out_file]  # no temporary file left behind


def test_all_of_the_country(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    out_file = tmp_path / "vn.csv"
    code, _, err = run(capsysbinary, "--all", "--out", str(out_file))
    assert code == 0, err
    rows = rows_of(out_file.read_text(encoding="utf-8"))
    assert len(rows) == 1 + 34 + 3321
    assert rows[0]["code"] == "VN" and rows[0]["name"] == "Việt Nam" and rows[0]["level"] == "other"
    assert Counter(r["level"] for r in rows) == {"other": 1, "province": 34, "commune": 3321}
    assert Counter(r["name"].split()[0] for r in rows if r["level"] == "commune") == {
        "Xã": 2621, "Phường": 687, "Đặc": 13}
    assert "3,321 units (2,621 xã, 687 phường, 13 đặc khu)" in err


@pytest.mark.parametrize(("name", "error", "listed"), [
    ("Quảng", "province_ambiguous", ["Quảng Ninh", "Quảng Trị", "Quảng Ngãi"]),
    ("Thanh Ha", "province_unknown", ["Thanh Hóa"]),
    ("Atlantis", "province_unknown", []),
])
def test_a_bad_name_writes_nothing(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path,
                                   name: str, error: str, listed: list[str]) -> None:
    out_file = tmp_path / "out.csv"
    code, out, err = run(capsysbinary, "--province", name, "--out", str(out_file))
    assert code == 2
    assert out == b""
    assert list(tmp_path.iterdir()) == []
    assert error in err
    for candidate in listed:
        assert candidate in err


def test_province_or_all_is_required(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, out, _ = run(capsysbinary)
    assert code == 2 and out == b""
    code, out, _ = run(capsysbinary, "--all", "--province", "Huế")
    assert code == 2 and out == b""


def test_the_command_line(tmp_path: Path) -> None:
    """The real entry point, as an organizer runs it."""
    done = subprocess.run([sys.executable, "-m", "server.io.cli", "registry", "--province", "thanh hoa"],
                          cwd=ROOT, capture_output=True, timeout=timeout(60))
    assert done.returncode == 0, done.stderr
    assert len(rows_of(done.stdout.decode("utf-8"))) == 167
    bad = subprocess.run([sys.executable, "-m", "server.io.cli", "registry", "--province", "Quảng"],
                         cwd=ROOT, capture_output=True, timeout=timeout(60))
    assert bad.returncode == 2 and bad.stdout == b""
    assert "Quảng Ngãi" in bad.stderr.decode()
