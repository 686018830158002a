"""The link sheet: every point's own link, to send or to print (admin only).

- ``GET /api/events/{eid}/links.csv``: ``code, name, chair, phone, url``,
  UTF-8 with a BOM (so Excel shows Vietnamese correctly), CRLF lines.
- ``GET /api/events/{eid}/links.html``: a printable A4 sheet in Vietnamese,
  one card per point (name, level, group, chair, phone, its link and a QR
  code of it), eight to a page, grouped by the event's group level
  (docs/protocol.md#grouping), each group starting on a new page.

Both take ``?group=<code>`` to keep only the points rolled up into that group
(404 ``group_not_found`` if it is not one), and ``?district=<code>`` for a
district. Both lists are sorted by group (groups by name). The links are
absolute: ``LAUNCHDAY_PUBLIC_URL`` (e.g.
``https://launch.example.vn``) when it is set, else the scheme and host the
request came in on.

The QR codes are PNG ``data:`` URIs made by segno (rendered pixelated, so they
print sharp): a test or a phone can decode exactly what is printed.

Also here: ``GET /checkin-sw.js``, the site-lead page's service worker
(checkin/web/sw.js), served from the root so that its scope can cover ``/p/``.
"""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from aiohttp import web

from server.core import labels
from server.core.errors import BadRequest, NotFound
from server.core.grouping import check_group
from server.core.text import defuse_csv, fold
from server.io.clock import now_ms
from server.io.http.auth import store_of, visible_of
from server.io.http.qr import point_url, public_base

SERVICE_WORKER = Path(__file__).resolve().parents[3] / "checkin" / "web" / "sw.js"

LEVEL_VI = labels.LEVELS["vi"]  # the one source of level names (server/core/labels.py)
W = labels.LINKS["vi"]  # the sheet's own words
NO_DISTRICT = W["no_district"]  # points outside any group: the province hall, departments…


def _rows(request: web.Request) -> tuple[Any, list[dict[str, Any]], str | None]:
    """The event runtime, its points (grouped by group, groups by name,
    import order inside a group) and the group or district filtered on, if any."""
    rt = store_of(request).event(request.match_info["eid"])
    state = rt.state
    district_of: dict[str, str | None] = state.live.district_of
    group_of: dict[str, str | None] = state.live.group_of
    wanted = request.query.get("district", "").strip() or None
    if wanted is not None:
        if wanted not in state.points:
            raise NotFound(f"no point {wanted!r}", code="point_not_found")
        if district_of.get(wanted) != wanted:
            raise BadRequest(f"{wanted!r} is not a district", code="validation_error",
                             details=[{"field": "district", "message": "not a district's code"}])
    group = check_group(group_of, request.query["group"].strip()) if "group" in request.query else None
    base = public_base(request)
    visible = visible_of(request)  # a desk's sheet: its own points
    rows = []
    for order, point in enumerate(state.points.values()):
        if visible is not None and point.code not in visible:
            continue
        if wanted is not None and district_of.get(point.code) != wanted:
            continue
        if group is not None and group_of.get(point.code) != group:
            continue
        own = group_of.get(point.code)
        rows.append({
            "code": point.code, "name": point.name, "level": point.level, "chair": point.chair,
            "phone": point.phone, "group": own, "group_name": state.group_name(own) or "",
            "url": point_url(base, point.token), "order": order,
        })
    rows.sort(key=lambda r: (r["group"] is not None, fold(r["group_name"]), r["group"] or "", r["order"]))
    return rt, rows, group or wanted


async def links_csv(request: web.Request) -> web.Response:
    rt, rows, _ = _rows(request)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["code", "name", "chair", "phone", "url"])
    for r in rows:
        writer.writerow([defuse_csv(r[k]) for k in ("code", "name", "chair", "phone", "url")])
    return web.Response(
        body=out.getvalue().encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="links-{rt.id}.csv"', "Cache-Control": "no-store"},
    )


SHEET_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { margin: 0; font: 11pt/1.35 system-ui, "Segoe UI", Roboto, "Noto Sans", Arial, sans-serif; color: #000; }
header { border-bottom: 2px solid #000; padding-bottom: 3mm; margin-bottom: 4mm; }
h1 { font-size: 16pt; margin: 0; }
header p { margin: 1mm 0 0; font-size: 10pt; }
h2 { font-size: 13pt; margin: 0 0 3mm; }
section + section { break-before: page; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
.card { display: flex; gap: 4mm; align-items: flex-start; border: 1px solid #000; border-radius: 2mm;
  padding: 3mm; height: 62mm; break-inside: avoid; overflow: hidden; }
.card img { width: 38mm; height: 38mm; flex: none; image-rendering: pixelated; }
.card h3 { font-size: 12pt; margin: 0 0 1mm; }
.card p { margin: 0.6mm 0; font-size: 9.5pt; }
.card .url { font-family: ui-monospace, Consolas, monospace; font-size: 7.5pt; word-break: break-all; }
.note { font-size: 9pt; }
@media screen { body { max-width: 190mm; margin: 8mm auto; } }
"""


def _qr_uri(url: str) -> str:
    return str(segno.make(url, error="m", micro=False).png_data_uri(scale=6, border=4))


def _card(r: dict[str, Any]) -> str:
    e = html.escape
    lines = [
        f'<article class="card" data-code="{e(r["code"])}">',
        f'<img class="qr" alt="{e(W["qr_alt"].format(name=r["name"]))}" src="{_qr_uri(r["url"])}">',
        "<div>",
        f"<h3>{e(r['name'])}</h3>",
        f"<p>{e(W['level_code'].format(level=LEVEL_VI.get(r['level'], r['level']), code=r['code']))}</p>",
        f"<p>{e(W['area'].format(district=r['group_name'] or NO_DISTRICT))}</p>",
        f"<p>{e(W['chair'].format(chair=r['chair'] or '—'))}</p>",
        f"<p>{e(W['phone'].format(phone=r['phone'] or '—'))}</p>",
        f'<p class="url">{e(r["url"])}</p>',
        "</div></article>",
    ]
    return "\n".join(lines)


async def links_html(request: web.Request) -> web.Response:
    rt, rows, wanted = _rows(request)
    state = rt.state
    e = html.escape
    try:
        taken = datetime.fromtimestamp(now_ms() / 1000, ZoneInfo(state.info.timezone))
    except Exception:  # an unknown zone name: print the server's local time
        taken = datetime.fromtimestamp(now_ms() / 1000)
    groups: list[tuple[str | None, str, list[dict[str, Any]]]] = []
    for r in rows:
        if not groups or groups[-1][0] != r["group"]:
            groups.append((r["group"], r["group_name"] or NO_DISTRICT, []))
        groups[-1][2].append(r)
    scope = f" — {e(state.district_name(wanted))}" if wanted else ""
    parts = [
        "<!doctype html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer">',
        f"<title>{e(W['title'].format(name=state.info.name))}</title>",
        f"<style>{SHEET_CSS}</style></head><body>",
        "<header>",
        f"<h1>{e(state.info.name)}</h1>",
        f"<p>{W['summary'].format(scope=scope, n=len(rows), t=f'{taken:%H:%M %d/%m/%Y}')}</p>",
        f'<p class="note">{e(W["note"])}</p>',
        "</header>",
    ]
    if not rows:
        parts.append(f"<p>{e(W['none'])}</p>")
    for code, name, group in groups:
        parts.append(f"<section data-group=\"{e(code or '')}\"><h2>{e(name)} ({len(group)})</h2>"
                     "<div class=\"grid\">")
        parts.extend(_card(r) for r in group)
        parts.append("</div></section>")
    parts.append("</body></html>")
    return web.Response(text="\n".join(parts), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store"})


async def service_worker(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(SERVICE_WORKER, headers={"Cache-Control": "no-cache",
                                                     "Content-Type": "text/javascript; charset=utf-8"})

