"""The hall screen /hall?event=<eid>: agenda, countdown, and a launch that fires
at the server's fire_at_ms even when the screen's own clock is seconds wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from server.demo.data_2025 import NGHI_SON, SEED_AGENDA
from tests.utils import Api, timeout, tree_csv

MS = 1000
SKEW_MS = 7000
TOLERANCE_MS = 50

# The screen's clock runs 7 s ahead: Date.now() for anything that would use it,
# and launch.js's local clock through its documented test hook.
SKEW_SCRIPT = f"""
window.__launchdayClockSkewMs = {SKEW_MS};
(() => {{ const real = Date.now.bind(Date); Date.now = () => real() + {SKEW_MS}; }})();
"""


async def test_hall_fires_by_offset_not_by_own_clock(server: Any, browser: Any, artifacts: Path) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    # The seed's Nghi Sơn point is D0 here; the province hall is TH in both.
    items = [{**item, "location": "D0" if item["location"] == NGHI_SON else item["location"]} for item in SEED_AGENDA]
    await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": items})
    await api.call("POST", f"/api/events/{eid}/agenda/start", 200)
    await api.call("POST", f"/api/events/{eid}/agenda/next", 200)

    context = await browser.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN",
                                        timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(timeout(10) * MS)
    await context.add_init_script(SKEW_SCRIPT)
    page = await context.new_page()
    await page.goto(f"{server.base}/hall?event={eid}")
    await expect(page.locator(".d-event")).to_have_text("Lễ phát động phong trào")
    await expect(page.locator(".d-title")).to_have_text(str(SEED_AGENDA[1]["title"]))
    await expect(page.locator(".d-meta")).to_contain_text(str(SEED_AGENDA[1]["speaker"]))
    await expect(page.locator(".d-next-title")).to_have_text(str(SEED_AGENDA[2]["title"]))
    await page.wait_for_function("window.__launchday.samples >= 5")
    sync = await page.evaluate("window.__launchday")
    # The estimate undoes the skew (within its own bound, plus a little).
    assert abs(sync["offset_ms"] + SKEW_MS) <= sync["rtt_ms"] / 2 + 5, sync
    await expect(page.locator(".d-sync")).to_contain_text("±")
    await api.call("POST", f"/api/events/{eid}/notices", 201,
                    json={"text": "Đề nghị các đại biểu ổn định chỗ ngồi."})
    await expect(page.locator(".d-notice")).to_have_text("Đề nghị các đại biểu ổn định chỗ ngồi.")
    await page.screenshot(path=str(artifacts / "hall-agenda.png"))

    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 3000})
    await expect(page.locator(".d-count-label")).to_have_text("Sẵn sàng phát động")
    launch = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Chủ tịch UBND tỉnh"})
    fire_at = launch["fire_at_ms"]
    await expect(page.locator(".d-count-label")).to_have_text("Đếm ngược phát động")
    await expect(page.locator(".d-digits")).to_have_text(re.compile(r"^[0-3],\d$"))

    await page.wait_for_function("window.__launchday.state === 'fired'", timeout=timeout(10) * MS)
    fired = await page.evaluate("window.__launchday")
    error_ms = fired["fired_at_local_ms"] - SKEW_MS - fire_at
    print(f"\nhall fired {error_ms:+.2f} ms from fire_at_ms (by {fired['fired_by']}, "
          f"offset {fired['offset_ms']:.2f} ms, rtt {fired['rtt_ms']:.2f} ms, "
          f"woke {fired['woke_ms']} ms early, spun {fired['spun_ms']} ms)")
    assert fired["fired_by"] == "timer", fired
    assert abs(error_ms) <= TOLERANCE_MS, fired
    await expect(page.locator(".burst")).to_be_visible()
    await expect(page.locator(".burst")).to_contain_text("PHÁT ĐỘNG")
    await expect(page.locator(".burst-name")).to_have_text("Lễ phát động phong trào")
    await page.wait_for_function("document.getAnimations().every(a => a.playState === 'finished')")
    await page.screenshot(path=str(artifacts / "hall-fired.png"))

    # A screen opened after the moment shows it, without pretending to fire.
    late = await context.new_page()
    await late.goto(f"{server.base}/hall?event={eid}")
    await expect(late.locator(".burst")).to_be_visible()
    assert (await late.evaluate("window.__launchday"))["fired_by"] is None
    await context.close()
