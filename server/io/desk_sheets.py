"""The desks' log-in sheets (docs/protocol.md#desks), made the same way by
``POST /api/events/{eid}/desks?format=csv|html`` (server/io/http/desks.py)
and by ``launchday token create --scope-level`` (server/io/cli_token.py):
a CSV list and a printable sheet of QR codes, one card per new desk.

The log-in links are in these sheets only: the journal keeps the tokens'
hashes, so a sheet is made once, from the answer of ``decide_desks``.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.core.desks import Bulk
from server.core.labels import DESKS
from server.core.text import defuse_csv
from server.io.http.qr import login_url, qr_svg

W = DESKS["vi"]


def created_view(bulk: Bulk, base: str) -> list[dict[str, Any]]:
    """The new desks, each with its token and log-in link (shown this once)."""
    return [{"id": d.fact.token_hash[:12], "name": d.fact.name, "role": d.fact.role, "point": d.point.code,
             "point_name": d.point.name, "token": d.token, "login_url": login_url(base, d.token)}
            for d in bulk.created]


def existing_view(bulk: Bulk) -> list[dict[str, Any]]:
    """The units that already had a live desk (nothing created for them)."""
    return [{"id": h[:12], "name": o.name, "role": o.role, "point": p.code, "point_name": p.name}
            for h, o, p in bulk.existing]


def csv_text(created: list[dict[str, Any]]) -> str:
    """The CSV list (a BOM first, so Excel reads the Vietnamese words)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(W["csv_header"].split(","))
    for d in created:
        role = W["role_" + d["role"]]
        writer.writerow([defuse_csv(str(x)) for x in (d["name"], d["point"], d["point_name"], role, d["login_url"])])
    return "\ufeff" + out.getvalue()


def sheet_html(event: str, tz: str, created: list[dict[str, Any]], existing: int, now_ms: float) -> str:
    """The printable sheet: one card per new desk with its QR code (the log-in link)."""
    e = html.escape
    try:
        taken = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(tz))
    except Exception:  # an unknown zone name: the machine's local time
        taken = datetime.fromtimestamp(now_ms / 1000)
    cards = "".join(
        f'<div class="card"><div class="qr" role="img" aria-label="{e(W["qr_alt"].format(name=d["name"]))}">'
        f'{qr_svg(d["login_url"])}</div><h3>{e(d["name"])}</h3>'
        f'<p>{e(W["card_unit"].format(unit=d["point_name"], code=d["point"]))}</p>'
        f'<p>{e(W["card_role"].format(role=W["role_" + d["role"]]))}</p></div>'
        for d in created)
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
            f'<meta name="referrer" content="no-referrer"><title>{e(W["sheet_title"].format(name=event))}</title>'
            "<style>body{font:14px/1.4 system-ui,sans-serif;margin:1cm}.grid{display:grid;"
            "grid-template-columns:repeat(3,1fr);gap:8mm}.card{border:1px solid #999;padding:4mm;"
            "break-inside:avoid}.qr svg{width:40mm;height:40mm}h3{margin:2mm 0;font-size:15px}</style></head><body>"
            f"<h1>{e(W['sheet_title'].format(name=event))}</h1>"
            f"<p>{e(W['sheet_summary'].format(n=len(created), t=f'{taken:%H:%M %d/%m/%Y}'))}</p>"
            + (f"<p>{e(W['sheet_existing'].format(n=existing))}</p>" if existing else "")
            + f'<div class="grid">{cards}</div></body></html>')
