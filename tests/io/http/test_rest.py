"""REST against a real server: auth, events, import, points, tokens, reports, bad input."""

from __future__ import annotations

import csv
import io

import aiohttp
import openpyxl
import pytest

from tests.utils import EVENT, Api, tree_csv

DIRTY = (
    "\ufeffname,code,level,parent,chair,phone,expected\n"   # BOM, columns in another order
    "Huyện Triệu Sơn,D1,district,,Lê Văn Hùng,0912345678,120\n"   # 2 ok
    "Xã Dân Lực,C1,commune,D1,Nguyễn Thị Lan,0913,45\n"   # 3 ok
    "Xã Bad Level,C2,hamlet,D1,,,10\n"                     # 4 unknown level
    "Xã Bad Number,C3,commune,D1,,,mười\n"                 # 5 bad number
    "Xã Orphan,C4,commune,NOPE,,,10\n"                     # 6 missing parent
    "Xã Trùng,C1,commune,D1,,,10\n"                        # 7 duplicate code
    ",C5,commune,D1,,,10\n"                                # 8 missing name
    "  Thôn   Một  ,V1,village,C1,,,-4\n"                  # 9 negative number
)


async def test_health_and_metrics(server) -> None:
    api: Api = server.api
    assert await api.call("GET", "/healthz", 200) == {"status": "ok"}
    status, body = await api.call("GET", "/metrics")
    assert status == 200 and b"launchday_connections" in body


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthorized"),
        ({"Authorization": "Bearer nope"}, 401, "unauthorized"),
        ({"Authorization": "Basic abc"}, 401, "unauthorized"),
    ],
)
async def test_organizer_routes_need_a_token(server, headers, status, code) -> None:
    async with aiohttp.ClientSession() as s, s.get(server.base + "/api/events", headers=headers) as r:
        assert r.status == status
        assert (await r.json())["error"]["code"] == code


async def test_roles_and_point_tokens_are_refused(server) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 2, 0)[0])
    viewer = (await api.call("POST", "/api/tokens", 201, json={"name": "Xem", "role": "viewer"}))["token"]
    v = Api(server.base, api.session, viewer)
    assert len(await v.points(eid)) == 4
    assert all("token" not in p for p in await v.points(eid))  # tokens only for admins
    status, body = await v.call("POST", "/api/events", json=EVENT)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, _ = await v.call("POST", f"/api/events/{eid}/notices", json={"text": "x"})
    assert status == 403
    point_token = (await api.points(eid))[0]["token"]
    p = Api(server.base, api.session, point_token)
    for method, path in [("GET", "/api/events"), ("GET", f"/api/events/{eid}/totals"),
                         ("POST", f"/api/events/{eid}/points/import"), ("GET", f"/api/events/{eid}/report.json")]:
        status, body = await p.call(method, path)
        assert status == 403, (method, path)
        assert body["error"]["code"] == "forbidden"


async def test_session_cookie_login(server) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        async with s.post(server.base + "/api/session", json={"token": "wrong"}) as r:
            assert r.status == 401
        async with s.post(server.base + "/api/session", json={"token": server.api.headers["Authorization"][7:]}) as r:
            assert r.status == 200
            cookie = r.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with s.get(server.base + "/api/events") as r:
            assert r.status == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"name": "", "starts_at": EVENT["starts_at"], "report_deadline": EVENT["report_deadline"]}, "validation_error"),
        ({**EVENT, "starts_at": "2025-05-08T08:00:00"}, "validation_error"),
        ({**EVENT, "report_deadline": "tomorrow"}, "validation_error"),
        ({**EVENT, "timezone": "Mars/Olympus"}, "validation_error"),
        ([1, 2], "validation_error"),
    ],
)
async def test_bad_events_are_refused_and_change_nothing(server, body, code) -> None:
    status, data = await server.api.call("POST", "/api/events", json=body)
    assert status == 400 and data["error"]["code"] == code
    assert await server.api.call("GET", "/api/events", 200) == []


async def test_invalid_json_body(server) -> None:
    status, data = await server.api.call("POST", "/api/events", data=b"{nope",
                                         headers={"Content-Type": "application/json"})
    assert status == 400 and data["error"]["code"] == "invalid_json"


async def test_unknown_route_and_event_are_coded_json(server) -> None:
    status, data = await server.api.call("GET", "/api/nothing")
    assert status == 404 and data["error"]["code"] == "not_found"
    status, data = await server.api.call("GET", "/api/events/ev-none/totals")
    assert status == 404 and data["error"]["code"] == "event_not_found"


async def test_dirty_csv_is_reported_row_by_row(server) -> None:
    api: Api = server.api
    eid = await api.event()
    result = await api.import_csv(eid, DIRTY)
    assert (result["created"], result["updated"]) == (2, 0)
    bad = {(e["row"], e["column"]) for e in result["errors"]}
    assert bad == {(4, "level"), (5, "expected"), (6, "parent"), (7, "code"), (8, "name"), (9, "expected")}
    assert all(e["message"] for e in result["errors"])
    names = {p["code"]: p["name"] for p in await api.points(eid)}
    assert names == {"D1": "Huyện Triệu Sơn", "C1": "Xã Dân Lực"}
    again = await api.import_csv(eid, DIRTY)
    assert (again["created"], again["updated"]) == (0, 0)


async def test_dirty_csv_errors_are_coded_with_a_vietnamese_message(server) -> None:
    api: Api = server.api
    eid = await api.event()
    result = await api.import_csv(eid, DIRTY)
    for e in result["errors"]:
        assert {"row", "column", "message", "code", "params", "message_vi"} <= set(e)
    level = next(e for e in result["errors"] if e["column"] == "level")
    assert level["code"] == "unknown_level" and level["message_vi"].startswith("Cấp “")


async def test_a_2000_deep_parent_chain_imports_over_rest(server) -> None:
    """Children first: placing each parent before its child must not recurse."""
    api: Api = server.api
    eid = await api.event()
    lines = [f"N{i},Điểm {i},other,N{i - 1},,,1" for i in range(2000, 0, -1)]
    text = "\n".join(["code,name,level,parent,chair,phone,expected", *lines, "N0,Tỉnh,province,,,,1"]) + "\n"
    result = await api.import_csv(eid, text)
    assert (result["created"], result["errors"]) == (2001, [])
    totals = await api.call("GET", f"/api/events/{eid}/totals", 200)
    assert totals["points"] == 2001


async def test_import_xlsx_multipart_and_update(server) -> None:
    api: Api = server.api
    eid = await api.event()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "name", "level", "parent", "chair", "phone", "expected"])
    sheet.append(["D1", "Huyện Đông Sơn", "district", None, "Trần Văn B", "0987654321", 90])
    sheet.append([101, "Xã Đông Hòa", "commune", "D1", None, None, 40.0])
    buf = io.BytesIO()
    book.save(buf)
    form = aiohttp.FormData()
    form.add_field("file", buf.getvalue(), filename="points.xlsx",
                   content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    result = await api.call("POST", f"/api/events/{eid}/points/import", 200, data=form)
    assert result == {"created": 2, "updated": 0, "errors": []}
    found = await api.points(eid, q="đông")
    assert {p["code"] for p in found} == {"D1", "101"}
    result = await api.import_csv(eid, "code,name,level,expected\n101,Xã Đông Hòa,commune,55\n")
    assert (result["created"], result["updated"]) == (0, 1)
    assert (await api.call("GET", f"/api/events/{eid}/points/101", 200))["expected"] == 55


@pytest.mark.parametrize(
    ("data", "ctype", "code"),
    [
        (b"", "text/csv", "import_invalid"),
        (b"name,level\nX,commune\n", "text/csv", "import_invalid"),
        (b"PK\x03\x04garbage", "application/octet-stream", "import_invalid"),
        ("code,name,level\nA,Tên,commune\n".encode("utf-16"), "text/csv", "import_invalid"),
    ],
)
async def test_unreadable_imports(server, data, ctype, code) -> None:
    eid = await server.api.event()
    status, body = await server.api.call("POST", f"/api/events/{eid}/points/import", data=data,
                                         headers={"Content-Type": ctype})
    assert status == 400 and body["error"]["code"] == code
    assert body["error"]["details"]["message_vi"].endswith(".")  # the reason in Vietnamese too
    assert await server.api.points(eid) == []


async def test_points_search_and_filters(server) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, DIRTY)
    assert [p["code"] for p in await api.points(eid, q="trieu son")] == ["D1"]
    assert [p["code"] for p in await api.points(eid, q="DÂN LỰC")] == ["C1"]
    assert [p["code"] for p in await api.points(eid, level="commune")] == ["C1"]
    assert [p["code"] for p in await api.points(eid, parent="D1")] == ["C1"]
    assert {p["code"] for p in await api.points(eid, status="pending")} == {"D1", "C1"}
    assert await api.points(eid, status="online") == []
    status, body = await api.call("GET", f"/api/events/{eid}/points", params={"status": "lost"})
    assert status == 400 and body["error"]["code"] == "validation_error"


async def test_point_create_patch_delete(server) -> None:
    api: Api = server.api
    eid = await api.event()
    d = await api.call("POST", f"/api/events/{eid}/points", 201,
                       json={"code": "D9", "name": "Huyện Nga Sơn", "level": "district", "expected": 10})
    assert len(d["token"]) >= 22  # ≥ 128 random bits, URL-safe
    await api.call("POST", f"/api/events/{eid}/points", 201,
                   json={"code": "C9", "name": "Xã Nga Thạch", "level": "commune", "parent": "D9"})
    status, body = await api.call("POST", f"/api/events/{eid}/points",
                                  json={"code": "C9", "name": "again", "level": "commune"})
    assert status == 409 and body["error"]["code"] == "duplicate_code"
    status, body = await api.call("PATCH", f"/api/events/{eid}/points/D9", json={"parent": "C9"})
    assert status == 400  # a loop
    status, body = await api.call("PATCH", f"/api/events/{eid}/points/D9", json={"expected": -1})
    assert status == 400 and body["error"]["details"][0]["column"] == "expected"
    patched = await api.call("PATCH", f"/api/events/{eid}/points/C9", 200, json={"expected": 33, "chair": "Lê C"})
    assert (patched["expected"], patched["chair"]) == (33, "Lê C")
    status, body = await api.call("DELETE", f"/api/events/{eid}/points/D9")
    assert status == 409 and body["error"]["code"] == "has_children"
    await api.call("DELETE", f"/api/events/{eid}/points/C9", 204)
    assert (await api.totals(eid))["points"] == 1
    status, body = await api.call("DELETE", f"/api/events/{eid}/points/C9")
    assert status == 404 and body["error"]["code"] == "point_not_found"


async def test_totals_and_reports(server) -> None:
    api: Api = server.api
    eid = await api.event()
    text, n = tree_csv(2, 2, 1)
    await api.import_csv(eid, text)
    totals = await api.totals(eid)
    assert totals["points"] == n and totals["checked_in"] == 0
    assert totals["by_district"]["D0"]["points"] == 1 + 2 + 2  # the district, its communes, their villages
    assert totals["by_district"]["D0"]["name"] == "Huyện Số 0"
    assert totals["by_level"]["province"]["points"] == 1
    report = await api.call("GET", f"/api/events/{eid}/report.json", 200)
    assert report["overall"]["points"] == n
    assert len(report["missing"]) == n
    assert {"code", "name", "chair", "phone", "district_name"} <= set(report["missing"][0])
    status, body = await api.call("GET", f"/api/events/{eid}/report.csv")
    assert status == 200
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][1] == EVENT["name"]
    assert sum(1 for r in rows if r and r[0] == "missing" and r[1] != "code") == n
