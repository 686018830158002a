"""The whole preparation and morning, played as an organizer would, using
only the console and the pages it hands out (the test makes no REST call):

log in; create the event; import a sheet with bad rows and read the errors;
import the whole registry (the demo's two-tier Thanh Hóa of today: 1,000
points, province then communes, grouped by commune); enter the 7-item programme (pasted from a
spreadsheet, one item reordered, one location found by a search without
diacritics); issue an operator's log-in link and log a tablet in with it;
add two key holders; open the link sheet; check points in from phone-sized
pages, watching their lights turn green on the console's map; run the programme from the operator's tablet; arm a rehearsal; press
from the two key holders' own pages in two browser contexts; see every open
screen fire (and its point flash on the map); move the report deadline a few seconds ahead and take the
automatic report.

With LAUNCHDAY_DOC_SHOTS=1 the screenshots also go to docs/screenshots/ (the
README's pictures); otherwise only to artifacts/.

A second, shorter test covers what the morning does not: the event list as
the front page, editing an event, the programme locked while it runs,
revoking a key holder and an organizer token.
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, BrowserContext, Page, expect

from server.core.facts import LEVELS
from server.demo.data import NGHI_SON_2026, PROVINCE_2026, thanh_hoa_2026, to_csv_rows
from tests.utils import ADMIN, timeout

MS = 1000
PHONE = {"width": 360, "height": 760}
DESK = {"width": 1440, "height": 1000}
TZ = "Asia/Ho_Chi_Minh"
ROOT = Path(__file__).resolve().parents[2]
DOC_SHOTS = ROOT / "docs" / "screenshots"

# Today's two-tier registry (the demo's): the province hall, its departments,
# 166 communes and wards, and what stands under them; 1,000 points.
REGISTRY = thanh_hoa_2026()
BY_CODE = {str(r["code"]): r for r in REGISTRY}
TRIEU_SON = "15664"  # Xã Triệu Sơn
HAI_BINH = "16645"  # Phường Hải Bình
VILLAGE = f"{TRIEU_SON}-T1"  # a village of Xã Triệu Sơn


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _row(code: str, **over: str) -> list[str]:
    [row] = to_csv_rows([{**BY_CODE[code], **over}])[1:]
    return row


HEADER = to_csv_rows([])[0]
# Rows 4, 6 and 7 (the header is row 1) are wrong: no name, a level that does not exist, a count in words.
BAD_SHEET = _csv([HEADER, _row(PROVINCE_2026), _row("S-KHCN"), _row(NGHI_SON_2026, name=""), _row(TRIEU_SON),
                  _row(HAI_BINH, level="phuong"), _row(VILLAGE, expected="năm mươi"), _row(f"{TRIEU_SON}-TR1")])
GOOD_SHEET = _csv(to_csv_rows(REGISTRY))
N = len(REGISTRY)

# The province's programme as copied from a spreadsheet (tab-separated), with
# items 2 and 3 in the wrong order (fixed in the editor), and the Nghi Sơn
# response speech's location given by a name typed without diacritics.
PROGRAMME = [
    ("Lý do, giới thiệu đại biểu", "Lãnh đạo Văn phòng Tỉnh ủy", PROVINCE_2026, "5"),
    ("Phát biểu phát động phong trào", "Chủ tịch Ủy ban nhân dân tỉnh", PROVINCE_2026, "15"),
    ("Trình bày Kế hoạch của tỉnh triển khai phong trào", "Lãnh đạo Sở Khoa học và Công nghệ", PROVINCE_2026,
     "10"),
    ("Phát biểu hưởng ứng tại điểm cầu phường Nghi Sơn", "Lãnh đạo phường Nghi Sơn", "phuong nghi son", "10"),
    ("Các đồng chí lãnh đạo bấm nút phát động phong trào", "Lãnh đạo tỉnh", PROVINCE_2026, "3"),
    ("Trình bày đề cương tuyên truyền", "Lãnh đạo Ban Tuyên giáo và Dân vận Tỉnh ủy", PROVINCE_2026, "15"),
]
SEVENTH = ("Chuyên đề về trí tuệ nhân tạo (AI)", "Báo cáo viên chuyên đề", "30")
FINAL_TITLES = [PROGRAMME[0][0], PROGRAMME[2][0], PROGRAMME[1][0], *(p[0] for p in PROGRAMME[3:]), SEVENTH[0]]
KEY_HOLDERS = ("Chủ tịch UBND tỉnh", "Bí thư Tỉnh ủy")
LEVEL_CHOICES = ", ".join(LEVELS)  # the level codes, as a sheet must spell them


class Shots:
    def __init__(self, artifacts: Path) -> None:
        self.dirs = [artifacts]
        if os.environ.get("LAUNCHDAY_DOC_SHOTS") == "1":
            DOC_SHOTS.mkdir(parents=True, exist_ok=True)
            self.dirs.append(DOC_SHOTS)

    async def take(self, page: Page, name: str, jpeg: bool = False) -> None:
        """PNG for screens of text; JPEG for a full-screen gradient (a fifth of the bytes)."""
        await page.evaluate("document.getElementById('toasts')?.remove()")  # passing messages hide the screen
        for d in self.dirs:
            if jpeg:
                await page.screenshot(path=str(d / f"{name}.jpg"), type="jpeg", quality=75)
            else:
                await page.screenshot(path=str(d / f"{name}.png"))


async def new_page(browser: Browser, viewport: dict[str, int]) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=viewport, locale="vi-VN", timezone_id=TZ, accept_downloads=True)
    context.set_default_timeout(timeout(15) * MS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return context, page


def local_input(moment: datetime, seconds: bool = False) -> str:
    """A datetime-local field's value, in the event's time zone."""
    return moment.astimezone(ZoneInfo(TZ)).strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M")


async def import_sheet(page: Page, text: str) -> list[list[str]]:
    await page.set_input_files("#import-file", files=[
        {"name": "diem-cau.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    await page.wait_for_selector("#info-dialog[open] #import-result")
    rows: list[list[str]] = await page.eval_on_selector_all(
        "#import-result tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))")
    return rows


async def fired(page: Page) -> dict[str, Any]:
    await page.wait_for_function("window.__launchday && window.__launchday.fired_at_server_ms !== null",
                                 timeout=timeout(20) * MS)
    diag: dict[str, Any] = await page.evaluate("window.__launchday")
    return diag


async def test_the_whole_morning_from_the_console(browser, server, artifacts) -> None:
    shots = Shots(artifacts)
    base = server.base
    pages: list[Page] = []
    contexts: list[BrowserContext] = []

    async def open_page(viewport: dict[str, int], url: str | None = None) -> Page:
        context, page = await new_page(browser, viewport)
        contexts.append(context)
        pages.append(page)
        if url:
            await page.goto(url)
        return page

    try:
        # -- the days before: the admin prepares ------------------------------------------
        admin = await open_page(DESK, f"{base}/console/")
        await admin.fill("#login-token", ADMIN)
        await admin.click("#login-form button[type=submit]")
        await expect(admin.locator("#view-events")).to_be_visible()  # no event yet: the event list
        await expect(admin.locator("#events-empty")).to_be_visible()
        start = datetime.now(UTC) + timedelta(hours=2)
        await admin.fill("#event-create input[name=name]", "Lễ phát động phong trào “Bình dân học vụ số”")
        await admin.fill("#event-create input[name=starts_at]", local_input(start))
        await admin.fill("#event-create input[name=report_deadline]", local_input(start - timedelta(minutes=30)))
        await admin.click("#event-create button[type=submit]")
        await expect(admin.locator("#view-points")).to_be_visible()
        await expect(admin.locator("#event-name")).to_have_text("Lễ phát động phong trào “Bình dân học vụ số”")
        await admin.wait_for_function("document.querySelector('#conn').dataset.state === 'live'")

        # A sheet with three bad rows: the good rows go in, each bad one is named by row and column.
        errors = await import_sheet(admin, BAD_SHEET)
        assert "Thêm mới 4, cập nhật 0, lỗi 3" in (await admin.text_content("#import-result") or "")
        assert [(r[0], r[1]) for r in errors] == [("4", "Tên điểm cầu"), ("6", "Cấp"), ("7", "Dự kiến")], errors
        # Every reason in Vietnamese (English on the toggle).
        assert [r[2] for r in errors] == [
            "Thiếu tên (bắt buộc)",
            "Cấp “phuong” không hợp lệ; dùng một trong: " + LEVEL_CHOICES,
            "Số người dự kiến phải là số nguyên từ 0 đến 1.000.000, không phải “năm mươi”"], errors
        await shots.take(admin, "console-import-errors")
        await admin.click("#info-dialog button[value=ok]")
        errors = await import_sheet(admin, GOOD_SHEET)
        assert errors == []
        assert f"Thêm mới {N - 4}, cập nhật 0, lỗi 0" in (await admin.text_content("#import-result") or "")
        await admin.click("#info-dialog button[value=ok]")
        await expect(admin.locator("#points-count")).to_contain_text("1.000 / 1.000")
        # Grouped by commune (the default for a two-tier registry): the filter, the sort and the notices follow.
        await expect(admin.locator("#f-district option[value='15664']")).to_have_text("Xã Triệu Sơn")
        await expect(admin.locator("#f-sort option[value=group]")).to_have_text("Xếp theo Xã, phường, đặc khu")

        # The programme: paste, fix the order, add the seventh item with a searched location.
        await admin.click("nav a[data-view=programme]")
        paste = "Nội dung\tNgười thực hiện\tĐịa điểm\tPhút\n" + "\n".join("\t".join(r) for r in PROGRAMME)
        await admin.fill("#prog-paste", paste)
        await admin.click("#prog-paste-apply")
        rows = admin.locator("#prog-table tbody tr")
        await expect(rows).to_have_count(6)
        await expect(rows.nth(3).locator(".loc-code")).to_have_text(NGHI_SON_2026)
        await rows.nth(2).locator("button[data-action=up]").click()
        await admin.click("#prog-add")
        seventh = rows.nth(6)
        await seventh.locator("input[name=title]").fill(SEVENTH[0])
        await seventh.locator("input[name=speaker]").fill(SEVENTH[1])
        await seventh.locator("input[name=minutes]").fill(SEVENTH[2])
        await seventh.locator("input[name=loc]").fill("hoi truong tinh uy")
        await seventh.locator(f"li[data-code='{PROVINCE_2026}']").click()
        await expect(seventh.locator(".loc-code")).to_have_text(PROVINCE_2026)
        await admin.click("#prog-save")
        await expect(admin.locator("#prog-total")).to_have_text("Tổng thời lượng dự kiến: 1:28:00")
        await shots.take(admin, "console-programme")
        await admin.click("nav a[data-view=control]")
        titles = admin.locator("#agenda-items li .title")
        await expect(titles).to_have_text(FINAL_TITLES)

        # People: an operator's tablet, two key holders.
        await admin.click("nav a[data-view=people]")
        await admin.fill("#org-name", "Chị Lan — bàn điều hành")
        await admin.select_option("#org-role", "operator")
        await admin.click("#org-form button[type=submit]")
        await expect(admin.locator("#secret-dialog[open] #secret-qr svg")).to_be_visible()
        login_link = await admin.get_attribute("#secret-link", "href") or ""
        assert re.fullmatch(re.escape(base) + r"/console/#token=[\w-]+", login_link), login_link
        await admin.click("#secret-dialog button[value=ok]")
        await expect(admin.locator("#org-table tbody tr", has_text="Chị Lan")).to_contain_text("chưa dùng")

        holder_links: dict[str, str] = {}
        for name in KEY_HOLDERS:
            await admin.fill("#kh-name", name)
            await admin.click("#kh-form button[type=submit]")
            await expect(admin.locator("#secret-dialog[open] #secret-qr svg")).to_be_visible()
            await expect(admin.locator("#secret-title")).to_have_text(f"Liên kết bấm nút của {name}")
            holder_links[name] = await admin.get_attribute("#secret-link", "href") or ""
            assert holder_links[name].startswith(f"{base}/k/")
            await admin.click("#secret-dialog button[value=ok]")
        await expect(admin.locator("#kh-table tbody tr")).to_have_count(2)
        await shots.take(admin, "console-people")

        # The tablet logs in with the link (as from the QR code) and lands on the dashboard.
        operator = await open_page(DESK, login_link)
        await expect(operator.locator("#who")).to_have_text("Chị Lan — bàn điều hành (điều hành)")
        assert "token" not in operator.url
        await operator.wait_for_function("document.querySelector('#conn').dataset.state === 'live'")
        await admin.click("nav a[data-view=events]")
        await admin.click("nav a[data-view=people]")
        await expect(admin.locator("#org-table tbody tr", has_text="Chị Lan")).not_to_contain_text("chưa dùng")

        # The link sheet: every point's link, read from the printed page.
        await admin.click("nav a[data-view=points]")
        async with admin.context.expect_page() as popup:
            await admin.click("#links-html")
        sheet = await popup.value
        pages.append(sheet)
        await sheet.wait_for_load_state()
        links: dict[str, str] = dict(await sheet.eval_on_selector_all(
            "article[data-code]", "cards => cards.map(c => [c.dataset.code, c.querySelector('.url').textContent.trim()])"))
        assert len(links) == N and all(u.startswith(f"{base}/p/") for u in links.values()), len(links)

        # The map: a light per point, grouped by commune, all grey before anyone connects.
        await admin.click("nav a[data-view=map]")
        await expect(admin.locator("#view-map")).to_have_attribute("data-mode", "cells")
        await expect(admin.locator("#map-board i[data-code]")).to_have_count(N)
        await expect(admin.locator("#map-board .map-block[data-group='15664'] i[data-code]")).to_have_count(
            1 + sum(1 for r in REGISTRY if r["parent"] == TRIEU_SON))
        assert await admin.locator("#map-board i.m-off").count() == N
        await expect(admin.locator("#map-legend")).to_contain_text("Chưa kết nối")
        await admin.click(".lang-toggle >> nth=1")  # English on the toggle
        await expect(admin.locator("#map-legend")).to_contain_text("Checked in")
        await admin.click(".lang-toggle >> nth=1")
        await expect(admin.locator("#map-legend")).to_contain_text("Đã điểm danh")
        # Every cell that ever flashes is noted (the flash lasts about a second).
        await admin.evaluate("""() => {
          window.__flashed = new Set();
          new MutationObserver((records) => {
            for (const r of records) if (r.target.classList.contains('flash')) window.__flashed.add(r.target.dataset.code);
          }).observe(document.querySelector('#map-board'), {subtree: true, attributes: true, attributeFilter: ['class']});
        }""")

        # -- the morning: site leads check in from their phones ----------------------------
        counts = {PROVINCE_2026: "280", NGHI_SON_2026: "142", VILLAGE: "47"}
        phones: dict[str, Page] = {}
        for code, count in counts.items():
            phone = await open_page(PHONE, links[code])
            await expect(phone.locator("#conn")).to_have_text("Trực tuyến")
            await phone.fill("#count", count)
            await phone.click("#count-send")
            await expect(phone.locator("#count-status")).to_have_text(f"Đã điểm danh: {count} người")
            phones[code] = phone
            # Its light on the admin's map turns green (from the delta stream).
            await expect(admin.locator(f"#map-board i[data-code='{code}']")).to_have_class(re.compile(r"\bm-in\b"))
        assert await admin.locator("#map-board i.m-in").count() == 3
        await shots.take(phones[NGHI_SON_2026], "point-page-360")
        await operator.click("nav a[data-view=dashboard]")
        await expect(operator.locator("#fig-checked [data-k=checked_in]")).to_have_text("3")
        await expect(operator.locator("#fig-attendees [data-k=attendees]")).to_have_text("469")
        await expect(operator.locator("#levels")).to_contain_text("469")  # the tables follow the figures
        await shots.take(operator, "console-dashboard")

        # The projector at Nghi Sơn and the hall's screen.
        projector = await open_page({"width": 1280, "height": 720}, links[NGHI_SON_2026] + "?display=1")
        hall = await open_page({"width": 1280, "height": 720}, f"{base}/hall")
        await expect(hall.locator(".d-event")).to_have_text("Lễ phát động phong trào “Bình dân học vụ số”")

        # The operator runs the programme.
        await operator.click("nav a[data-view=control]")
        await operator.click("[data-agenda=start]")
        await expect(operator.locator("#agenda-current")).to_have_text(FINAL_TITLES[0])
        for title in FINAL_TITLES[1:5]:
            await operator.click("[data-agenda=next]")
            await expect(operator.locator("#agenda-current")).to_have_text(title)
        await expect(hall.locator(".d-title")).to_have_text(FINAL_TITLES[4])
        await shots.take(hall, "hall-agenda")

        # The key holders open their own pages on their phones.
        holders = {name: await open_page(PHONE, link) for name, link in holder_links.items()}
        for name, page in holders.items():
            await expect(page.locator("#kh-name")).to_have_text(f"Người bấm nút: {name}")
            await expect(page.locator("#kh-press")).to_be_disabled()
            await expect(page.locator("#kh-conn")).to_have_text("Đã kết nối")

        # A rehearsal with both keys.
        await operator.fill("#arm-countdown", "5")
        await operator.fill("#arm-keys", "2")
        await expect(operator.locator("#arm-rehearsal")).to_be_checked()
        await operator.click("#arm")
        await expect(operator.locator("#view-control")).to_have_attribute("data-launch", "armed")
        first, second = (holders[n] for n in KEY_HOLDERS)
        await expect(first.locator("#kh-press")).to_be_enabled()
        await first.click("#kh-press")
        await expect(first.locator("#kh-state")).to_have_text("Đã bấm — chờ người bấm khác (diễn tập)")
        await expect(first.locator("#kh-press")).to_be_disabled()
        await expect(operator.locator("#launch-keys")).to_contain_text(KEY_HOLDERS[0])
        await shots.take(second, "keyholder-page-360")
        await second.click("#kh-press")
        await expect(operator.locator("#view-control")).to_have_attribute("data-launch", re.compile("countdown|fired"))
        await shots.take(operator, "console-control-room")

        # Every open screen fires: phones, the projector, the hall, the key holders' pages.
        screens = [*phones.values(), projector, hall, *holders.values()]
        reports = [await fired(p) for p in screens]
        assert all(r["state"] == "fired" for r in reports), reports
        for page in holders.values():
            await expect(page.locator("body")).to_have_attribute("data-state", "fired")
        await expect(hall.locator(".burst")).to_be_visible()
        await shots.take(hall, "hall-fired", jpeg=True)
        await expect(operator.locator("#view-control")).to_have_attribute("data-launch", "fired")
        # Three points reported firing (the projector is the Nghi Sơn point again); 997 never opened.
        await expect(operator.locator("#launch-fired dd").first).to_have_text("3 / 1.000", timeout=timeout(20) * MS)
        await expect(operator.locator("#launch-fired dd").nth(1)).to_have_text("997")
        # On the map each of the three flashed as its report arrived, and stays marked as fired.
        for code in counts:
            await expect(admin.locator(f"#map-board i[data-code='{code}']")).to_have_class(re.compile(r"\bfired\b"))
        assert sorted(await admin.evaluate("[...window.__flashed]")) == sorted(counts)
        assert await admin.locator("#map-board i.fired").count() == 3
        await expect(admin.locator("#map-legend")).to_contain_text("Đã phát động 3")

        # -- the report at its deadline: moved to a few seconds from now ---------------------
        await admin.click("nav a[data-view=events]")
        await admin.click("#events-table button[data-action=edit]")
        deadline = datetime.now(UTC) + timedelta(seconds=6)
        await admin.fill("#event-edit input[name=report_deadline]", local_input(deadline, seconds=True))
        await admin.click("#event-edit button[value=save]")
        await expect(admin.locator("#event-dialog")).not_to_have_attribute("open", "")
        await admin.click("nav a[data-view=reports]")
        label = f"báo cáo lúc {deadline.astimezone(ZoneInfo(TZ)).strftime('%H:%M')}"
        row = admin.locator("#snapshots tbody tr", has_text=label)
        await expect(row).to_be_visible(timeout=timeout(30) * MS)
        await expect(row).to_contain_text("3 / 1.000")
        await expect(admin.locator("#rep-auto")).to_contain_text("Đã tự động chốt")
        await admin.click("nav a[data-view=audit]")
        audit = admin.locator("#audit tbody")
        for summary in ("Sửa sự kiện: hạn chốt báo cáo", f"Thêm người bấm nút “{KEY_HOLDERS[1]}”",
                        f"Bấm nút: {KEY_HOLDERS[1]}", "Đặt chương trình (7 mục)"):
            await expect(audit).to_contain_text(summary)
        for page in pages:
            assert getattr(page, "errors", []) == [], (page.url, page.errors)  # type: ignore[attr-defined]
    finally:
        for context in contexts:
            await context.close()


async def test_event_list_edit_locked_programme_and_revocations(browser, server, artifacts) -> None:
    context, page = await new_page(browser, DESK)
    try:
        await page.goto(f"{server.base}/console/")
        await page.fill("#login-token", ADMIN)
        await page.click("#login-form button[type=submit]")
        start = datetime.now(UTC) + timedelta(days=1)
        for name in ("Diễn tập tổng thể", "Lễ phát động"):
            await page.click("nav a[data-view=events]")
            await page.fill("#event-create input[name=name]", name)
            await page.fill("#event-create input[name=starts_at]", local_input(start))
            await page.fill("#event-create input[name=report_deadline]", local_input(start - timedelta(minutes=30)))
            await page.click("#event-create button[type=submit]")
            await expect(page.locator("#event-name")).to_have_text(name)
        # Two events: the list is the front page.
        await page.goto(f"{server.base}/console/")
        await expect(page.locator("#view-events")).to_be_visible()
        await expect(page.locator("#events-table tbody tr")).to_have_count(2)
        first = page.locator("#events-table tbody tr", has_text="Diễn tập tổng thể")
        await first.locator("button[data-action=edit]").click()
        await page.fill("#event-edit input[name=name]", "Diễn tập tổng thể (lần 2)")
        await page.fill("#event-edit input[name=starts_at]", "2030-05-08T08:00")
        await page.click("#event-edit button[value=save]")
        await expect(first).to_contain_text("Diễn tập tổng thể (lần 2)")
        await expect(first).to_contain_text("08:00 08/05/2030")
        await shots_of(page, artifacts, "console-events")
        await first.locator("a[data-action=open]").click()
        await expect(page.locator("#event-name")).to_have_text("Diễn tập tổng thể (lần 2)")
        await page.wait_for_function("document.querySelector('#conn').dataset.state === 'live'")

        # A refused edit says why and changes nothing.
        await page.click("nav a[data-view=events]")
        await page.locator("#events-table tbody tr.current button[data-action=edit]").click()
        await page.fill("#event-edit input[name=timezone]", "Sao Hỏa/Olympus")
        await page.click("#event-edit button[value=save]")
        await expect(page.locator("#event-edit-error")).to_contain_text("Múi giờ")
        await page.click("#event-edit button[value=cancel]")

        # A pasted table with mistakes is refused row by row, and nothing is taken.
        await page.click("nav a[data-view=programme]")
        await page.fill("#prog-paste", "Khai mạc\tMC\t\tnăm\n\tMC\t\t5\nPhát biểu\tChủ tịch\tSao Hỏa\t10")
        await page.click("#prog-paste-apply")
        await expect(page.locator("#prog-paste-errors li")).to_have_text([
            "Dòng 1: số phút “năm” không hợp lệ.", "Dòng 2: thiếu nội dung.",
            "Dòng 3: không tìm thấy điểm cầu “Sao Hỏa”."])
        await expect(page.locator("#prog-table tbody tr")).to_have_count(0)

        # The programme is locked while it runs.
        await page.click("#prog-add")
        await page.locator("#prog-table tbody tr input[name=title]").fill("Khai mạc")
        await page.click("#prog-save")
        await expect(page.locator("#prog-total")).to_have_text("Tổng thời lượng dự kiến: 5:00")
        await page.click("nav a[data-view=control]")
        await page.click("[data-agenda=start]")
        await expect(page.locator("#agenda-current")).to_have_text("Khai mạc")
        await page.click("nav a[data-view=programme]")
        await expect(page.locator("#prog-locked")).to_be_visible()
        await expect(page.locator("#prog-save")).to_be_disabled()
        await expect(page.locator("#prog-table input[name=title]")).to_be_disabled()

        # Revocations, one click each.
        await page.click("nav a[data-view=people]")
        await page.fill("#kh-name", "Chủ tịch UBND tỉnh")
        await page.click("#kh-form button[type=submit]")
        await expect(page.locator("#secret-dialog[open] #secret-link")).to_have_attribute("href", re.compile("/k/"))
        link = await page.get_attribute("#secret-link", "href") or ""
        await page.click("#secret-dialog button[value=ok]")
        phone_context, holder = await new_page(browser, PHONE)
        await holder.goto(link)
        await expect(holder.locator("#kh-name")).to_have_text("Người bấm nút: Chủ tịch UBND tỉnh")
        await expect(holder.locator("#kh-state")).to_have_text("Chưa đến lúc bấm nút")
        assert await holder.evaluate("document.documentElement.scrollWidth") == 360
        await holder.click("#kh-lang")  # English on the toggle
        await expect(holder.locator("#kh-name")).to_have_text("Key holder: Chủ tịch UBND tỉnh")
        await expect(holder.locator("#kh-state")).to_have_text("Not yet time to press")
        await holder.click("#kh-lang")
        await page.locator("#kh-table tbody tr button[data-action=revoke]").click()
        await expect(page.locator("#kh-table tbody tr")).to_contain_text("Đã thu hồi")
        response = await holder.goto(link)
        assert response is not None and response.status == 404
        await expect(holder.locator("h1")).to_have_text("Liên kết không còn hiệu lực")

        await page.fill("#org-name", "Máy tính bảng 2")
        await page.click("#org-form button[type=submit]")
        await expect(page.locator("#secret-dialog[open] #secret-link")).to_have_attribute("href", re.compile("#token="))
        login = await page.get_attribute("#secret-link", "href") or ""
        await page.click("#secret-dialog button[value=ok]")
        await page.locator("#org-table tbody tr", has_text="Máy tính bảng 2").locator("button[data-action=revoke]").click()
        await expect(page.locator("#org-table tbody tr", has_text="Máy tính bảng 2")).to_contain_text("Đã thu hồi")
        await expect(page.locator("#org-audit li").first).to_contain_text("Thu hồi mã truy cập")
        tablet_context, tablet = await new_page(browser, DESK)
        try:
            await tablet.goto(login)
            await expect(tablet.locator("#login-error")).to_have_text(
                "Liên kết đăng nhập không đúng hoặc đã bị thu hồi.")
        finally:
            await tablet_context.close()
        assert page.errors == [] and holder.errors == []  # type: ignore[attr-defined]
        await phone_context.close()
    finally:
        await context.close()


async def shots_of(page: Page, artifacts: Path, name: str) -> None:
    await Shots(artifacts).take(page, name)
