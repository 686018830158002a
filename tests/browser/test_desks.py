"""Desks in chromium (docs/protocol.md#desks): the province gives a commune
its desk from the People tab, the desk logs in from its QR link, sees only
its unit and no launch, agenda or import control, and is shut out when the
province revokes it. The province's Desks view and its bulk action too."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser.test_console import VIEWPORT, downloaded, open_console
from tests.utils import ADMIN, Api, timeout, wait_until

REGISTRY = "\n".join([
    "code,name,level,parent,chair,phone,expected",
    "38,Tỉnh Thanh Hóa,province,,Chủ tịch tỉnh,0900000000,300",
    "IN,Xã Trong,commune,38,Chủ tịch Trong,0911000000,50",
    "IN-1,Thôn Trong Một,village,IN,,,20",
    "IN-2,Thôn Trong Hai,village,IN,,,20",
    "OUT,Xã Ngoài,commune,38,Chủ tịch Ngoài,0922000000,50",
    "OUT-1,Thôn Ngoài Một,village,OUT,,,20",
]) + "\n"

# Every socket's close code, for the test to read (the console's Live uses the global WebSocket).
CLOSES = """
window.__wsCloses = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    this.addEventListener('close', (e) => window.__wsCloses.push(e.code));
  }
};
"""
MS = 1000


async def checkin(server: Any, token: str, attendees: int) -> None:
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={token}")
        await ws.receive_json()
        await ws.send_json({"type": "checkin", "id": "c", "attendees": attendees})
        assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
        await ws.close()


def decode_qr(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1, found
    return str(found[0].text)


async def open_link(browser: Browser, url: str) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT, locale="vi-VN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.add_init_script(CLOSES)
    await page.goto(url)
    await page.wait_for_function("document.querySelector('#conn').dataset.state === 'live'",
                                 timeout=timeout(10) * MS)
    return context, page


async def test_a_desk_logs_in_from_its_qr_sees_its_unit_only_and_is_shut_out(browser, server, artifacts) -> None:
    """Catches a desk's console showing another unit's points, a launch,
    agenda or import control, a QR code that is not its log-in link, a
    revoked desk's page staying open, and the Desks view not showing the
    desk's progress."""
    api: Api = server.api
    eid = await api.event(group_level="commune")
    await api.import_csv(eid, REGISTRY)
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await checkin(server, tokens["IN-1"], 17)

    province, page = await open_console(browser, server.base, ADMIN, eid, "people")
    desk_ctx = None
    try:
        # "Giao bàn cho …": pick the unit, a role; the name defaults to the unit's.
        await page.wait_for_selector("#desk-form")
        await page.fill("#desk-point", "Xã Trong")
        await page.wait_for_function("document.querySelector('#desk-give').textContent.includes('Xã Trong')")
        await page.select_option("#desk-role", "operator")
        await page.click("#desk-give")
        await page.wait_for_selector("#secret-dialog[open]")
        link = await page.get_attribute("#secret-link", "href")
        assert link and link.startswith(f"{server.base}/console/#token=")
        assert "Bàn Xã Trong" in (await page.text_content("#secret-title") or "")
        assert decode_qr(await page.locator("#secret-qr svg").screenshot()) == link
        await page.click("#secret-dialog button[value=ok]")
        desk = next(t for t in await api.call("GET", "/api/tokens", 200) if t["name"] == "Bàn Xã Trong")
        assert desk["scope"] == {"event": eid, "point": "IN"} and desk["role"] == "operator"

        # The desk opens its link: its unit in the header, its points only.
        desk_ctx, dpage = await open_link(browser, link)
        await dpage.wait_for_function("document.querySelector('#desk-unit').textContent.includes('Xã Trong')")
        assert await dpage.locator("#desk-unit").is_visible()
        assert "#token=" not in dpage.url  # the token left the address bar
        await dpage.click("nav a[data-view=points]")
        await dpage.wait_for_selector("#points-rows tr")
        codes = await dpage.eval_on_selector_all("#points-rows tr", "rows => rows.map((r) => r.dataset.key)")
        assert sorted(codes) == ["IN", "IN-1", "IN-2"]
        await dpage.wait_for_function("document.querySelector('[data-k=attendees]').textContent === '17'")
        # No tab and no control it may not use.
        for view in ("programme", "people", "desks", "control"):
            assert not await dpage.locator(f"nav a[data-view={view}]").is_visible(), view
        for view in ("dashboard", "points", "incidents", "reports", "audit"):
            assert await dpage.locator(f"nav a[data-view={view}]").is_visible(), view
        await dpage.goto(dpage.url.split("#")[0] + "#control")  # typed by hand: the dashboard instead
        await dpage.wait_for_selector("#view-dashboard:not([hidden])")
        for selector in ("#arm-form", "#press", "#abort", "#reset", "[data-agenda=start]", "[data-agenda=next]",
                         "#prog-save", "#import-file", "#snap-form", "#desk-form", "#org-form", "#event-create"):
            assert not await dpage.locator(selector).first.is_visible(), selector
        await dpage.click("nav a[data-view=points]")
        await dpage.locator("#links-html").wait_for(timeout=timeout(5) * MS)  # a desk hands out its own points' links
        # The server refuses anyway.
        for path in (f"/api/events/{eid}/launch/arm", f"/api/events/{eid}/agenda/start"):
            status = await dpage.evaluate("(p) => fetch(p, {method: 'POST', headers: {'Content-Type': "
                                          "'application/json'}, body: '{}'}).then((r) => r.status)", path)
            assert status == 403, path
        await dpage.screenshot(path=str(artifacts / "console-desk.png"))

        # The province's Desks view: the desk, its unit and its progress.
        await page.click("nav a[data-view=desks]")
        row = page.locator(f"#desks-table tbody tr[data-key='{desk['id']}']")
        await row.wait_for()
        text = await row.text_content() or ""
        assert "Xã Trong" in text and "1 / 3" in text and "17 / 90" in text, text

        # The province revokes it: the desk's socket closes with 4403 and the page is logged out.
        await api.call("DELETE", f"/api/tokens/{desk['id']}", 204)
        await dpage.wait_for_function("window.__wsCloses.includes(4403)", timeout=timeout(5) * MS)
        await dpage.wait_for_selector("#login:not([hidden])", timeout=timeout(5) * MS)
        assert await dpage.locator("#app").is_hidden()
        assert "thu hồi" in (await dpage.text_content("#login-error") or "")
        await row.locator("text=Đã thu hồi").wait_for(timeout=timeout(10) * MS)  # the view refreshes itself
        assert page.errors == [] and dpage.errors == []  # type: ignore[attr-defined]
    finally:
        await province.close()
        if desk_ctx is not None:
            await desk_ctx.close()


async def test_every_commune_gets_its_desk_from_the_console_once(browser, server) -> None:
    """Catches the bulk action creating a desk twice, or offering sheets
    without the new desks' log-in links."""
    api: Api = server.api
    eid = await api.event(group_level="commune")
    await api.import_csv(eid, REGISTRY)
    await api.call("POST", "/api/tokens", 201, json={"name": "Bàn có sẵn", "role": "viewer",
                                                     "scope": {"event": eid, "point": "IN"}})
    context, page = await open_console(browser, server.base, ADMIN, eid, "people")
    try:
        await page.wait_for_selector("#desk-bulk-level option[value=commune]", state="attached")
        await page.select_option("#desk-bulk-level", "commune")
        await page.click("#desk-bulk button[type=submit]")
        await page.wait_for_selector("#desk-bulk-result:not([hidden])")
        assert "1 bàn mới; 1 đơn vị đã có bàn" in (await page.text_content("#desk-bulk-summary") or "")
        async with page.expect_download() as info:
            await page.click("#desk-bulk-csv")
        name, body = await downloaded(info)
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert name == f"desks-{eid}.csv" and [r[1] for r in rows[1:]] == ["OUT"]
        assert rows[1][4].startswith(f"{server.base}/console/#token=")
        async with page.expect_download() as info:
            await page.click("#desk-bulk-sheet")
        name, body = await downloaded(info)
        assert name == f"desks-{eid}.html" and body.count(b"<svg") == 1
        # Again: nothing twice.
        await page.click("#desk-bulk button[type=submit]")
        await page.wait_for_function("document.querySelector('#desk-bulk-summary').textContent"
                                     ".includes('0 bàn mới; 2 đơn vị')")
        assert await page.locator("#desk-bulk-csv").is_hidden()

        async def two() -> bool:
            desks = await api.call("GET", f"/api/events/{eid}/desks", 200)
            return sorted(d["point"] for d in desks) == ["IN", "OUT"]

        await wait_until(two, 5, "one desk per commune")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


