"""The organizer console in chromium: live figures with 1,000 points, search
and filters, the control room, report downloads, a viewer's read-only view,
and the page's performance under 1,000 changes a second.

Points are raw aiohttp WebSocket clients in the test process. The two tests
with 1,000 points run the server as a subprocess, so the server's event loop
does not share a core with a thousand clients. Screenshots go to artifacts/.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, BrowserContext, Page, expect

from server.io.http.auth import STORE_KEY
from tests.utils import ADMIN, STRICT_TIMING, Api, ServerProcess, timeout, tree_csv, wait_until

VIEWPORT = {"width": 1440, "height": 1000}
LONGTASKS = """
window.__longtasks = [];
window.__longtaskSupported = PerformanceObserver.supportedEntryTypes.includes('longtask');
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__longtasks.push({start: e.startTime, duration: e.duration});
}).observe({type: 'longtask', buffered: true});
"""


def vi(n: int) -> str:
    """A whole number as the console shows it in Vietnamese (vi-VN): 52.110."""
    return f"{n:,}".replace(",", ".")


class Fleet:
    """Connection points as raw WebSocket clients: connect, send, count acks."""

    def __init__(self, ws_base: str, tokens: dict[str, str]) -> None:
        self.ws_base = ws_base
        self.tokens = tokens
        self.socks: dict[str, aiohttp.ClientWebSocketResponse] = {}
        self.pending: set[tuple[str, str]] = set()
        self.errors: list[dict[str, Any]] = []
        self.acked = 0
        self.last_ack = 0.0
        self.readers: list[asyncio.Task[None]] = []
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def connect(self) -> Fleet:
        gate = asyncio.Semaphore(100)

        async def one(code: str, token: str) -> None:
            async with gate:
                ws = await self.session.ws_connect(f"{self.ws_base}/ws/point?token={token}")
                assert (await ws.receive_json(timeout=timeout(10)))["type"] == "welcome"
            self.socks[code] = ws
            self.readers.append(asyncio.create_task(self._read(code, ws)))

        await asyncio.gather(*(one(c, t) for c, t in self.tokens.items()))
        return self

    async def _read(self, code: str, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["type"] == "ack":
                self.pending.discard((code, frame["id"]))
                self.acked += 1
                self.last_ack = time.monotonic()
            elif frame["type"] == "error":
                self.errors.append(frame)

    async def send(self, code: str, frame: dict[str, Any]) -> None:
        if "id" in frame:
            self.pending.add((code, frame["id"]))
        await self.socks[code].send_str(json.dumps(frame))

    async def all_acked(self, seconds: float = 20) -> float:
        await wait_until(lambda: not self.pending or self.errors, seconds, "every message to be acked")
        assert not self.errors, self.errors[:3]
        return self.last_ack

    async def close(self) -> None:
        for task in self.readers:
            task.cancel()
        await self.session.close()


async def setup_event(api: Api, tree: tuple[int, int, int]) -> tuple[str, dict[str, str]]:
    eid = await api.event()
    await api.import_csv(eid, tree_csv(*tree)[0])
    return eid, {p["code"]: p["token"] for p in await api.points(eid)}


async def open_console(browser: Browser, base: str, token: str, eid: str, view: str = "dashboard",
                       init: str | None = None) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="vi-VN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Errors the console logs (a listener that threw); refused requests are expected (401 before log-in).
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "Failed to load" not in m.text
            else None)
    page.errors = errors  # type: ignore[attr-defined]
    if init:
        await page.add_init_script(init)
    await page.goto(f"{base}/console/?event={eid}#{view}")
    await page.fill("#login-token", token)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_function("document.querySelector('#conn').dataset.state === 'live'",
                                 timeout=timeout(10) * 1000)
    return context, page


async def downloaded(info: Any) -> tuple[str, bytes]:
    """(suggested file name, bytes) of a finished download."""
    download = await info.value
    path = await download.path()
    return download.suggested_filename, await asyncio.to_thread(Path(path).read_bytes)


async def figure(page: Page, fig: str, key: str) -> str:
    return (await page.text_content(f"#{fig} [data-k={key}]") or "").strip()


@pytest.fixture
async def big_server(tmp_path: Path):
    proc = await ServerProcess(tmp_path / "data").start()
    async with aiohttp.ClientSession() as session:
        yield proc, Api(proc.base, session)
    proc.stop()


# -- 1,000 points: figures, search, filters -------------------------------------------


async def test_dashboard_follows_1000_checkins_then_search_and_filters(browser, big_server, artifacts) -> None:
    proc, api = big_server
    eid, tokens = await setup_event(api, (9, 22, 4))
    assert len(tokens) == 1000
    context, page = await open_console(browser, proc.base, ADMIN, eid)
    fleet = await Fleet(proc.base.replace("http", "ws", 1), tokens).connect()
    try:
        skipped = sorted(tokens)[::100]  # ten points stay missing, for the filters
        for i, code in enumerate(sorted(tokens)):
            if code not in skipped:
                await fleet.send(code, {"type": "checkin", "id": "c1", "attendees": 10 + i % 50})
            await fleet.send(code, {"type": "time.sync", "offset_ms": 3.0, "rtt_ms": 20 + i % 40})
        last = await fleet.all_acked()
        totals = await api.totals(eid)
        assert totals["checked_in"] == 990 and totals["online"] == 1000
        expect = {"checked_in": vi(totals["checked_in"]), "attendees": vi(totals["attendees"]),
                  "online": vi(totals["online"])}
        await page.wait_for_function(
            """(e) => ['checked_in', 'attendees', 'online'].every((k) =>
                 document.querySelector(`.figure [data-k=${k}]`).textContent === e[k])""",
            arg=expect, timeout=timeout(3) * 1000, polling=20)
        caught_up = time.monotonic() - last
        # The console issue's 1 s under `make test-timing`; a shared machine gets slack.
        bound = 1.0 if STRICT_TIMING else timeout(3.0)
        assert caught_up <= bound, f"the dashboard showed the REST totals {caught_up:.2f} s after the last ack"
        assert await figure(page, "fig-checked", "points") == "1.000"
        assert await figure(page, "fig-attendees", "expected") == vi(totals["expected"])
        await page.wait_for_function(
            "document.querySelector('#preflight [data-check=clock] b')?.textContent === '1.000 / 1.000'")
        await page.wait_for_function("document.querySelectorAll('#districts tbody tr').length === 9")
        await page.wait_for_function("document.querySelector('#timeline svg .last')?.textContent === '990'")
        await page.screenshot(path=str(artifacts / "console-dashboard.png"), full_page=True)
        print(f"\ndashboard caught up {caught_up * 1000:.0f} ms after the last of 1,000 check-ins")

        # Search ignores diacritics and case, like the server.
        await page.click("nav a[data-view=points]")
        await page.wait_for_selector("#points-rows tr")
        for typed in ("thôn 3-1", "THON 3-1", "Thon 3-1"):
            await page.fill("#q", typed)
            want = len(await api.points(eid, q=typed))
            await page.wait_for_function(f"document.querySelector('#view-points').dataset.matches === '{want}'")
        assert want == 4 * 10 + 4  # Thôn 3-1-v and Thôn 3-1x-v
        codes = await page.eval_on_selector_all("#points-rows tr", "rows => rows.map(r => r.dataset.key)")
        assert codes and all(c.startswith("D3-C1") for c in codes)
        await page.fill("#q", "")
        # Filters: level, district, status; each agrees with the REST filter.
        for selector, value, params in [("#f-level", "village", {"level": "village"}),
                                        ("#f-district", "D2", {"level": "village", "district": "D2"}),
                                        ("#f-status", "pending", {"level": "village", "district": "D2",
                                                                  "status": "pending"})]:
            await page.select_option(selector, value)
            want = len(await api.points(eid, **params))
            await page.wait_for_function(f"document.querySelector('#view-points').dataset.matches === '{want}'")
        await page.select_option("#f-level", "")
        await page.select_option("#f-district", "")
        await page.wait_for_function("document.querySelector('#view-points').dataset.matches === '10'")
        shown = await page.eval_on_selector_all("#points-rows tr", "rows => rows.map(r => r.dataset.key)")
        assert sorted(shown) == skipped
        await page.select_option("#f-status", "")
        await page.screenshot(path=str(artifacts / "console-points.png"))
        # The still-missing list, by district, with phones to call.
        await page.click("#missing details:first-of-type summary")
        # A district's rows are drawn on its toggle event, after the click returns.
        await page.locator("#missing details[open] a[href^='tel:']").first.wait_for(timeout=timeout(5) * 1000)
        assert await page.text_content("#missing-count") == "10"
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await fleet.close()
        await context.close()


# -- 1,000 points changing every second --------------------------------------------------


async def test_live_load_frames_staleness_and_long_tasks(browser, big_server, artifacts) -> None:
    proc, api = big_server
    eid, tokens = await setup_event(api, (9, 22, 4))
    context, page = await open_console(browser, proc.base, ADMIN, eid, init=LONGTASKS)
    assert await page.evaluate("window.__longtaskSupported")
    fleet = await Fleet(proc.base.replace("http", "ws", 1), tokens).connect()
    try:
        codes = sorted(tokens)
        for i, code in enumerate(codes):
            await fleet.send(code, {"type": "checkin", "id": "c0", "attendees": i % 60})
        await fleet.all_acked()
        await page.wait_for_function("document.querySelector('[data-k=checked_in]').textContent === '1.000'",
                                     timeout=timeout(5) * 1000)
        await page.evaluate("window.__longtasks = []; window.__consoleStats.reset()")
        # Each point changes once a second for ~6 s: a tenth of them every 100 ms.
        loop = asyncio.get_running_loop()
        started = loop.time()
        seconds = 6
        for tick in range(seconds * 10):
            if tick == seconds * 5:  # half-way: the points table under the same load
                await page.click("nav a[data-view=points]")
            delay = started + tick * 0.1 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not waiting for a result
            for i in range(tick % 10, len(codes), 10):
                await fleet.send(codes[i], {"type": "attendees", "id": f"n{tick}", "count": (i + tick) % 90})
        await fleet.all_acked()
        totals = await api.totals(eid)
        await page.click("nav a[data-view=dashboard]")
        await page.wait_for_function("(n) => document.querySelector('[data-k=attendees]').textContent === n",
                                     arg=vi(totals["attendees"]), timeout=timeout(3) * 1000)
        stats = await page.evaluate("({d: __consoleStats.deltas, r: __consoleStats.renders, p: __consoleStats.parse,"
                                    " lt: __longtasks})")
    finally:
        await fleet.close()
    deltas, renders = stats["d"], stats["r"]
    span_s = (deltas[-1]["as_of"] - deltas[0]["as_of"]) / 1000
    per_second = (len(deltas) - 1) / span_s

    def busiest(times: list[float]) -> int:
        """The most frames inside any one-second window [t, t + 1 s)."""
        return max(sum(1 for u in times[i:] if u < t + 1000) for i, t in enumerate(times))

    server_window = busiest([d["as_of"] for d in deltas])
    arrival_window = busiest([d["recv"] for d in deltas])
    stale = max(b["at"] - a["as_of"] for a, b in itertools.pairwise(renders))
    longest = max((t["duration"] for t in stats["lt"]), default=0.0)
    figures = {
        "deltas": len(deltas), "frames_per_s": round(per_second, 2), "busiest_second_server": server_window,
        "busiest_second_arrival": arrival_window, "max_stale_ms": round(stale), "longest_task_ms": round(longest),
        "long_tasks": [round(t["duration"]) for t in stats["lt"]],
        "max_render_ms": round(max(r["ms"] for r in renders), 1), "max_parse_ms": round(max(stats["p"]), 1),
        "points_per_delta": round(sum(d["points"] for d in deltas) / len(deltas)),
    }
    (artifacts / "console-load.json").write_text(json.dumps(figures, indent=2))
    print(f"\nconsole under 1,000 changes/s: {figures}")
    await page.screenshot(path=str(artifacts / "console-dashboard-load.png"))
    await context.close()
    assert len(deltas) >= seconds * 4
    assert server_window <= 5 and per_second <= 5.05, figures
    assert arrival_window <= 6, figures  # network jitter may bunch two frames at the page
    # The console issue's bounds (≤ 500 ms stale, no task over 200 ms) under `make test-timing`.
    stale_ms, task_ms = (500, 200) if STRICT_TIMING else (2000, 1000)
    assert stale <= stale_ms, figures
    assert longest <= task_ms, figures


# -- control room ------------------------------------------------------------------


async def test_control_room_agenda_arm_two_keys_from_two_tablets_and_abort(browser, server, artifacts) -> None:
    api: Api = server.api
    eid, _ = await setup_event(api, (2, 2, 1))
    await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": [
        {"title": "Khai mạc", "speaker": "MC", "planned_s": 120},
        {"title": "Phát biểu phát động phong trào", "speaker": "Chủ tịch UBND tỉnh", "planned_s": 600}]})
    operator = (await api.call("POST", "/api/tokens", 201, json={"name": "Điều hành 2", "role": "operator"}))["token"]
    context, page = await open_console(browser, server.base, ADMIN, eid, "control")
    context2, tablet = await open_console(browser, server.base, operator, eid, "control")
    page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
    try:
        await page.click("[data-agenda=start]")
        await page.wait_for_function("document.querySelector('#agenda-state').textContent === 'Đang diễn ra'")
        assert await page.text_content("#agenda-current") == "Khai mạc"
        await page.click("[data-agenda=next]")
        await page.wait_for_function(
            "document.querySelector('#agenda-current').textContent === 'Phát biểu phát động phong trào'")
        await tablet.wait_for_function(
            "document.querySelector('#agenda-current').textContent === 'Phát biểu phát động phong trào'")

        await page.fill("#arm-countdown", "30")
        await page.fill("#arm-keys", "2")
        await page.uncheck("#arm-rehearsal")
        await page.click("#arm")
        await tablet.wait_for_function("document.querySelector('#launch-state').textContent === 'Sẵn sàng phát động'")
        # One leader on each tablet; each is asked for their name.
        await page.click("#press")
        await page.fill("#key-name", "Bí thư Tỉnh ủy")
        await page.click("#key-dialog button[value=ok]")
        await tablet.wait_for_function("document.querySelector('#launch-keys').textContent.includes('Bí thư Tỉnh ủy')")
        assert "1/2" in (await tablet.text_content("#launch-keys") or "")
        await tablet.click("#press")
        await tablet.fill("#key-name", "Chủ tịch UBND tỉnh")
        await tablet.click("#key-dialog button[value=ok]")
        await page.wait_for_function("document.querySelector('#launch-state').textContent === 'Đếm ngược phát động'")
        left = int(await page.text_content("#launch-big") or "0")
        assert 20 <= left <= 30
        await page.screenshot(path=str(artifacts / "console-control.png"))
        await page.click("#abort")  # confirmed in the dialog
        await tablet.wait_for_function("document.querySelector('#launch-state').textContent === 'Đã hủy'")
        launch = await api.call("GET", f"/api/events/{eid}/launch", 200)
        assert launch["state"] == "aborted" and launch["keys_pressed"] == ["Bí thư Tỉnh ủy", "Chủ tịch UBND tỉnh"]
        audit = await api.call("GET", f"/api/events/{eid}/audit", 200)
        assert [(i["actor"], i["type"]) for i in audit["items"][:4]] == [
            ("admin", "launch.aborted"), ("Điều hành 2", "launch.key_pressed"), ("admin", "launch.key_pressed"),
            ("admin", "launch.armed")]
        assert page.errors == [] and tablet.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()
        await context2.close()


# -- reports ----------------------------------------------------------------------


async def _checkin(server, tokens: dict[str, str], counts: dict[str, int]) -> None:
    async with aiohttp.ClientSession() as s:
        for code, n in counts.items():
            ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")
            await ws.receive_json()
            await ws.send_json({"type": "checkin", "id": "c", "attendees": n})
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
            await ws.close()


async def test_report_downloads_and_a_snapshot_from_the_ui(browser, server, artifacts) -> None:
    api: Api = server.api
    eid, tokens = await setup_event(api, (3, 3, 1))
    await _checkin(server, tokens, {"TH": 52_110, "D0": 150, "D1-C2": 48})
    context, page = await open_console(browser, server.base, ADMIN, eid, "reports")
    try:
        async with page.expect_download() as info:
            await page.click("#dl-xlsx")
        name, data = await downloaded(info)
        assert name == f"bao-cao-{eid}.xlsx"
        book = load_workbook(io.BytesIO(data))
        assert book.sheetnames[:5] == ["Tổng hợp", "Theo cấp", "Theo huyện", "Điểm cầu chưa kết nối", "Sự cố"]
        summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
        assert summary["Số người tham dự"] == 52_110 + 150 + 48
        async with page.expect_download() as info:
            await page.click("#dl-csv")
        name, data = await downloaded(info)
        assert name.endswith(".csv")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert next(r for r in rows if r and r[0] == "overall")[4] == "3"
        async with context.expect_page() as info:
            await page.click("#dl-html")
        report = await info.value
        await report.wait_for_load_state()
        assert await report.text_content("h1") == "Báo cáo tổng hợp các điểm cầu"
        assert "52.308" in (await report.text_content("table.figures") or "")
        await report.screenshot(path=str(artifacts / "report-print.png"), full_page=True)
        await report.emulate_media(media="print")
        await report.pdf(path=str(artifacts / "report-print.pdf"), format="A4")
        await report.close()

        await page.fill("#snap-label", "báo cáo lúc 07:15")
        await page.click("#snap-form button[type=submit]")
        row = page.locator("#snapshots tbody tr", has_text="báo cáo lúc 07:15")
        await row.wait_for()
        async with page.expect_download() as info:
            await row.locator("a[data-fmt=xlsx]").click()
        book = load_workbook(io.BytesIO((await downloaded(info))[1]))
        summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
        assert summary["Bản chốt"] == "báo cáo lúc 07:15" and summary["Điểm cầu đã điểm danh"] == 3
        await page.screenshot(path=str(artifacts / "console-reports.png"))
        await page.click("nav a[data-view=audit]")
        await page.wait_for_selector("#audit tbody tr >> text=Chốt báo cáo “báo cáo lúc 07:15”")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


# -- a viewer -------------------------------------------------------------------------


async def test_a_viewer_sees_everything_and_can_change_nothing(browser, server, artifacts) -> None:
    api: Api = server.api
    eid, tokens = await setup_event(api, (2, 2, 1))
    await _checkin(server, tokens, {"D0": 1200})
    async with aiohttp.ClientSession() as s:  # an open incident, so its row (and resolve button) exists
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D1']}")
        await ws.receive_json()
        await ws.send_json({"type": "incident", "id": "i", "kind": "power", "note": "Mất điện"})
        await ws.receive_json()
        await ws.close()
    viewer = (await api.call("POST", "/api/tokens", 201, json={"name": "Khách mời", "role": "viewer"}))["token"]
    context, page = await open_console(browser, server.base, viewer, eid)
    try:
        assert (await page.text_content("#who") or "").endswith("(chỉ xem)")
        await page.wait_for_function("document.querySelector('[data-k=attendees]').textContent === '1.200'")
        # The server drops the console's socket: it comes back by itself with a fresh snapshot.
        for conn in list(server.app[STORE_KEY].event(eid).room.consoles):
            conn.close(1001, "going away")
        await page.wait_for_function("window.__consoleStats.frames.snapshot === 2 && "
                                     "document.querySelector('#conn').dataset.state === 'live'",
                                     timeout=timeout(5) * 1000)
        hidden = ["#arm-form", "#press", "#abort", "[data-agenda=start]", "#snap-form", "#notice-form",
                  "#view-points .toolbar[data-need=admin]", "#points-rows button", "#incidents-table tbody button"]
        for view in ("points", "incidents", "control", "reports", "audit"):
            await page.click(f"nav a[data-view={view}]")
            await page.wait_for_selector(f"#view-{view}:not([hidden])")
        await page.click("nav a[data-view=incidents]")
        await page.wait_for_selector("#incidents-table tbody tr >> text=Mất điện")
        for selector in hidden:
            assert not await page.locator(selector).first.is_visible(), selector
        await page.click("nav a[data-view=points]")
        await page.wait_for_selector("#points-rows tr")
        assert not await page.locator("#points-rows button").first.is_visible()
        # The server refuses anyway.
        for path, body in [(f"/api/events/{eid}/launch/arm", {}), (f"/api/events/{eid}/report/snapshots", {}),
                           (f"/api/events/{eid}/notices", {"text": "x"}),
                           (f"/api/events/{eid}/points/D0", {"phone": "1"})]:
            method = "PATCH" if path.endswith("D0") else "POST"
            status = await page.evaluate(
                "([m, p, b]) => fetch(p, {method: m, headers: {'Content-Type': 'application/json'},"
                " body: JSON.stringify(b)}).then((r) => r.status)", [method, path, body])
            assert status == 403, path
        # Reading is allowed: a viewer downloads the report.
        status = await page.evaluate(f"fetch('/api/events/{eid}/report.xlsx').then((r) => r.status)")
        assert status == 200
        # English on a toggle.
        await page.click("header .lang-toggle")
        assert await page.text_content("nav a[data-view=dashboard]") == "Dashboard"
        await page.click("nav a[data-view=dashboard]")
        await page.wait_for_function("document.querySelector('[data-k=attendees]').textContent === '1,200'")
        await page.screenshot(path=str(artifacts / "console-viewer-en.png"))
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


# -- an admin's point actions; an operator's incident and notice actions ---------------------


async def test_import_edit_rotate_resolve_and_notice_from_the_ui(browser, server, artifacts) -> None:
    api: Api = server.api
    eid, tokens = await setup_event(api, (2, 2, 0))
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0-C1']}")
        await ws.receive_json()
        await ws.send_json({"type": "incident", "id": "i", "kind": "audio", "note": "Không nghe được tiếng"})
        incident = (await ws.receive_json(timeout=timeout(5)))["incident"]
        context, page = await open_console(browser, server.base, ADMIN, eid, "points")
        page.on("dialog", lambda d: asyncio.ensure_future(d.accept()))
        try:
            sheet = ("code,name,level,parent,chair,phone,expected\n"
                     "NEW1,Trường THCS Lê Lợi,school,TH,Cô Mai,0912345678,40\n"
                     "BAD1,,village,D0,,,abc\n")
            await page.set_input_files("#import-file", files=[
                {"name": "diem-cau.csv", "mimeType": "text/csv", "buffer": sheet.encode()}])
            await page.wait_for_selector("#info-dialog[open] #import-result")
            assert "Thêm mới 1, cập nhật 0, lỗi 2" in (await page.text_content("#import-result") or "")
            errors = await page.eval_on_selector_all("#import-result tbody tr",
                                                     "rows => rows.map(r => [...r.cells].map(c => c.textContent))")
            assert sorted(e[1] for e in errors) == ["Dự kiến", "Tên điểm cầu"] and {e[0] for e in errors} == {"3"}
            await page.screenshot(path=str(artifacts / "console-import.png"))
            await page.click("#info-dialog button[value=ok]")
            await page.fill("#q", "le loi")  # the new point arrived with a delta
            await page.wait_for_function("document.querySelector('#view-points').dataset.matches === '1'")

            await page.click("#points-rows tr[data-key=NEW1] button[data-action=edit]")
            await page.fill("#edit-form input[name=phone]", "0987 000 111")
            await page.click("#edit-form button[value=save]")
            await page.wait_for_selector("#points-rows tr[data-key=NEW1] td.phone >> text=0987 000 111")
            point = await api.call("GET", f"/api/events/{eid}/points/NEW1", 200)
            assert point["phone"] == "0987 000 111" and point["chair"] == "Cô Mai"

            await page.click("#points-rows tr[data-key=NEW1] button[data-action=rotate]")  # confirmed
            link = page.locator("#info-dialog[open] #info-body a")
            await link.wait_for()
            rotated = await api.call("GET", f"/api/events/{eid}/points/NEW1", 200)
            assert rotated["token"] != point["token"]
            assert (await link.text_content() or "").endswith(f"/p/{rotated['token']}")
            await page.click("#info-dialog button[value=ok]")

            await page.click("nav a[data-view=incidents]")
            row = page.locator(f"#incidents-table tbody tr[data-key='{incident}']")
            await row.wait_for()
            assert "tel:0920000001" in (await row.inner_html())
            await row.locator("button[data-action=resolve]").click()
            await row.wait_for(state="detached")
            closed = await api.call("GET", f"/api/events/{eid}/incidents", 200)
            assert closed[0]["open"] is False and closed[0]["resolved_by"] == "admin"

            await page.fill("#notice-text", "Các điểm cầu huyện 0 kiểm tra âm thanh")
            await page.select_option("#notice-district", "D0")
            await page.click("#notice-form button[type=submit]")
            pushed = await ws.receive_json(timeout=timeout(5))
            while pushed["type"] != "notice":
                pushed = await ws.receive_json(timeout=timeout(5))
            assert pushed["text"] == "Các điểm cầu huyện 0 kiểm tra âm thanh"
            await page.wait_for_selector("#notices li >> text=Các điểm cầu huyện 0 kiểm tra âm thanh")
            assert page.errors == []  # type: ignore[attr-defined]
        finally:
            await ws.close()
            await context.close()


async def test_map_layouts_zoom_search_dots_and_the_registry_download(browser, server, artifacts) -> None:
    """Catches a map that loses points between its layouts (cells, one tile per
    group, dots by lat/lon), a zoom or a search that shows the wrong group, dots
    without coordinates, and the Points tab's registry download failing or
    answering a wrong name with a file."""
    api: Api = server.api
    eid, _ = await setup_event(api, (2, 2, 1))  # 1 + 2 districts + 4 communes + 4 villages = 11 points
    placed = {"TH": (19.807, 105.776), "D0": (19.9, 105.4), "D1-C1": (20.1, 105.2)}
    for code, (lat, lon) in placed.items():
        await api.call("PATCH", f"/api/events/{eid}/points/{code}", 200, json={"lat": lat, "lon": lon})
    context, page = await open_console(browser, server.base, ADMIN, eid, "map")
    try:
        board = page.locator("#map-board")
        await page.wait_for_function("document.querySelector('#view-map').dataset.mode === 'cells'")
        await expect_count(board.locator("i[data-code]"), 11)
        await expect_count(board.locator(".map-block"), 3)  # D0, D1, and the hall above them
        await page.select_option("#map-mode", "groups")
        await expect_count(board.locator(".map-tile"), 3)
        await board.locator(".map-tile[data-group=D0]").click()
        await expect_count(board.locator("i[data-code]"), 5)  # D0, its 2 communes and their villages
        assert not await page.locator("#map-back").is_hidden()
        await page.click("#map-back")
        await expect_count(board.locator(".map-tile"), 3)
        await page.select_option("#map-mode", "cells")
        await page.fill("#map-q", "xa 1-0")  # a commune of D1, typed without diacritics
        await expect_count(board.locator(".map-block"), 1)
        assert await board.locator(".map-block").get_attribute("data-group") == "D1"
        await page.fill("#map-q", "")
        await page.select_option("#map-mode", "dots")
        dots = board.locator(".map-dots i[data-code]")
        await expect_count(dots, 3)
        lefts = await dots.evaluate_all("ds => ds.map(d => [d.dataset.code, parseFloat(d.style.left), "
                                        "parseFloat(d.style.top)])")
        pos = {c: (x, y) for c, x, y in lefts}
        assert pos["D1-C1"][1] == 0 and pos["D1-C1"][0] == 0  # the north-west corner
        assert pos["TH"][0] == 100 and pos["TH"][1] == 100  # the south-east corner
        await page.wait_for_selector("#map-board >> text=8 điểm cầu chưa có tọa độ")
        await board.locator(".map-dots i[data-code=TH]").hover()
        await page.wait_for_selector("#map-tip >> text=Hội trường tỉnh")
        await page.screenshot(path=str(artifacts / "console-map-dots.png"))

        # The Points tab: the official list's sheet of a province.
        await page.click("nav a[data-view=points]")
        await page.fill("#registry-province", "thanh hoa")
        async with page.expect_download() as info:
            await page.click("#registry-form button[type=submit]")
        name, body = await downloaded(info)
        assert name == "registry-38.csv"
        assert body.decode("utf-8").startswith("\ufeffcode,name,level,parent,chair,phone,expected\r\n38,")
        await page.fill("#registry-province", "Atlantis")
        await page.click("#registry-form button[type=submit]")
        await page.wait_for_selector("#toasts .toast.error >> text=Atlantis")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await context.close()


async def expect_count(locator: Any, n: int) -> None:
    await expect(locator).to_have_count(n)
