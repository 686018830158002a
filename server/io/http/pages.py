"""Pages and their assets: the console, a point's page, the hall's screen.

The pages are static files (no build step); the server only picks the file
and refuses unknown point links with a clear page in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from aiohttp import WSMsgType, web

from server.core.errors import BadRequest
from server.core.labels import labels_js as make_labels_js
from server.io.clock import now_ms
from server.io.http.auth import store_of
from server.io.http.files import CHECKIN, CONSOLE, NO_CACHE, invalid_link_page, serve_file
from server.io.limits import HEARTBEAT_S, MAX_FRAME
from server.io.ws import frames
from server.io.ws.hub import Conn, pong

LABELS_JS = make_labels_js()


async def root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


async def console(request: web.Request) -> web.StreamResponse:
    return serve_file(CONSOLE / "index.html")


async def point_page(request: web.Request) -> web.StreamResponse:
    if await store_of(request).find_point(request.match_info["token"]) is None:
        return invalid_link_page()
    return serve_file(CHECKIN / "index.html")


async def hall(request: web.Request) -> web.StreamResponse:
    return serve_file(CHECKIN / "hall.html")


async def ws_display(request: web.Request) -> web.StreamResponse:
    """A hall screen: ceremony frames (agenda, launch, notices) and clock
    pings only; no point data, so it needs no token."""
    rt = store_of(request).event_or_latest(request.query.get("event"))
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=HEARTBEAT_S)
    try:
        await ws.prepare(request)
    except ConnectionError:  # the device left during the handshake: nothing to serve, nothing to log
        return ws
    conn = Conn(ws, request, "display")
    hello = {"type": "welcome", "server_ms": now_ms(), "seq": rt.state.seq,
             "event": {"id": rt.id, "name": rt.state.info.name, "starts_at": rt.state.info.starts_at,
                       "timezone": rt.state.info.timezone}, **rt.views()}
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
def compress_pages(request: web.Request, handler: Any) -> Awaitable[web.StreamResponse]:
    """The pages and their scripts gzipped on the wire when the browser takes
    it: a site lead's first load on a weak 3G link is a third of the bytes.
    (Only files: the API's JSON and the sockets are left as they are.)

    A WebSocket upgrade is handed straight to its handler (the awaitable
    itself, no coroutine of ours around it): a socket open for hours then
    keeps no frame of this middleware (docs/benchmarks.md, "Leaner sockets")."""
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return handler(request)  # type: ignore[no-any-return]
    return _compress_file(request, handler)


async def _compress_file(request: web.Request, handler: Any) -> web.StreamResponse:
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

