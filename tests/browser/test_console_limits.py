"""The console, logged in through the session cookie (a random session id,
Origin-checked), shows a point refused for too many connections."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from server.io.limits import MAX_POINT_SOCKETS
from tests.browser.test_console import open_console, setup_event
from tests.utils import ADMIN, timeout


async def test_the_console_shows_too_many_connections(browser: Any, server: Any) -> None:
    eid, tokens = await setup_event(server.api, (1, 2, 0))
    context, page = await open_console(browser, server.base, ADMIN, eid, "points")
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    assert cookies.get("launchday_session") and ADMIN not in cookies["launchday_session"]
    async with aiohttp.ClientSession() as s:
        socks = [await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}") for _ in range(MAX_POINT_SOCKETS)]
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
        await page.click("nav a[data-view=points]")
        row = page.locator("#points-rows tr[data-key='D0']")
        await row.locator("text=Quá nhiều kết nối").wait_for(timeout=timeout(10) * 1000)
        for ws in socks:
            await ws.close()
        await row.locator("text=Quá nhiều kết nối").wait_for(state="detached", timeout=timeout(10) * 1000)
    assert page.errors == []  # type: ignore[attr-defined]
    await context.close()
