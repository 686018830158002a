"""Links that carry a credential (a point's, a key holder's, an organizer's log-in), and their QR codes (inline SVG, made here so
the console needs no library)."""

from __future__ import annotations

import os
from urllib.parse import quote

import segno
from aiohttp import web


def public_base(request: web.Request) -> str:
    """The scheme and host the links point at, without a trailing slash."""
    env = os.environ.get("LAUNCHDAY_PUBLIC_URL", "").strip().rstrip("/")
    return env or f"{request.scheme}://{request.host}"


def point_url(base: str, token: str) -> str:
    return f"{base}/p/{quote(token, safe='')}"


def qr_svg(url: str) -> str:
    return str(segno.make(url, error="m", micro=False).svg_inline(scale=5, border=2, dark="#000", light="#fff"))


def keyholder_url(base: str, token: str) -> str:
    return f"{base}/k/{quote(token, safe='')}"


def login_url(base: str, token: str) -> str:
    """The console's login link. The token rides in the fragment: a browser
    never sends a fragment to a server nor puts it in a Referer; the login
    page reads it, exchanges it for the session cookie (POST /api/session)
    and removes it from the address bar."""
    return f"{base}/console/#token={quote(token, safe='')}"
