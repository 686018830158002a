"""``launchday registry``: the import sheet of a province, or of the country,
from the official list of administrative units (server/core/admin_units.py).

    launchday registry --province "Thanh Hóa"                  # CSV on stdout
    launchday registry --province "thanh hoa" --out th.csv     # to a file
    launchday registry --all --out vietnam.csv

The sheet holds the province (level ``province``) and its communes, wards and
special zones (level ``commune``) with their official codes and names; chair,
phone and expected are blank for the organizers to fill in, then the sheet is
imported as it is. ``--all`` adds a root for the country (code ``VN``, level
``other``) above the 34 provinces.

A name that matches no province, or several, writes nothing and exits 2 with
the candidates.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from server.core import admin_units
from server.core.errors import LaunchdayError


def add_parser(sub: Any) -> None:
    p = sub.add_parser("registry", help="write the import sheet of a province (or the country) "
                                        "from the official list of administrative units")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--province", metavar="NAME",
                       help='a province, e.g. "Thanh Hóa" (diacritics, case and "Tỉnh"/"Thành phố" optional)')
    which.add_argument("--all", action="store_true", help="the country: a root, the 34 provinces, every unit")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write the CSV here (UTF-8 with a BOM, for spreadsheets) instead of stdout")


def render(rows: list[dict[str, str]], *, bom: bool = False) -> str:
    buf = io.StringIO()
    if bom:
        buf.write("\ufeff")
    writer = csv.DictWriter(buf, fieldnames=admin_units.REGISTRY_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def run(args: argparse.Namespace) -> int:
    data = admin_units.load()
    try:
        province = None if args.all else admin_units.match_province(args.province, data)
    except LaunchdayError as err:
        print(f"launchday registry: {err.message} [{err.code}]", file=sys.stderr)
        candidates = (err.details or {}).get("candidates") or []
        if candidates and err.code == "province_ambiguous":
            print("  be more precise: " + " | ".join(f'--province "{c}"' for c in candidates), file=sys.stderr)
        return 2
    rows = admin_units.registry_rows(province.code if province else None, data)
    text = render(rows, bom=args.out is not None)
    if args.out is None:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    else:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(text, encoding="utf-8", newline="")
        os.replace(tmp, args.out)
    units = data.units_of(province.code) if province else data.units
    kinds = Counter(u.type for u in units)
    what = f"{province.name} ({province.code})" if province else f"{admin_units.NATION_NAME}, 34 provinces"
    print(f"launchday registry: {what}: {len(units):,} units ("
          + ", ".join(f"{kinds[t]:,} {t}" for t in ("xã", "phường", "đặc khu") if kinds[t]) + ")"
          + (f" -> {args.out}" if args.out else ""), file=sys.stderr)
    return 0
