"""The launch screen stays in front (checkin/web/screen.js, Launcher.setHidden):
a wake lock asked again when the page is shown, a full-screen button, a warning
in the title while a hidden page waits for the launch, a re-sync and re-aim
when it is shown again, and "fired" (with no firing reported) when the moment
passed while it was hidden.

How the page is hidden. Headless Chromium keeps every page visible: opening
another tab, minimising the window (Browser.setWindowBounds) or freezing the
page (Page.setWebLifecycleState "frozen", refused for a visible page) all
leave document.visibilityState "visible" (tried, Chromium 1xx headless). So
the test overrides document.visibilityState / document.hidden in an init
script and dispatches the real "visibilitychange" event, which drives the very
handlers a real tab switch drives; and it reproduces what hiding does to a
tab's timers (Chrome runs them once a second, or once a minute) by holding the
page's main thread across the moment, so the launch timer really wakes late.
The wake lock is the browser's own (navigator.wakeLock works headless); the
test releases it while hidden, as the browser does when a page is hidden.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.async_api import expect

from tests.utils import Api, timeout, tree_csv, wait_until

MS = 1000

VISIBILITY = """
(() => {
  let state = "visible";
  Object.defineProperty(Document.prototype, "visibilityState", { get() { return state; }, configurable: true });
  Object.defineProperty(Document.prototype, "hidden", { get() { return state === "hidden"; }, configurable: true });
  window.__setVisibility = (next) => { state = next; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""
HIDDEN_TITLE = "⚠ Màn hình phát động đang bị ẩn!"


async def _context(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN",
                                        timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(timeout(10) * MS)
    await context.add_init_script(VISIBILITY)
    return context


async def _synced(page: Any) -> None:
    await page.wait_for_function("window.__launchday.samples >= 5 && window.__launchday.wake_lock === 'active'")


async def _hold_main_thread_until(page: Any, wall_ms: float) -> None:
    """What a hidden tab's throttling does to its timers: none runs until then."""
    await page.evaluate("(until) => { while (Date.now() < until) {} }", wall_ms)


async def test_a_moment_passed_while_hidden_shows_fired_and_reports_nothing(server: Any, browser: Any) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    points = {p["code"]: p for p in await api.points(eid)}
    context = await _context(browser)
    hidden, shown = await context.new_page(), await context.new_page()
    await hidden.goto(f"{server.base}/p/{points['D0-C0']['token']}?display=1")
    await shown.goto(f"{server.base}/p/{points['D0-C1']['token']}?display=1")
    for page in (hidden, shown):
        await _synced(page)
    assert await hidden.evaluate("window.__launchday.wake_requests") == 1

    # Full screen, offered by a button. (Headless Chromium never settles
    # requestFullscreen(), so the test sees the request, not the result.)
    button = hidden.locator(".d-full")
    await expect(button).to_have_text("Toàn màn hình")
    await hidden.evaluate("""() => { window.__fullscreen = [];
      Element.prototype.requestFullscreen = function () { window.__fullscreen.push(this.tagName); return new Promise(() => {}); }; }""")
    await button.click()
    assert await hidden.evaluate("window.__fullscreen") == ["HTML"]

    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 4000, "rehearsal": True})
    launch = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Chủ tịch UBND tỉnh"})
    await hidden.wait_for_function("window.__launchday.state === 'countdown'")
    title = await hidden.title()

    # Hidden during the countdown: the title warns, the browser drops the wake lock.
    await hidden.evaluate("window.__setVisibility('hidden')")
    await hidden.evaluate("window.__launchdayWakeLock.sentinel.release()")
    assert await hidden.title() == HIDDEN_TITLE
    assert await hidden.evaluate("window.__launchday.wake_lock") == "released"
    # The moment passes while its timers do not run.
    await _hold_main_thread_until(hidden, launch["fire_at_ms"] + 1000)
    await hidden.wait_for_function("window.__launchday.state === 'fired'")
    assert await hidden.evaluate("window.__launchday.fired_by") == "missed"
    await shown.wait_for_function("window.__launchday.state === 'fired'")
    assert await shown.evaluate("window.__launchday.fired_by") == "timer"

    # Shown again: its title back, "fired" on screen with the banner saying why, the lock again, a fresh sync.
    samples = await hidden.evaluate("window.__launchday.samples")
    await hidden.evaluate("window.__setVisibility('visible')")
    assert await hidden.title() == title
    await expect(hidden.locator(".disp .burst")).to_be_visible()
    await expect(hidden.locator(".d-warn")).to_have_text("Đã phát động trong lúc màn hình này bị ẩn.")
    await hidden.wait_for_function("window.__launchday.wake_lock === 'active' && window.__launchday.wake_requests === 2")
    await hidden.wait_for_function(f"window.__launchday.samples > {samples}")

    # The visible screen reported its firing; the hidden one reported none.
    async def reported() -> Any:
        state = await api.call("GET", f"/api/events/{eid}/launch", 200)
        return state["fired_stats"]["count"] >= 1 and state
    state = await wait_until(reported, 10, "the visible screen's launch.fired")
    assert "D0-C1" not in state["fired_missing"] and "D0-C0" in state["fired_missing"]
    await context.close()


async def test_the_hall_hidden_before_the_moment_rearms_and_fires_on_time(server: Any, browser: Any) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    context = await _context(browser)
    page = await context.new_page()
    await page.goto(f"{server.base}/hall?event={eid}")
    await _synced(page)
    title = await page.title()
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 8000, "rehearsal": True})
    await page.wait_for_function("window.__launchday.state === 'armed'")

    # Hidden while armed: the warning is in the title at once.
    await page.evaluate("window.__setVisibility('hidden')")
    assert await page.title() == HIDDEN_TITLE
    launch = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Bí thư Tỉnh ủy"})
    # Throttled for a while (the launch timer's next re-aim is late), then shown before the moment.
    await _hold_main_thread_until(page, time.time() * MS + 2000)
    assert launch["fire_at_ms"] - time.time() * MS > 2000, "the test needs the moment still ahead"
    await page.evaluate("window.__setVisibility('visible')")
    assert await page.title() == title
    await expect(page.locator(".d-warn")).to_have_text(
        "Màn hình này đã bị ẩn trong lúc chờ phát động. Hãy giữ cửa sổ này luôn ở trên cùng.")
    await page.wait_for_function("window.__launchday.state === 'fired'", timeout=timeout(15) * MS)
    fired = await page.evaluate("window.__launchday")
    assert fired["fired_by"] == "timer"  # re-aimed and fired by its own timer, not "missed"
    assert fired["fired_at_server_ms"] >= launch["fire_at_ms"] - 1
    await expect(page.locator(".disp .burst")).to_be_visible()
    await expect(page.locator(".d-warn")).to_be_hidden()  # on time: nothing to warn about any more
    await context.close()
