"""The site-lead page /p/<token> in a real chromium against a real server.

Check-in, counts, incidents, the outbox across going offline and a reload,
a dead link, the first-load weight, 360 px screenshots, and the point's
launch report. Nothing sleeps: every wait is on a condition with a timeout.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, expect

from server.io.http.auth import STORE_KEY
from tests.utils import Api, timeout, tree_csv, wait_until

PHONE = {"width": 360, "height": 760}
MS = 1000
BUDGET = 60 * 1024


async def _event(server: Any) -> tuple[str, dict[str, dict[str, Any]]]:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(2, 2, 1)[0])
    return eid, {p["code"]: p for p in await api.points(eid)}


async def _open(browser: Any, server: Any, token: str, path: str = "") -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=PHONE, locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(timeout(10) * MS)
    page = await context.new_page()
    await page.goto(f"{server.base}/p/{token}{path}")
    return context, page


async def _online(page: Page) -> None:
    await expect(page.locator("#conn")).to_have_text("Trực tuyến", timeout=timeout(10) * MS)


def _point(server: Any, eid: str, code: str) -> Any:
    return server.app[STORE_KEY].events[eid].state.points[code]


async def _send_count(page: Page, value: str) -> None:
    await page.fill("#count", value)
    await page.click("#count-send")


async def test_checkin_count_and_incident(server: Any, browser: Any, artifacts: Path) -> None:
    eid, points = await _event(server)
    context, page = await _open(browser, server, points["D0-C0"]["token"])
    await _online(page)
    await expect(page.locator("#name")).to_have_text("Xã 0-0")
    await expect(page.locator("#where")).to_have_text("Xã, phường, đặc khu · Huyện Số 0")
    await expect(page.locator("#count-send")).to_have_text("Điểm danh")
    # 360 px: nothing wider than the screen; every control a 44 px target with a name.
    layout = await page.evaluate("""() => {
        const shown = [...document.querySelectorAll('#app button, #app input:not([type=radio]), #app textarea, #app a, .kind')]
            .filter((el) => el.getClientRects().length);
        const named = (el) => (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.textContent.trim();
        return {
            width: document.documentElement.scrollWidth,
            small: shown.filter((el) => el.getBoundingClientRect().height < 44).map((el) => el.outerHTML.slice(0, 80)),
            unnamed: shown.filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 80)),
        };
    }""")
    assert layout == {"width": 360, "small": [], "unnamed": []}

    await _send_count(page, "42")
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 42 người")
    await expect(page.locator("#pending")).to_be_hidden()
    totals = await server.api.totals(eid)
    assert (totals["checked_in"], totals["attendees"]) == (1, 42)

    # The big buttons, then the update.
    await expect(page.locator("#count-send")).to_have_text("Cập nhật số người")
    await page.click("#plus")
    await page.click("#plus")
    await page.click("#plus")
    await page.click("#minus")
    await expect(page.locator("#count")).to_have_value("44")
    await page.click("#count-send")
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 44 người")
    assert (await server.api.totals(eid))["attendees"] == 44

    # Refused in the page, before anything is sent.
    for bad in ("-5", "abc", "4.5", ""):
        await _send_count(page, bad)
        await expect(page.locator("#count-error")).to_contain_text("số nguyên")
    assert await page.evaluate("JSON.parse(localStorage.getItem(`launchday.outbox.${location.pathname.slice(3)}`))") == []

    # Far above the expected 50: asks first; dismissed, nothing goes out.
    asked: list[str] = []

    async def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.dismiss()

    page.once("dialog", dismiss)
    await _send_count(page, "500")
    await wait_until(lambda: asked, what="the confirmation")
    assert "nhiều hơn hẳn số dự kiến" in asked[0]
    assert _point(server, eid, "D0-C0").attendees == 44

    async def accept(dialog: Any) -> None:
        await dialog.accept()

    page.once("dialog", accept)
    await _send_count(page, "500")
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 500 người")
    await _send_count(page, "47")
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 47 người")
    assert (await server.api.totals(eid))["attendees"] == 47

    # An incident, then resolved.
    await page.get_by_text("Mất tiếng", exact=True).click()
    await page.get_by_label("Ghi chú (không bắt buộc)").fill("Loa hội trường bị hỏng")
    await page.get_by_role("button", name="Gửi báo sự cố").click()
    item = page.locator("#incidents li", has_text="Mất tiếng · Loa hội trường bị hỏng")
    await expect(item.get_by_role("button", name="Đã khắc phục")).to_be_visible()
    assert (await server.api.totals(eid))["incidents_open"] == 1
    opened = await server.api.call("GET", f"/api/events/{eid}/incidents?open=1", 200)
    assert [(i["point"], i["kind"], i["note"]) for i in opened] == [("D0-C0", "audio", "Loa hội trường bị hỏng")]
    await page.screenshot(path=str(artifacts / "point-360-incident.png"), full_page=True)
    await item.get_by_role("button", name="Đã khắc phục").click()
    await expect(page.locator("#incidents")).to_have_text("Không có sự cố nào đang mở.")
    assert (await server.api.totals(eid))["incidents_open"] == 0

    # A notice from the organizers reaches the page.
    await server.api.call("POST", f"/api/events/{eid}/notices", 201,
                          json={"text": "Các điểm cầu kiểm tra âm thanh lúc 7 giờ 45."})
    await expect(page.locator("#notices li").first).to_contain_text("kiểm tra âm thanh")

    # English on request, and back.
    await page.click("#lang")
    await expect(page.locator("#count-send")).to_have_text("Update the count")
    await expect(page.locator("#where")).to_have_text("Commune, ward, special zone · Huyện Số 0")
    await page.screenshot(path=str(artifacts / "point-360-en.png"), full_page=True)
    await page.click("#lang")
    await expect(page.locator("#count-send")).to_have_text("Cập nhật số người")
    await page.screenshot(path=str(artifacts / "point-360.png"), full_page=True)
    await context.close()


async def test_offline_outbox_supersedes_and_survives_reload(server: Any, browser: Any, artifacts: Path) -> None:
    eid, points = await _event(server)
    token = points["D1-C1"]["token"]
    context, page = await _open(browser, server, token)
    await _online(page)
    await _send_count(page, "10")
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 10 người")
    # The page keeps itself for a reload without network (service worker + cache).
    await page.wait_for_function("window.__launchdayOfflineReady === true")

    await context.set_offline(True)
    await expect(page.locator("#conn")).to_have_text("Không có mạng")
    await _send_count(page, "20")
    await expect(page.locator("#pending")).to_have_text("Đang chờ gửi: 1")
    await _send_count(page, "30")
    # The later count replaced the unsent one: still one waiting.
    await expect(page.locator("#pending")).to_have_text("Đang chờ gửi: 1")
    await expect(page.locator("#count-status")).to_have_text("Đã ghi nhận 30 người, đang chờ gửi")
    outbox = json.loads(await page.evaluate(f"localStorage.getItem('launchday.outbox.{token}')"))
    assert [e["frame"]["type"] for e in outbox] == ["attendees"]
    assert outbox[0]["frame"]["count"] == 30 and 1 <= len(outbox[0]["id"]) <= 64
    final_id = outbox[0]["id"]
    assert _point(server, eid, "D1-C1").attendees == 10

    # Reload without network: the page comes back with its outbox.
    await page.reload()
    await expect(page.locator("#pending")).to_have_text("Đang chờ gửi: 1")
    await expect(page.locator("#conn")).to_have_text("Không có mạng")
    await expect(page.locator("#name")).to_have_text("Xã 1-1")
    await expect(page.locator("#count-status")).to_have_text("Đã ghi nhận 30 người, đang chờ gửi")
    await page.screenshot(path=str(artifacts / "point-360-offline.png"), full_page=True)
    assert _point(server, eid, "D1-C1").attendees == 10

    await context.set_offline(False)
    await expect(page.locator("#pending")).to_be_hidden(timeout=timeout(15) * MS)
    await expect(page.locator("#count-status")).to_have_text("Đã điểm danh: 30 người")
    point = _point(server, eid, "D1-C1")
    assert point.attendees == 30
    # The check-in and the final count, each once; the superseded 20 never went out.
    assert final_id in point.applied and len(point.applied) == 2
    facts = [fact async for fact in _facts(server, eid) if getattr(fact, "code", None) == "D1-C1"]
    counted = [fact for fact in facts if fact.type == "point.attendees"]
    assert [(c.msg_id, c.count) for c in counted] == [(final_id, 30)]
    await context.close()


async def _facts(server: Any, eid: str) -> Any:
    journal = server.app[STORE_KEY].journal
    for _seq, fact in await journal.read(eid, 0):
        yield fact


async def test_wrong_or_rotated_link(server: Any, browser: Any, artifacts: Path) -> None:
    eid, points = await _event(server)
    context, page = await _open(browser, server, "not-a-token-at-all")
    await expect(page.get_by_role("heading", name="Liên kết không còn hiệu lực")).to_be_visible()
    await page.screenshot(path=str(artifacts / "point-360-invalid.png"), full_page=True)

    # A link rotated while the page is open: closed with 4403, no reconnecting.
    await page.goto(f"{server.base}/p/{points['D0']['token']}")
    await _online(page)
    await server.api.call("POST", f"/api/events/{eid}/points/D0/token", 200)
    await expect(page.get_by_role("heading", name="Liên kết không còn hiệu lực")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()

    # Rotated while the device was offline: the reconnect is refused (401
    # before the upgrade), the page checks its link and stops.
    await page.goto(f"{server.base}/p/{points['D1']['token']}")
    await _online(page)
    await context.set_offline(True)
    await expect(page.locator("#conn")).to_have_text("Không có mạng")
    await server.api.call("POST", f"/api/events/{eid}/points/D1/token", 200)
    await context.set_offline(False)
    await expect(page.get_by_role("heading", name="Liên kết không còn hiệu lực")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    await context.close()


async def test_first_load_weight(server: Any, browser: Any) -> None:
    _eid, points = await _event(server)
    context = await browser.new_context(viewport=PHONE)
    page = await context.new_page()
    finished: list[Any] = []
    context.on("requestfinished", lambda request: finished.append(request))
    await page.goto(f"{server.base}/p/{points['D0-C1']['token']}")
    await _online(page)
    await page.wait_for_function("window.__launchdayOfflineReady === true")
    sizes = [(r.url, await r.sizes()) for r in finished]
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for _, s in sizes)
    # The browser's own view of it (bytes on the wire, headers included).
    timing = await page.evaluate("""() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'))
        .reduce((n, e) => n + (e.transferSize || 0), 0)""")
    print(f"\nfirst load: {total} bytes over {len(sizes)} responses (resource timing: {timing} bytes)")
    for url, s in sizes:
        print(f"  {s['responseBodySize'] + s['responseHeadersSize']:>6}  {url.replace(server.base, '')}")
    assert not [u for u, _ in sizes if not u.startswith(server.base)], "no external resource"
    assert total <= BUDGET and timing <= BUDGET
    await context.close()


async def test_point_fires_and_reports(server: Any, browser: Any, artifacts: Path) -> None:
    eid, points = await _event(server)
    context, page = await _open(browser, server, points["D0-C0-V0"]["token"])
    await _online(page)
    await page.wait_for_function("window.__launchday.samples >= 5")
    display = await context.new_page()
    await display.set_viewport_size({"width": 1280, "height": 720})
    await display.goto(f"{server.base}/p/{points['D0-C0-V0']['token']}?display=1")
    await display.wait_for_function("window.__launchday.samples >= 5")

    await server.api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 3000})
    await expect(page.locator("#launch-state")).to_have_text("Sẵn sàng phát động")
    launch = await server.api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Trưởng ban"})
    await expect(page.locator("#launch-state")).to_have_text("Đếm ngược phát động")
    await page.screenshot(path=str(artifacts / "point-360-countdown.png"), full_page=False)
    await display.screenshot(path=str(artifacts / "point-display-countdown.png"))
    for p in (page, display):
        await p.wait_for_function("window.__launchday.state === 'fired'", timeout=timeout(10) * MS)
    await expect(page.locator("#burst")).to_be_visible()
    await expect(page.locator("#burst")).to_contain_text("PHÁT ĐỘNG")
    for p in (page, display):
        await p.wait_for_function("document.getAnimations().every(a => a.playState === 'finished')")
    await page.screenshot(path=str(artifacts / "point-360-fired.png"))
    await display.screenshot(path=str(artifacts / "point-display-fired.png"))
    fired = await page.evaluate("window.__launchday")
    assert fired["fired_by"] == "timer"
    assert abs(fired["fired_at_server_ms"] - launch["fire_at_ms"]) < 50

    async def reported() -> Any:
        stats = (await server.api.call("GET", f"/api/events/{eid}/launch", 200))["fired_stats"]
        return stats["count"] == 1 and stats
    stats = await wait_until(reported, what="the launch.fired report")
    assert stats["worst_bound_ms"] < 50
    await page.click("#burst-close")
    await expect(page.locator("#burst")).to_be_hidden()
    await expect(page.locator("#launch-state")).to_contain_text("Đã phát động")
    await context.close()
