"""Reports (xlsx, html, csv), report snapshots, the audit log and the timeline
on a real server."""

from __future__ import annotations

import csv
import io
import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from openpyxl import load_workbook

from server.io import timers
from server.io.app import create_app
from server.io.http.auth import STORE_KEY
from tests.utils import ADMIN, Api, timeout, tree_csv, wait_until

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SHEETS = ["Tổng hợp", "Theo cấp", "Theo huyện", "Điểm cầu chưa kết nối", "Sự cố"]


async def _checkin(server, tokens: dict[str, str], counts: dict[str, int]) -> None:
    """Check points in over /ws/point, as site leads' devices do."""
    async with aiohttp.ClientSession() as s:
        for code, n in counts.items():
            ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens[code]}")
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "welcome"
            await ws.send_json({"type": "checkin", "id": f"c-{code}", "attendees": n})
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
            await ws.close()


async def _incident(server, token: str, note: str) -> str:
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={token}")
        await ws.receive_json(timeout=timeout(5))
        await ws.send_json({"type": "incident", "id": "i1", "kind": "audio", "note": note})
        ack = await ws.receive_json(timeout=timeout(5))
        await ws.close()
        return str(ack["incident"])


@pytest.fixture
async def day(server):
    """2 districts × 3 communes × 1 village; some checked in, one incident."""
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(2, 3, 1)[0])
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await _checkin(server, tokens, {"TH": 52_110, "D0": 120, "D0-C0": 45, "D1-C2-V0": 18})
    await _incident(server, tokens["D1-C1"], "Mất tiếng ở loa")
    return eid, tokens


async def _get(api: Api, path: str) -> tuple[int, aiohttp.typedefs.LooseHeaders, bytes]:
    async with api.session.get(api.base + path, headers=api.headers) as resp:
        return resp.status, resp.headers, await resp.read()


async def test_xlsx_has_a_sheet_per_breakdown_with_numbers(server, day) -> None:
    eid, _ = day
    totals = await server.api.totals(eid)
    status, headers, body = await _get(server.api, f"/api/events/{eid}/report.xlsx")
    assert status == 200 and headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames[:5] == SHEETS
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Tổng số điểm cầu"] == totals["points"]
    assert summary["Điểm cầu đã điểm danh"] == totals["checked_in"] == 4
    assert summary["Số người tham dự"] == totals["attendees"] == 52_110 + 120 + 45 + 18
    assert isinstance(summary["Số liệu tính đến"], datetime)
    levels = list(book["Theo cấp"].iter_rows(values_only=True))
    assert levels[0][:3] == ("Cấp", "Số điểm cầu", "Đã điểm danh")
    assert ("Tỉnh", 1, 1) == levels[1][:3]
    assert levels[-1][0] == "Tổng cộng" and levels[-1][5] == totals["attendees"]
    districts = list(book["Theo huyện"].iter_rows(values_only=True))
    assert districts[0][1] == "Huyện, thị xã, thành phố"
    d0 = next(r for r in districts if r[0] == "D0")
    assert d0[1:4] == ("Huyện Số 0", 7, 2) and d0[6] == 165
    missing = list(book["Điểm cầu chưa kết nối"].iter_rows(values_only=True))
    assert missing[0] == ("STT", "Mã", "Tên điểm cầu", "Cấp", "Huyện", "Người phụ trách", "Điện thoại", "Dự kiến")
    assert len(missing) - 1 == totals["points"] - 4
    assert all(isinstance(r[0], int) and r[5] and r[6] for r in missing[1:])
    incidents = list(book["Sự cố"].iter_rows(values_only=True))
    assert incidents[1][1] == "D1-C1" and incidents[1][3] == "Mất tiếng" and incidents[1][4] == "Mất tiếng ở loa"
    assert book["Theo huyện"].column_dimensions["B"].width >= 20


async def test_html_is_vietnamese_with_vi_numbers_and_local_times(server, day) -> None:
    eid, _ = day
    status, headers, body = await _get(server.api, f"/api/events/{eid}/report.html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    for heading in ("I. Tổng hợp", "II. Theo cấp điểm cầu", "III. Theo huyện, thị xã, thành phố",
                    "IV. Điểm cầu chưa kết nối", "V. Sự cố chưa xử lý", "VI. Chương trình buổi lễ",
                    "VII. Nghi thức bấm nút phát động", "Người lập báo cáo", "Lãnh đạo đơn vị"):
        assert heading in page, heading
    assert "52.293" in page  # 52,110 + 120 + 45 + 18, in the vi-VN form
    assert "@page" in page and "size: A4" in page
    now = datetime.now(TZ)
    taken = re.search(r"Số liệu tính đến (\d\d):(\d\d):(\d\d) ngày (\d\d)/(\d\d)/(\d{4})", page)
    assert taken is not None
    h, m, _, day_, month, year = map(int, taken.groups())
    shown = datetime(year, month, day_, h, m, tzinfo=TZ)
    assert abs((now - shown).total_seconds()) < 120


async def test_csv_and_json_still_served(server, day) -> None:
    eid, _ = day
    status, _headers, body = await _get(server.api, f"/api/events/{eid}/report.csv")
    assert status == 200 and body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    overall = next(r for r in rows if r and r[0] == "overall")
    assert overall[6] == str(52_110 + 120 + 45 + 18)
    report = await server.api.call("GET", f"/api/events/{eid}/report.json", 200)
    assert {"agenda", "launch", "missing", "by_district"} <= set(report)


async def test_snapshots_on_demand_listed_and_downloaded(server, day) -> None:
    api: Api = server.api
    eid, tokens = day
    base = f"/api/events/{eid}/report/snapshots"
    assert await api.call("GET", base, 200) == []
    first = await api.call("POST", base, 201, json={"label": "báo cáo lúc 07:15"})
    assert first["n"] == 1 and first["label"] == "báo cáo lúc 07:15" and first["automatic"] is False
    assert first["actor"] == "admin" and first["overall"]["checked_in"] == 4
    await _checkin(server, tokens, {"D1": 77})
    second = await api.call("POST", base, 201)  # no body: labelled with the time taken
    assert re.fullmatch(r"báo cáo lúc \d\d:\d\d", second["label"]) and second["n"] == 2
    listed = await api.call("GET", base, 200)
    assert [s["n"] for s in listed] == [1, 2]
    # The first snapshot keeps its numbers though the live report moved on.
    kept = await api.call("GET", f"{base}/1.json", 200)
    assert kept["overall"]["checked_in"] == 4 and kept["snapshot"]["label"] == "báo cáo lúc 07:15"
    assert (await api.call("GET", f"{base}/2.json", 200))["overall"]["checked_in"] == 5
    status, _, body = await _get(api, f"{base}/1.xlsx")
    assert status == 200
    book = load_workbook(io.BytesIO(body))
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Điểm cầu đã điểm danh"] == 4 and summary["Bản chốt"] == "báo cáo lúc 07:15"
    status, _, body = await _get(api, f"{base}/1.html")
    assert status == 200 and "báo cáo lúc 07:15" in body.decode()
    status, _, body = await _get(api, f"{base}/1.csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert next(r for r in rows if r and r[0] == "overall")[4] == "4"
    status, data = await api.call("GET", f"{base}/3.json")
    assert status == 404
    status, data = await api.call("POST", base, json={"label": "x" * 101})
    assert status == 400 and data["error"]["code"] == "validation_error"


async def test_viewer_reads_everything_and_cannot_take_a_snapshot(server, day) -> None:
    api: Api = server.api
    eid, _ = day
    viewer = (await api.call("POST", "/api/tokens", 201, json={"name": "Người xem", "role": "viewer"}))["token"]
    v = Api(server.base, api.session, viewer)
    status, data = await v.call("POST", f"/api/events/{eid}/report/snapshots", json={})
    assert status == 403 and data["error"]["code"] == "forbidden"
    for path in ("report.xlsx", "report.html", "report/snapshots", "audit", "timeline"):
        status, _, _ = await _get(v, f"/api/events/{eid}/{path}")
        assert status == 200, path
    async with aiohttp.ClientSession() as anon:
        async with anon.get(f"{server.base}/api/events/{eid}/report.xlsx") as resp:
            assert resp.status == 401


async def test_deadline_snapshot_taken_by_the_timer(server) -> None:
    api: Api = server.api
    deadline = datetime.now(TZ) + timedelta(seconds=1.5)
    eid = await api.event(report_deadline=deadline.isoformat())
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    rt = server.app[STORE_KEY].event(eid)
    assert timers.DEADLINE_TIMER in rt.timers
    listed = await wait_until(
        lambda: api.call("GET", f"/api/events/{eid}/report/snapshots", 200), 6, "the deadline snapshot")
    assert len(listed) == 1
    snap = listed[0]
    assert snap["automatic"] is True and snap["actor"] is None
    assert snap["label"] == f"báo cáo lúc {deadline.strftime('%H:%M')}"
    assert deadline.timestamp() * 1000 <= snap["taken_ms"] < deadline.timestamp() * 1000 + timeout(2) * 1000
    assert snap["overall"]["points"] == 4
    audit = await api.call("GET", f"/api/events/{eid}/audit", 200)
    assert audit["items"][0]["type"] == "report.snapshot_taken" and "tự động" in audit["items"][0]["summary"]


async def test_no_deadline_snapshot_after_the_deadline_and_snapshots_survive_restart(tmp_path) -> None:
    data = tmp_path / "data"

    async def start() -> tuple[web.AppRunner, str]:
        runner = web.AppRunner(create_app(data, token=ADMIN), handle_signals=False, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"

    runner, base = await start()
    async with aiohttp.ClientSession() as s:
        api = Api(base, s)
        eid = await api.event()  # its deadline (2025-05-08 07:30) has passed
        rt = runner.app[STORE_KEY].event(eid)
        assert timers.DEADLINE_TIMER not in rt.timers
        await api.call("POST", f"/api/events/{eid}/report/snapshots", 201, json={"label": "bản chốt"})
    await runner.cleanup()
    runner, base = await start()
    try:
        async with aiohttp.ClientSession() as s:
            listed = await Api(base, s).call("GET", f"/api/events/{eid}/report/snapshots", 200)
            assert [x["label"] for x in listed] == ["bản chốt"]
            assert timers.DEADLINE_TIMER not in runner.app[STORE_KEY].event(eid).timers
    finally:
        await runner.cleanup()


async def test_audit_lists_organizer_actions_newest_first(server) -> None:
    api: Api = server.api
    eid = await api.event()
    text, n = tree_csv(1, 2, 1)
    await api.import_csv(eid, text)
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await _checkin(server, tokens, {"D0": 10})  # a point's action: not in the audit
    await api.call("PATCH", f"/api/events/{eid}/points/D0-C1", 200, json={"phone": "0987654321", "chair": "Bà Lan"})
    await api.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Chuẩn bị khai mạc", "district": "D0"})
    await api.call("PUT", f"/api/events/{eid}/agenda", 200,
                   json={"items": [{"title": "Khai mạc", "planned_s": 60}]})
    await api.call("POST", f"/api/events/{eid}/agenda/start", 200)
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 5000, "keys_required": 2})
    await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Bí thư Tỉnh ủy"})
    await api.call("POST", f"/api/events/{eid}/launch/abort", 200)
    audit = await api.call("GET", f"/api/events/{eid}/audit", 200)
    items = audit["items"]
    assert [i["type"] for i in items] == [
        "launch.aborted", "launch.key_pressed", "launch.armed", "agenda.stepped", "agenda.set", "notice.sent",
        "point.upserted", "point.upserted", "event.created"]
    assert [i["summary"] for i in items[:3]] == [
        "Hủy bấm nút", "Bấm nút: Bí thư Tỉnh ủy", "Kích hoạt bấm nút: đếm ngược 5 giây, 2 người bấm"]
    assert items[3]["summary"] == "Bắt đầu chương trình"
    assert items[5]["summary"] == "Gửi thông báo tới huyện D0: “Chuẩn bị khai mạc”"
    assert items[6]["summary"] == "Sửa điểm cầu D0-C1 (Xã 0-1): người phụ trách, số điện thoại"
    assert items[7]["summary"] == f"Thêm {n} điểm cầu" and items[7]["count"] == n
    assert all(i["actor"] == "admin" for i in items)
    assert all(a["seq"] > b["seq"] for a, b in itertools.pairwise(items))
    # Polling for what is new, and paging back.
    newer = await api.call("GET", f"/api/events/{eid}/audit", 200, params={"after_seq": str(items[2]["seq"])})
    assert [i["type"] for i in newer["items"]] == ["launch.aborted", "launch.key_pressed"]
    page = await api.call("GET", f"/api/events/{eid}/audit", 200, params={"limit": "2"})
    assert len(page["items"]) == 2 and page["more"] is True
    older = await api.call("GET", f"/api/events/{eid}/audit", 200,
                           params={"limit": "2", "before_seq": str(page["items"][-1]["seq"])})
    assert [i["type"] for i in older["items"]] == ["launch.armed", "agenda.stepped"]
    status, _data = await api.call("GET", f"/api/events/{eid}/audit", params={"after_seq": "x"})
    assert status == 400


async def test_timeline_counts_checkins_and_attendees(server) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 3, 0)[0])
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    empty = await api.call("GET", f"/api/events/{eid}/timeline", 200)
    assert empty["buckets"] == [] and empty["points"] == 5
    await _checkin(server, tokens, {"TH": 300, "D0": 100, "D0-C0": 40})
    async with aiohttp.ClientSession() as s:  # a recount and a repeated id
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
        await ws.receive_json()
        for msg in ({"type": "attendees", "id": "n1", "count": 110}, {"type": "checkin", "id": "c-D0", "attendees": 1}):
            await ws.send_json(msg)
            assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
        await ws.close()
    line = await api.call("GET", f"/api/events/{eid}/timeline", 200, params={"bucket_s": "10"})
    totals = await api.totals(eid)
    assert line["bucket_s"] == 10 and line["buckets"]
    last = line["buckets"][-1]
    assert (last["checked_in"], last["attendees"]) == (totals["checked_in"], totals["attendees"]) == (3, 450)
    assert (line["checked_in"], line["attendees"]) == (3, 450)
    assert sum(b["checkins"] for b in line["buckets"]) == 3
    assert all(b["end_ms"] - b["start_ms"] == 10_000 for b in line["buckets"])
    assert all(a["checked_in"] <= b["checked_in"] for a, b in zip(line["buckets"], line["buckets"][1:], strict=False))
    for bad in ("0", "3601", "abc"):
        status, data = await api.call("GET", f"/api/events/{eid}/timeline", params={"bucket_s": bad})
        assert status == 400 and data["error"]["code"] == "validation_error"


async def test_post_event_sections_agenda_timings_and_launch_figures(server) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    tokens = {p["code"]: p["token"] for p in await api.points(eid)}
    await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": [
        {"title": "Khai mạc", "speaker": "MC", "planned_s": 60},
        {"title": "Bấm nút phát động", "speaker": "Lãnh đạo tỉnh", "planned_s": 180}]})
    for action in ("start", "next"):
        await api.call("POST", f"/api/events/{eid}/agenda/{action}", 200)
    await api.call("POST", f"/api/events/{eid}/launch/arm", 200, json={"countdown_ms": 3000, "keys_required": 1})
    fire = await api.call("POST", f"/api/events/{eid}/launch/press", 200, json={"key": "Chủ tịch UBND tỉnh"})
    async with aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"{server.ws}/ws/point?token={tokens['D0']}")
        await ws.receive_json()

        async def fired() -> bool:
            return (await api.call("GET", f"/api/events/{eid}/launch", 200))["state"] == "fired"

        await wait_until(fired, 6, "the fire time")
        await ws.send_json({"type": "launch.fired", "id": "f1", "fired_ms": fire["fire_at_ms"] + 4,
                            "offset_ms": 2.0, "rtt_ms": 30.0})
        frame = await ws.receive_json(timeout=timeout(5))
        while frame["type"] != "ack":
            frame = await ws.receive_json(timeout=timeout(5))
        await ws.close()
    await api.call("POST", f"/api/events/{eid}/agenda/finish", 200)
    status, _, body = await _get(api, f"/api/events/{eid}/report.html")
    assert status == 200
    page = body.decode()
    section = page[page.index("VI. Chương trình buổi lễ"):]
    assert "Khai mạc" in section and "Bấm nút phát động" in section and "Đã kết thúc" in section
    assert "Tổng cộng" in section and "4:00" in section  # 60 + 180 s planned
    launch = page[page.index("VII. Nghi thức bấm nút phát động"):]
    assert "Đã phát động" in launch and "Chủ tịch UBND tỉnh" in launch
    assert re.search(r"Điểm cầu báo đã phát động</td><td class=\"n\">1<", launch)
    assert re.search(r"Sai số đồng hồ lớn nhất \(ms\)</td><td class=\"n\">15<", launch)
    status, _, body = await _get(api, f"/api/events/{eid}/report.xlsx")
    assert status == 200
    book = load_workbook(io.BytesIO(body))
    agenda = list(book["Chương trình"].iter_rows(values_only=True))
    assert agenda[1][:4] == (1, "Khai mạc", "MC", 60) and isinstance(agenda[1][4], float)
    assert agenda[-1][1] == "Tổng cộng" and agenda[-1][3] == 240
    figures = {r[0]: r[1] for r in book["Bấm nút phát động"].iter_rows(values_only=True)}
    assert figures["Trạng thái"] == "Đã phát động" and figures["Điểm cầu báo đã phát động"] == 1
    assert figures["Người bấm nút 1"].startswith("Chủ tịch UBND tỉnh")
    assert isinstance(figures["Thời điểm phát động"], datetime)
