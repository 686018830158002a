#!/usr/bin/env python3
"""Build server/core/data/admin_units_2025.csv: Vietnam's administrative units
after the 1 July 2025 reform (34 provinces, 3,321 communes, wards and special
zones), with the codes of the national statistics office (GSO / Cục Thống kê,
danhmuchanhchinh.gso.gov.vn).

Source: the PyPI package ``vietnamadminunits`` (MIT licence), pinned by
version and wheel hash below. The wheel is downloaded with pip into a
temporary directory (or given with ``--wheel``), its SQLite dataset is read
with the standard library, and nothing of the package is vendored or
installed: launchday does not depend on it at run time.

Why this package (checked when it was chosen, December 2026):

- its codes are GSO's final codes. They equal, code for code, those of
  ``vietnam-provinces`` 2026.9.0 (GPL-3.0, so not usable here), whose 2025
  releases carried the codes of the draft list: 114 codes differ between
  the two (e.g. Phường Cửa Nam 00073 in the draft, 00082 in GSO's list);
- its counts are those of 1 July 2025: 2,621 xã, 687 phường, 13 đặc khu.

What is taken: the code, the name and the type of each unit and province.
What is not: the package's coordinates and areas. Its README says they come
from the Google Geocoding API, whose terms do not allow storing and
redistributing its results, so none ship with launchday (organizers fill in
a point's position themselves).

The type of a unit is read from its official name ("Phường Việt Hòa" is a
phường): the package's ``wardType`` column disagrees with the name for a few
units (10543, 11848, 31213, 31299, where GSO's list and the other packages
agree with the name). The script prints each such correction.

    python scripts/build_admin_units.py            # pip download, then write the file
    python scripts/build_admin_units.py --wheel vietnamadminunits-1.0.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import sqlite3
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from pathlib import Path

PACKAGE = "vietnamadminunits"
VERSION = "1.0.4"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "737ee3662e877290386c1c45ed4d71f2e5fae34ab6fb9c64bfb4cb74b216ea35"
DATASET = "vietnamadminunits/data/dataset.db"
LICENSE = f"{PACKAGE}-{VERSION}.dist-info/licenses/LICENSE"

OUT = Path(__file__).resolve().parent.parent / "server" / "core" / "data" / "admin_units_2025.csv"

UNIT_TYPES = ("Xã", "Phường", "Đặc khu")
PROVINCE_TYPES = ("Tỉnh", "Thành phố")
# The counts of 1 July 2025 (Nghị quyết 202/2025/QH15 and the resolutions of
# the Standing Committee on each province's communes).
EXPECTED = {"provinces": 34, "units": 3321, "xã": 2621, "phường": 687, "đặc khu": 13}


def nfc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def type_of(name: str, types: tuple[str, ...]) -> str:
    for t in types:
        if name.startswith(t + " "):
            return t.lower()
    raise SystemExit(f"build_admin_units: {name!r} does not start with one of {types}")


def fetch_wheel(tmp: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                    "--dest", str(tmp), f"{PACKAGE}=={VERSION}"], check=True)
    return tmp / WHEEL


def read_wheel(wheel: Path, tmp: Path) -> tuple[list[tuple[str, str, str, str]], str]:
    """(province code, province name, unit code, unit name) rows, and the licence text."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"build_admin_units: {wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as z:
        db = tmp / "dataset.db"
        db.write_bytes(z.read(DATASET))
        licence = z.read(LICENSE).decode()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT DISTINCT provinceCode, province, wardCode, ward, wardType FROM admin_units"
                           " ORDER BY provinceCode, wardCode").fetchall()
    finally:
        con.close()
    out = []
    for pcode, pname, wcode, wname, wtype in rows:
        wname = nfc(wname)
        if type_of(wname, UNIT_TYPES) != nfc(wtype).lower():
            print(f"build_admin_units: {wcode} {wname}: type from the name, not the package's {wtype!r}",
                  file=sys.stderr)
        out.append((nfc(pcode), nfc(pname), nfc(wcode), wname))
    return out, licence


def build(rows: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str, str]]:
    """The file's rows: code, name, type, province (empty for a province)."""
    provinces: dict[str, str] = {}
    units: dict[str, tuple[str, str, str, str]] = {}
    for pcode, pname, wcode, wname in rows:
        if len(pcode) != 2 or not pcode.isdigit() or len(wcode) != 5 or not wcode.isdigit():
            raise SystemExit(f"build_admin_units: bad code {pcode!r} / {wcode!r}")
        if provinces.setdefault(pcode, pname) != pname:
            raise SystemExit(f"build_admin_units: province {pcode} has two names")
        if wcode in units:
            raise SystemExit(f"build_admin_units: unit {wcode} appears twice")
        units[wcode] = (wcode, wname, type_of(wname, UNIT_TYPES), pcode)
    counts = Counter(u[2] for u in units.values())
    got = {"provinces": len(provinces), "units": len(units), **{t: counts[t] for t in ("xã", "phường", "đặc khu")}}
    if got != EXPECTED:
        raise SystemExit(f"build_admin_units: counts {got}, expected {EXPECTED}")
    table = [(code, name, type_of(name, PROVINCE_TYPES), "") for code, name in sorted(provinces.items())]
    table += sorted(units.values(), key=lambda u: (u[3], u[0]))
    return table


def render(table: list[tuple[str, str, str, str]], licence: str, today: dt.date) -> str:
    head = [
        "Vietnam's administrative units after the reform of 1 July 2025: 34 provinces and",
        "3,321 commune-level units (2,621 xã, 687 phường, 13 đặc khu). No district level.",
        "Codes: the national statistics office's (GSO / Cục Thống kê, danhmuchanhchinh.gso.gov.vn),",
        "2 digits for a province, 5 for a unit.",
        f"Source: PyPI package {PACKAGE} {VERSION} ({WHEEL}, sha256 {WHEEL_SHA256}),",
        "https://github.com/tranngocminhhieu/vietnamadminunits, licence MIT (its notice below).",
        "Taken: codes, names and types only; the package's coordinates (Google geocoding) are not.",
        f"Built: {today.isoformat()} by scripts/build_admin_units.py; do not edit by hand.",
        "Columns: code, name (official, with its type), type (tỉnh, thành phố, xã, phường,",
        "đặc khu), province (the province's code; empty on a province's own row).",
        "",
        *licence.strip().splitlines(),
    ]
    buf = io.StringIO()
    for line in head:
        buf.write(f"# {line}".rstrip() + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("code", "name", "type", "province"))
    writer.writerows(table)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheel", type=Path, help=f"use this {WHEEL} instead of downloading it")
    parser.add_argument("--out", type=Path, default=OUT, help="default: %(default)s")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today(),
                        help="the build date written in the header (default today)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wheel = args.wheel or fetch_wheel(tmp)
        rows, licence = read_wheel(wheel, tmp)
    text = render(build(rows), licence, args.date)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"build_admin_units: wrote {args.out} ({len(rows)} units)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
