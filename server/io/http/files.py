"""The files the pages are made of, and the page a dead link shows: shared
by the page handlers (pages.py) and the key holder's page (people.py)."""

from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from server.core.errors import NotFound

ROOT = Path(__file__).resolve().parents[3]
CONSOLE = ROOT / "console" / "web"
CHECKIN = ROOT / "checkin" / "web"
NO_CACHE = {"Cache-Control": "no-cache"}

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


def serve_file(path: Path) -> web.StreamResponse:
    if not path.is_file():
        raise NotFound(f"{html.escape(path.name)} is not installed", code="not_found")
    return web.FileResponse(path, headers=NO_CACHE)
