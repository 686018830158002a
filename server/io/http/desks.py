"""Desks: the province gives each unit its own part of the morning
(docs/protocol.md#desks).

- ``GET /api/events/{eid}/desks`` (viewer; not a desk): every desk of the
  event with its unit's progress, so the province sees which desk is behind.
- ``POST /api/events/{eid}/desks[?format=json|csv|html]`` (admin; not a
  desk): ``{"level", "role"}``, one desk per unit at that level that has no
  live desk; its log-in links are in the answer only (JSON, a CSV sheet, or
  a printable sheet of QR codes).

A single desk is ``POST /api/tokens`` with a ``scope`` (rest.py).
"""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from server.core import org as orgs
from server.core import scope
from server.core.errors import BadRequest
from server.core.labels import DESKS
from server.core.text import defuse_csv
from server.io.clock import now_ms
from server.io.http.auth import actor_of, event_of, json_body, json_response, store_of
from server.io.http.qr import login_url, public_base, qr_svg

W = DESKS["vi"]


async def list_desks(request: web.Request) -> web.Response:
    rt = event_of(request)
    store = store_of(request)
    state = rt.state
    desks = orgs.desks_of(store.org, rt.id)
    progress = scope.desk_progress(state, sorted({o.scope.point for _, o in desks if o.scope}))
    out: list[dict[str, Any]] = []
    for h, o in desks:
        assert o.scope is not None
        point = state.points.get(o.scope.point)
        out.append({"id": h[:12], "name": o.name, "role": o.role, "issued_ms": o.issued_ms, "revoked": o.revoked,
                    "point": o.scope.point, "point_name": point.name if point else None,
                    "level": point.level if point else None, "last_used_ms": store.last_used.get(h[:12]),
                    **progress.get(o.scope.point, {})})
    return json_response(out)


async def create_desks(request: web.Request) -> web.Response:
    fmt = request.query.get("format", "json")
    if fmt not in ("json", "csv", "html"):
        raise BadRequest("format is json, csv or html", code="validation_error")
    rt = event_of(request)
    bulk = await store_of(request).issue_desks(rt, await json_body(request), actor_of(request))
    base = public_base(request)
    created = [{"id": d.fact.token_hash[:12], "name": d.fact.name, "role": d.fact.role, "point": d.point.code,
                "point_name": d.point.name, "token": d.token, "login_url": login_url(base, d.token)}
               for d in bulk.created]
    existing = [{"id": h[:12], "name": o.name, "role": o.role, "point": p.code, "point_name": p.name}
                for h, o, p in bulk.existing]
    if fmt == "csv":
        return _csv(rt.id, created)
    if fmt == "html":
        return _sheet(rt.state.info.name, rt.state.info.timezone, created, existing)
    return json_response({"created": created, "existing": existing}, 201 if created else 200)


def _csv(eid: str, created: list[dict[str, Any]]) -> web.Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(W["csv_header"].split(","))
    for d in created:
        role = W["role_" + d["role"]]
        writer.writerow([defuse_csv(str(x)) for x in (d["name"], d["point"], d["point_name"], role, d["login_url"])])
    return web.Response(body=("\ufeff" + out.getvalue()).encode(), headers={
        "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="desks-{eid}.csv"'})


def _sheet(event: str, tz: str, created: list[dict[str, Any]], existing: list[dict[str, Any]]) -> web.Response:
    e = html.escape
    try:
        taken = datetime.fromtimestamp(now_ms() / 1000, ZoneInfo(tz))
    except Exception:  # an unknown zone name: the server's local time
        taken = datetime.fromtimestamp(now_ms() / 1000)
    cards = "".join(
        f'<div class="card"><div class="qr" role="img" aria-label="{e(W["qr_alt"].format(name=d["name"]))}">'
        f'{qr_svg(d["login_url"])}</div><h3>{e(d["name"])}</h3>'
        f'<p>{e(W["card_unit"].format(unit=d["point_name"], code=d["point"]))}</p>'
        f'<p>{e(W["card_role"].format(role=W["role_" + d["role"]]))}</p></div>'
        for d in created)
    text = (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="robots" content="noindex">'
            f'<meta name="referrer" content="no-referrer"><title>{e(W["sheet_title"].format(name=event))}</title>'
            "<style>body{font:14px/1.4 system-ui,sans-serif;margin:1cm}.grid{display:grid;"
            "grid-template-columns:repeat(3,1fr);gap:8mm}.card{border:1px solid #999;padding:4mm;"
            "break-inside:avoid}.qr svg{width:40mm;height:40mm}h3{margin:2mm 0;font-size:15px}</style></head><body>"
            f"<h1>{e(W['sheet_title'].format(name=event))}</h1>"
            f"<p>{e(W['sheet_summary'].format(n=len(created), t=f'{taken:%H:%M %d/%m/%Y}'))}</p>"
            + (f"<p>{e(W['sheet_existing'].format(n=len(existing)))}</p>" if existing else "")
            + f'<div class="grid">{cards}</div></body></html>')
    return web.Response(text=text, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})
