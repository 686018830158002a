"""Desks: the province gives each unit its own part of the morning
(docs/protocol.md#desks).

- ``GET /api/events/{eid}/desks`` (viewer; not a desk): every desk of the
  event with its unit's progress, so the province sees which desk is behind.
- ``POST /api/events/{eid}/desks[?format=json|csv|html]`` (admin; not a
  desk): ``{"level", "role"}``, one desk per unit at that level that has no
  live desk; its log-in links are in the answer only (JSON, a CSV sheet, or
  a printable sheet of QR codes: server/io/desk_sheets.py); with
  ``sheets=1`` the JSON answer carries both sheets too (``csv``, ``html``).

A single desk is ``POST /api/tokens`` with a ``scope`` (rest.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.core import org as orgs
from server.core import scope
from server.core.errors import BadRequest
from server.io import desk_sheets as sheet
from server.io.clock import now_ms
from server.io.http.auth import actor_of, event_of, json_body, json_response, store_of
from server.io.http.qr import public_base


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
    sheets = request.query.get("sheets", "0")
    if sheets not in ("0", "1"):
        raise BadRequest("sheets is 0 or 1", code="validation_error")
    rt = event_of(request)
    bulk = await store_of(request).issue_desks(rt, await json_body(request), actor_of(request))
    created, existing = sheet.created_view(bulk, public_base(request)), sheet.existing_view(bulk)
    info = rt.state.info
    if fmt == "csv":
        return web.Response(body=sheet.csv_text(created).encode(), headers={
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="desks-{rt.id}.csv"'})
    if fmt == "html":
        return web.Response(text=sheet.sheet_html(info.name, info.timezone, created, len(existing), now_ms()),
                            content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-store"})
    out: dict[str, Any] = {"created": created, "existing": existing}
    if sheets == "1":  # the console's bulk action: both sheets from the one answer that has the links
        out["csv"] = sheet.csv_text(created)
        out["html"] = sheet.sheet_html(info.name, info.timezone, created, len(existing), now_ms())
    return json_response(out, 201 if created else 200)
