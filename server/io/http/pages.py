"""Pages and their assets: the console, a point's page, the hall's screen.

The pages are static files (no build step); the server only picks the file
and refuses unknown point links with a clear page in Vietnamese.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from server.core.errors import BadRequest, NotFound
from server.core.labels import labels_js as make_labels_js
from server.io.clock import now_ms
from server.io.http.auth import store_of
from server.io.limits import HEARTBEAT_S, MAX_FRAME
from server.io.ws import frames
from server.io.ws.hub import Conn, pong

ROOT = Path(__file__).resolve().parents[3]
CONSOLE = ROOT / "console" / "web"
CHECKIN = ROOT / "checkin" / "web"
NO_CACHE = {"Cache-Control": "no-cache"}
LABELS_JS = make_labels_js()

INVALID_LINK = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liên kết không còn hiệu lực</title>
<style>body{{font:18px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1.25rem;background:#fff;color:#111}}
h1{{font-size:1.6rem;color:#a30000}}p{{max-width:34rem}}.en{{color:#444;font-size:.95rem;margin-top:2rem}}</style>
</head><body>
<h1>Liên kết không còn hiệu lực</h1>
<p>Liên kết điểm cầu này không đúng hoặc đã được thay bằng liên kết mới.
Vui lòng liên hệ Ban tổ chức để nhận liên kết mới.</p>
<p class="en" lang="en">This link is not valid any more: it is wrong or it was replaced by a new one.
Please ask the organizers for the new link.</p>
{detail}
</body></html>"""


def invalid_link_page(status: int = 404) -> web.Response:
    return web.Response(text=INVALID_LINK.format(detail=""), status=status, content_type="text/html",
                        headers=NO_CACHE)


def _file(path: Path) -> web.StreamResponse:
    if not path.is_file():
        raise NotFound(f"{html.escape(path.name)} is not installed", code="not_found")
    return web.FileResponse(path, headers=NO_CACHE)


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def console(request: web.Request) -> web.StreamResponse:
    return _file(CONSOLE / "index.html")


async def point_page(request: web.Request) -> web.StreamResponse:
    if await store_of(request).find_point(request.match_info["token"]) is None:
        return invalid_link_page()
    return _file(CHECKIN / "index.html")


async def hall(request: web.Request) -> web.StreamResponse:
    return _file(CHECKIN / "hall.html")


async def ws_display(request: web.Request) -> web.StreamResponse:
    """A hall screen: ceremony frames (agenda, launch, notices) and clock
    pings only; no point data, so it needs no token."""
    rt = store_of(request).event_or_latest(request.query.get("event"))
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    conn = Conn(ws, request, "display")
    hello = {"type": "welcome", "server_ms": now_ms(), "seq": rt.state.seq,
             "event": {"id": rt.id, "name": rt.state.info.name, "starts_at": rt.state.info.starts_at,
                       "timezone": rt.state.info.timezone}}
    for name in ("agenda", "launch"):
        hello[name] = rt.wiring.views[name](rt) if name in rt.wiring.views else {}
    conn.send(hello)
    rt.room.add(conn)
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            t1 = now_ms()
            try:
                frame = frames.parse_client_frame(msg.data)
            except BadRequest as err:
                conn.send(err.to_frame(frames.frame_id(msg.data)))
                continue
            if frame.type == "time.ping":
                pong(conn, frame.t0, t1)
            elif frame.type != "time.sync":
                conn.send(BadRequest("a display only pings", code="unknown_message").to_frame(None))
    finally:
        rt.room.remove(conn)
    return ws


async def labels_js(request: web.Request) -> web.Response:
    """The one source of level names and labels (server/core/labels.py) as an
    ES module, for every page. Gzipped when the browser takes it (the point
    page's first load on a phone)."""
    response = web.Response(text=LABELS_JS, content_type="text/javascript", charset="utf-8", headers=NO_CACHE)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)
    return response


_COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".json", ".webmanifest")


@web.middleware
async def compress_pages(request: web.Request, handler: Any) -> web.StreamResponse:
    """The pages and their scripts gzipped on the wire when the browser takes
    it: a site lead's first load on a weak 3G link is a third of the bytes.
    (Only files: the API's JSON and the sockets are left as they are.)"""
    response = await handler(request)
    # A conditional or ranged request may be answered 304/206 by the file
    # response itself, and a 304 must carry no body, not even an empty gzip
    # stream: those are left uncompressed.
    conditional = any(h in request.headers for h in ("If-Modified-Since", "If-None-Match", "If-Range", "Range"))
    if (isinstance(response, web.FileResponse) and not conditional
            and "gzip" in request.headers.get("Accept-Encoding", "")
            and (request.path.endswith(_COMPRESSIBLE) or not request.path.startswith("/static/"))):
        response.enable_compression(web.ContentCoding.gzip)
    return response

