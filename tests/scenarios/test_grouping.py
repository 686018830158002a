"""Grouping end to end over the public contract, against ``launchday serve``
(docs/protocol.md#grouping): the same acceptance path for a registry of 2025
(root → communes → points, imported with ``group_level: commune``) and one of
2024 (root → districts → communes, with the default level, district).

Each path: import, check points in over their own sockets, then read the
grouping everywhere it shows (the event, totals, points and their ``group=``
filter, the console's snapshot and delta, the report in JSON, CSV, HTML and
XLSX, the link sheet, a notice to one group), and see bad input refused with
a code and nothing changed."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp
import openpyxl  # type: ignore[import-untyped]
import pytest

from tests.utils import Api, H, ServerProcess, timeout

HEAD = "code,name,level,parent,chair,phone,expected\n"
# 2025: no district level; xã, phường and đặc khu are all `commune`.
TWO_TIER = HEAD + "".join([
    "TH,Tỉnh Thanh Hóa,province,,Chủ tịch,0900000000,300\n",
    "SYT,Sở Y tế,department,TH,,,40\n",
    "X1,Xã Triệu Sơn,commune,TH,,,50\n",
    "P1,Phường Hạc Thành,commune,TH,,,70\n",
    "DK,Đặc khu Hòn Mê,commune,TH,,,10\n",
    "X1-V0,Thôn Yên Thịnh,village,X1,,,20\n",
    "P1-S0,Trường THCS Hạc Thành,school,P1,,,30\n",
    "P1-S0-A,Trường TH Hạc Thành,school,P1-S0,,,25\n",
])
# 2024 (the reference morning): districts, their communes below.
THREE_TIER = HEAD + "".join([
    "TH,Tỉnh Thanh Hóa,province,,Chủ tịch,0900000000,300\n",
    "SYT,Sở Y tế,department,TH,,,40\n",
    "D1,Huyện Triệu Sơn,district,TH,,,100\n",
    "D2,Huyện Đông Sơn,district,TH,,,80\n",
    "D1-C0,Xã Dân Lực,commune,D1,,,50\n",
    "D1-C1,Thị trấn Triệu Sơn,commune,D1,,,40\n",
    "D2-C0,Phường Đông Tiến,commune,D2,,,30\n",
])

CASES = {
    # registry, create body extra, effective level, {group: its points}, checked in {code: n}
    "two_tier": (TWO_TIER, {"group_level": "commune"}, "commune",
                 {"X1": {"X1", "X1-V0"}, "P1": {"P1", "P1-S0", "P1-S0-A"}, "DK": {"DK"}},
                 {"P1-S0-A": 25, "X1-V0": 18, "SYT": 40}),
    "three_tier": (THREE_TIER, {}, "district",
                   {"D1": {"D1", "D1-C0", "D1-C1"}, "D2": {"D2", "D2-C0"}},
                   {"D1-C1": 33, "D2": 80, "SYT": 40}),
}


async def _get(api: Api, path: str) -> tuple[int, bytes]:
    async with api.session.get(api.base + path, headers=api.headers) as resp:
        return resp.status, await resp.read()


@pytest.mark.parametrize("case", list(CASES))
async def test_a_registry_groups_everywhere(tmp_path: Any, case: str) -> None:
    """Catches any surface (event, totals, points, console, report, links,
    notices) that still groups by district when the event does not, or that
    accepts an unknown level or group."""
    registry, extra, level, groups, checked = CASES[case]
    srv = await ServerProcess(tmp_path / "data").start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid = await api.event(**extra)
            await api.import_csv(eid, registry)
            event = await api.call("GET", f"/api/events/{eid}", 200)
            assert (event["group_level"], event["group_level_effective"]) == (extra.get("group_level"), level)

            console = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/console?event={eid}", headers=H)
            snap = await console.receive_json(timeout=timeout(5))
            assert snap["type"] == "snapshot" and snap["event"]["group_level_effective"] == level
            assert snap["totals"]["group_level"] == level
            member = {code: g for g, codes in groups.items() for code in codes}
            assert {p["code"]: p["group"] for p in snap["points"]} == {
                p["code"]: member.get(p["code"]) for p in snap["points"]}

            tokens = {p["code"]: p["token"] for p in await api.points(eid)}
            for code, n in checked.items():
                ws = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={tokens[code]}")
                welcome = await ws.receive_json(timeout=timeout(5))
                assert welcome["point"]["group"] == member.get(code)
                await ws.send_json({"type": "checkin", "id": f"{code}-1", "attendees": n})
                assert (await ws.receive_json(timeout=timeout(5)))["type"] == "ack"
                await ws.close()
            # The console's delta carries the groups' new figures.
            want_in = {g: sum(1 for c in checked if member.get(c) == g) for g in groups}
            while True:
                frame = await console.receive_json(timeout=timeout(5))
                if frame["type"] == "delta" and {g: b["checked_in"] for g, b in frame["totals"]["by_group"].items()} \
                        == want_in:
                    break

            totals = await api.totals(eid)
            assert totals["group_level"] == level and set(totals["by_group"]) == set(groups)
            for g, codes in groups.items():
                bucket = totals["by_group"][g]
                assert bucket["level"] == level and bucket["points"] == len(codes)
                assert bucket["attendees"] == sum(n for c, n in checked.items() if c in codes)
            if level == "district":
                assert {g: {k: v for k, v in b.items() if k != "level"} for g, b in totals["by_group"].items()} \
                    == totals["by_district"]
            else:
                assert totals["by_district"] == {}

            for g, codes in groups.items():
                assert {p["code"] for p in await api.points(eid, group=g)} == codes

            report = await api.call("GET", f"/api/events/{eid}/report.json", 200)
            order = [r["code"] for r in report["by_group"]]
            assert report["group_level"] == level and sorted(order) == sorted(groups)
            # The missing list comes group by group, in the groups' order; outside any group last.
            rank = [order.index(m["group"]) if m["group"] else len(order) for m in report["missing"]]
            assert rank == sorted(rank) and report["missing"][-1]["group"] is None
            status, body = await _get(api, f"/api/events/{eid}/report.csv")
            assert status == 200
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
            assert {r[1] for r in rows if r and r[0] == "group"} == set(groups)
            status, body = await _get(api, f"/api/events/{eid}/report.xlsx")
            book = openpyxl.load_workbook(io.BytesIO(body))
            sheet = "Theo huyện" if level == "district" else "Theo địa bàn"
            assert {r[0] for r in list(book[sheet].iter_rows(values_only=True))[1:]} == set(groups)
            status, body = await _get(api, f"/api/events/{eid}/report.html")
            heading = "III. Theo huyện, thị xã, thành phố" if level == "district" else "III. Theo xã, phường, đặc khu"
            assert status == 200 and heading in body.decode()

            first = next(iter(groups))
            status, body = await _get(api, f"/api/events/{eid}/links.csv?group={first}")
            assert status == 200
            assert {r["code"] for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))} == groups[first]
            status, body = await _get(api, f"/api/events/{eid}/links.html")
            assert status == 200 and body.decode().count("<section data-group=") == len(groups) + 1

            # A notice to one group reaches its points only.
            inside = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={tokens[sorted(groups[first])[-1]]}")
            outside = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/point?token={tokens['SYT']}")
            for ws in (inside, outside):
                await ws.receive_json(timeout=timeout(5))
            sent = await api.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Chuẩn bị", "group": first})
            assert sent["group"] == first
            await api.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Mọi điểm cầu"})
            got = [await inside.receive_json(timeout=timeout(5)) for _ in range(2)]
            assert [(f["type"], f["text"]) for f in got] == [("notice", "Chuẩn bị"), ("notice", "Mọi điểm cầu")]
            assert (await outside.receive_json(timeout=timeout(5)))["text"] == "Mọi điểm cầu"
            for ws in (inside, outside):
                await ws.close()

            # Bad input: a coded error, nothing changed.
            before = (await api.call("GET", f"/api/events/{eid}", 200), await api.totals(eid))
            for body in ({"group_level": "huyen"}, {"group_level": 7}, {"name": "Khác", "group_level": "root"}):
                err = await api.call("PATCH", f"/api/events/{eid}", 400, json=body)
                assert err["error"]["code"] == "invalid_group_level"
            err = await api.call("POST", "/api/events", 400, json={
                "name": "x", "starts_at": "2025-05-08T08:00:00+07:00",
                "report_deadline": "2025-05-08T07:30:00+07:00", "group_level": "tinh"})
            assert err["error"]["code"] == "invalid_group_level"
            wrong = "SYT"  # a point, but not a group
            for path in (f"/api/events/{eid}/points?group={wrong}", f"/api/events/{eid}/points?group=GHOST",
                         f"/api/events/{eid}/links.csv?group={wrong}", f"/api/events/{eid}/links.html?group=GHOST"):
                err = await api.call("GET", path, 404)
                assert err["error"]["code"] == "group_not_found", path
            err = await api.call("POST", f"/api/events/{eid}/notices", 404, json={"text": "x", "group": wrong})
            assert err["error"]["code"] == "group_not_found"
            after = (await api.call("GET", f"/api/events/{eid}", 200), await api.totals(eid))
            assert after[0] == before[0]
            assert {k: v for k, v in after[1].items() if k != "as_of_ms"} == {
                k: v for k, v in before[1].items() if k != "as_of_ms"}
            assert len(await api.call("GET", "/api/events", 200)) == 1

            # Editing the level regroups; null goes back to the default.
            edited = await api.call("PATCH", f"/api/events/{eid}", 200, json={"group_level": "school"})
            assert (edited["group_level"], edited["group_level_effective"]) == ("school", "school")
            by_school = (await api.totals(eid))["by_group"]
            assert all(b["level"] == "school" for b in by_school.values())
            edited = await api.call("PATCH", f"/api/events/{eid}", 200, json={"group_level": None})
            default = "commune" if level == "commune" else "district"
            assert (edited["group_level"], edited["group_level_effective"]) == (None, default)
            await console.close()
    finally:
        srv.stop()
