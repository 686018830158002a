"""Desks (docs/protocol.md#desks): a token scoped to one point's subtree, over
the public contract on a real server. The leak test walks every organizer
route of the route table and the console socket with a desk's token, through
a morning with changes inside and outside its subtree, and finds nothing of
the outside in any answer, download or frame."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any

import aiohttp
import pytest
from openpyxl import load_workbook

from server.io.http import routes
from server.io.http.auth import STORE_KEY
from tests.io.ws.test_point import connect, request
from tests.utils import Api, timeout, wait_until

# Two communes of a province without districts, each with villages. The desk
# is Xã Trong's: "OUT"/"Ngoài" must never reach it.
REGISTRY = "\n".join([
    "code,name,level,parent,chair,phone,expected",
    "38,Tỉnh Thanh Hóa,province,,Chủ tịch tỉnh,0900000000,300",
    "IN,Xã Trong,commune,38,Chủ tịch Trong,0911000000,50",
    "IN-1,Thôn Trong Một,village,IN,Trưởng thôn Trong,0911000001,20",
    "IN-2,Thôn Trong Hai,village,IN,Trưởng thôn Trong,0911000002,20",
    "OUT,Xã Ngoài,commune,38,Chủ tịch Ngoài,0922000000,50",
    "OUT-1,Thôn Ngoài Một,village,OUT,Trưởng thôn Ngoài,0922000001,20",
    "OUT-2,Thôn Ngoài Hai,village,OUT,Trưởng thôn Ngoài,0922000002,20",
]) + "\n"
# (The province's code "38" is the desk's root's own parent: part of its record, not a leak.)
OUTSIDE_CODES = ("OUT", "OUT-1", "OUT-2")
OUTSIDE_WORDS = ("Ngoài", "Ngoai", "0922", "Tỉnh Thanh Hóa", "Chủ tịch tỉnh")


class Morning:
    """An event, a desk for Xã Trong, and a morning's changes on both sides."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.api: Api = server.api
        self.tokens: dict[str, str] = {}
        self.incidents: dict[str, str] = {}

    async def setup(self, role: str = "operator") -> Morning:
        self.eid = await self.api.event(group_level="commune")
        await self.api.import_csv(self.eid, REGISTRY)
        self.tokens = {p["code"]: p["token"] for p in await self.api.points(self.eid)}
        issued = await self.api.call("POST", "/api/tokens", 201, json={
            "name": "Bàn Xã Trong", "role": role, "scope": {"event": self.eid, "point": "IN"}})
        self.desk_id, self.desk_token = issued["id"], issued["token"]
        self.desk = Api(self.server.base, self.api.session, self.desk_token)
        return self

    async def changes(self, tag: str) -> None:
        """Check-ins, counts and incidents inside and outside the subtree."""
        async with aiohttp.ClientSession() as s:
            for code in ("IN-1", "OUT-1", "OUT", "38"):
                ws = await connect(self.server, s, self.tokens[code])
                assert (await request(ws, {"type": "checkin", "id": f"{tag}c", "attendees": 11}))["type"] == "ack"
                assert (await request(ws, {"type": "attendees", "id": f"{tag}a", "count": 12}))["type"] == "ack"
                opened = await request(ws, {"type": "incident", "id": f"{tag}i", "kind": "audio",
                                            "note": f"Mất tiếng {code}"})
                self.incidents[code] = opened["incident"]
                await ws.close()
        await self.api.call("POST", f"/api/events/{self.eid}/notices", 201, json={"text": "Chuẩn bị", "group": "OUT"})
        await self.api.call("POST", f"/api/events/{self.eid}/notices", 201, json={"text": "Toàn tỉnh"})


def _leaks(body: bytes | str, tokens: dict[str, str]) -> list[str]:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    found = [w for w in OUTSIDE_WORDS if w in text]
    found += [f"token of {c}" for c in (*OUTSIDE_CODES, "38") if tokens[c] in text]
    for code in OUTSIDE_CODES:
        for quoted in (f'"{code}"', f",{code},", f"({code})", f"\n{code},"):
            if quoted in text:
                found.append(f"code {code}")
    return found


def _xlsx_text(body: bytes) -> str:
    wb = load_workbook(io.BytesIO(body))
    return "\n".join(",".join("" if v is None else str(v) for v in row)
                     for ws in wb.worksheets for row in ws.iter_rows(values_only=True))


def _concrete(path: str, eid: str, iid: str) -> str:
    for k, v in {"{eid}": eid, "{code}": "IN-1", "{iid}": iid, "{kid}": "nope", "{tid}": "nope",
                 "{action}": "start", r"{fmt:json|csv}": "json", r"{fmt:xlsx|html}": "html",
                 r"{n:\d+}.{fmt:json|csv|xlsx|html}": "1.json"}.items():
        path = path.replace(k, v)
    return path


DOWNLOADS = ("/report.json", "/report.csv", "/report.xlsx", "/report.html", "/links.csv", "/links.html",
             "/audit", "/timeline", "/totals", "/incidents", "/points", "/launch", "/agenda")


async def test_a_desk_sees_nothing_outside_its_subtree(server) -> None:
    """Catches any route, download or console frame that returns something of
    another unit to a desk (the route table's desk rule removed or weakened on
    one route, a handler that forgets the subtree, a delta built for the whole
    province): every answer is searched for the outside's codes, names,
    phones and tokens."""
    m = await Morning(server).setup()
    frames: list[str] = []
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {m.desk_token}"}) as s:
        console = await s.ws_connect(f"{server.ws}/ws/console?event={m.eid}")

        async def read() -> None:
            async for msg in console:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    frames.append(msg.data)

        reader = asyncio.create_task(read())
        await wait_until(lambda: frames, timeout(5), "the desk's snapshot")
        await m.changes("m1")
        await wait_until(lambda: any('"IN-1"' in f and '"delta"' in f for f in frames), timeout(5),
                         "a delta with the desk's own check-in")
        iid = m.incidents["IN-1"]
        checked: list[str] = []
        for route in routes.ROUTES:
            if route.desk is None:
                continue
            path = _concrete(route.path, m.eid, iid)
            if route.method == "WS":
                continue  # the console socket: read above
            if route.desk.reach == "forbidden":
                status, body = await m.desk.call(route.http_method, path, json={} if route.http_method != "GET" else None)
                assert status == 403 and body["error"]["code"] == "forbidden", (route.path, status, body)
                continue
            if route.http_method != "GET":
                continue  # the desk's own powers are tested below
            status, body = await m.desk.call("GET", path)
            assert status == 200, (route.path, status, body)
            raw = json.dumps(body, ensure_ascii=False) if isinstance(body, (dict, list)) else body
            assert _leaks(raw, m.tokens) == [], route.path
            checked.append(route.path)
        for tail in DOWNLOADS:
            status, body = await m.desk.call("GET", f"/api/events/{m.eid}{tail}")
            assert status == 200, (tail, status)
            raw = json.dumps(body, ensure_ascii=False) if isinstance(body, (dict, list)) else body
            if tail.endswith(".xlsx"):
                raw = _xlsx_text(body)
            assert _leaks(raw, m.tokens) == [], tail
        # a second round of changes, then the frames so far
        await m.changes("m2")
        # Every change of the second round, inside and outside, reached the
        # desk's deltas: one has been sent at (or past) the event's last seq.
        last = server.app[STORE_KEY].event(m.eid).state.seq
        await wait_until(lambda: any(json.loads(f).get("seq", 0) >= last for f in frames if '"delta"' in f),
                         timeout(5), "a delta past the second round")
        reader.cancel()
        await console.close()
    assert checked, "no route walked"
    for frame in frames:
        assert _leaks(frame, m.tokens) == [], frame[:300]
    snapshot = json.loads(frames[0])
    assert snapshot["type"] == "snapshot" and {p["code"] for p in snapshot["points"]} == {"IN", "IN-1", "IN-2"}
    assert snapshot["totals"]["points"] == 3


async def test_a_desk_acts_inside_its_subtree_only(server) -> None:
    """Catches a desk that can resolve, rotate or notify outside its unit, or
    reach another event; and a desk's totals that count the province."""
    m = await Morning(server).setup()
    await m.changes("a")
    d, eid = m.desk, m.eid
    me = await d.call("GET", "/api/me", 200)
    assert me["scope"]["event"] == eid and me["scope"]["point"] == "IN" and me["role"] == "operator"
    assert [e["id"] for e in await d.call("GET", "/api/events", 200)] == [eid]
    other = await m.api.event()
    status, body = await d.call("GET", f"/api/events/{other}")
    assert status == 403 and body["error"]["code"] == "out_of_scope"
    totals = await d.call("GET", f"/api/events/{eid}/totals", 200)
    assert totals["points"] == 3 and totals["checked_in"] == 1 and totals["attendees"] == 12
    points = await d.call("GET", f"/api/events/{eid}/points", 200)
    assert {p["code"] for p in points} == {"IN", "IN-1", "IN-2"} and all(p["token"] for p in points)
    status, body = await d.call("GET", f"/api/events/{eid}/points/OUT-1")
    assert status == 403 and body["error"]["code"] == "out_of_scope"
    # resolve: inside yes, outside no
    await d.call("POST", f"/api/events/{eid}/incidents/{m.incidents['IN-1']}/resolve", 200)
    status, body = await d.call("POST", f"/api/events/{eid}/incidents/{m.incidents['OUT-1']}/resolve")
    assert status == 403 and body["error"]["code"] == "out_of_scope"
    # rotate a link: inside yes, outside no
    rotated = await d.call("POST", f"/api/events/{eid}/points/IN-2/token", 200)
    assert rotated["token"] != m.tokens["IN-2"]
    status, _ = await d.call("POST", f"/api/events/{eid}/points/OUT-2/token")
    assert status == 403
    # notices: to its subtree only
    sent = await d.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Xã Trong chuẩn bị"})
    assert sent["point"] == "IN"
    status, body = await d.call("POST", f"/api/events/{eid}/notices", json={"text": "x", "group": "OUT"})
    assert status == 403 and body["error"]["code"] == "out_of_scope"
    async with aiohttp.ClientSession() as s:
        inside = await connect(server, s, m.tokens["IN-1"])
        outside = await connect(server, s, m.tokens["OUT-1"])
        await d.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Chỉ xã Trong"})
        got = await inside.receive_json(timeout=timeout(5))
        assert got["type"] == "notice" and got["text"] == "Chỉ xã Trong"
        with pytest.raises(asyncio.TimeoutError):
            await outside.receive_json(timeout=0.5)
    # no launch, agenda, import, events or tokens
    for method, path, body in (("POST", f"/api/events/{eid}/launch/arm", {"countdown_ms": 5000, "keys_required": 1}),
                               ("POST", f"/api/events/{eid}/agenda/start", {}),
                               ("PATCH", f"/api/events/{eid}", {"name": "x"}),
                               ("POST", "/api/tokens", {"name": "x", "role": "viewer"}),
                               ("GET", "/api/tokens", None)):
        status, answer = await d.call(method, path, json=body)
        assert status == 403 and answer["error"]["code"] == "forbidden", (path, status)


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"name": "x", "role": "admin", "scope": {"event": "{eid}", "point": "IN"}}, 400, "admin_unscoped"),
    ({"name": "x", "role": "viewer", "scope": {"event": "ev-nope", "point": "IN"}}, 404, "event_not_found"),
    ({"name": "x", "role": "viewer", "scope": {"event": "{eid}", "point": "NOPE"}}, 404, "point_not_found"),
    ({"name": "x", "role": "viewer", "scope": {"event": "{eid}"}}, 400, "validation_error"),
    ({"name": "x", "role": "viewer", "scope": {"event": "{eid}", "point": "IN", "extra": 1}}, 400, "unknown_field"),
    ({"name": "x", "role": "viewer", "scope": "IN"}, 400, "validation_error"),
])
async def test_a_bad_scope_is_refused_and_creates_nothing(server, body, status, code) -> None:
    """Catches a scoped admin, a scope naming nothing, or a malformed scope
    that still makes a token (an organizer who thinks it is limited)."""
    m = await Morning(server).setup()
    before = await m.api.call("GET", "/api/tokens", 200)
    text = json.dumps(body).replace("{eid}", m.eid)
    got, answer = await m.api.call("POST", "/api/tokens", data=text, headers={"Content-Type": "application/json"})
    assert got == status and answer["error"]["code"] == code, answer
    assert await m.api.call("GET", "/api/tokens", 200) == before


async def test_revoking_a_desk_shuts_it_out_and_closes_its_console(server) -> None:
    """Catches a revoked desk that keeps its console socket (or its REST access)."""
    m = await Morning(server).setup(role="viewer")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {m.desk_token}"}) as s:
        console = await s.ws_connect(f"{server.ws}/ws/console")
        assert (await console.receive_json(timeout=timeout(5)))["type"] == "snapshot"
        await m.api.call("DELETE", f"/api/tokens/{m.desk_id}", 204)
        msg = await console.receive(timeout=timeout(5))
        while msg.type == aiohttp.WSMsgType.TEXT:
            msg = await console.receive(timeout=timeout(5))
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED) and console.close_code == 4403
    status, _ = await m.desk.call("GET", f"/api/events/{m.eid}/totals")
    assert status == 401


async def test_desks_in_bulk_once_with_their_sheet(server) -> None:
    """Catches a second run that creates desks again, and a sheet that names
    no log-in link; the province's Desks view shows each desk's progress."""
    m = await Morning(server).setup()
    first = await m.api.call("POST", f"/api/events/{m.eid}/desks", 201, json={"level": "commune"})
    assert [d["point"] for d in first["created"]] == ["OUT"] and [d["point"] for d in first["existing"]] == ["IN"]
    assert all(d["login_url"].endswith(d["token"]) for d in first["created"])
    again = await m.api.call("POST", f"/api/events/{m.eid}/desks", 200, json={"level": "commune"})
    assert again["created"] == [] and {d["point"] for d in again["existing"]} == {"IN", "OUT"}
    status, sheet = await m.api.call("POST", f"/api/events/{m.eid}/desks?format=csv", json={"level": "village"})
    rows = list(csv.reader(io.StringIO(sheet.decode("utf-8-sig"))))
    assert status == 200 and len(rows) == 1 + 4 and all(r[4].startswith("http") for r in rows[1:])
    status, body = await m.api.call("POST", f"/api/events/{m.eid}/desks", json={"level": "hamlet"})
    assert status == 400 and body["error"]["code"] == "validation_error"
    await m.changes("b")
    view = await m.api.call("GET", f"/api/events/{m.eid}/desks", 200)
    trong = next(d for d in view if d["point"] == "IN")
    assert trong["points"] == 3 and trong["checked_in"] == 1 and trong["incidents_open"] == 1
    status, body = await m.desk.call("GET", f"/api/events/{m.eid}/desks")
    assert status == 403 and body["error"]["code"] == "forbidden"


async def test_the_audit_names_each_desk_its_unit_and_its_actions(server) -> None:
    """Catches a desk's creation or revocation in the tokens' audit without
    its unit (or a revocation that does not say whose token), and a desk's
    resolve, notice or link rotation in the event's audit under another name."""
    m = await Morning(server).setup()
    await m.changes("a")
    d, eid = m.desk, m.eid
    await d.call("POST", f"/api/events/{eid}/incidents/{m.incidents['IN-1']}/resolve", 200)
    await d.call("POST", f"/api/events/{eid}/notices", 201, json={"text": "Xã Trong chuẩn bị"})
    await d.call("POST", f"/api/events/{eid}/points/IN-2/token", 200)
    await m.api.call("DELETE", f"/api/tokens/{m.desk_id}", 204)
    org = (await m.api.call("GET", "/api/tokens/audit", 200))["items"]
    revoked, issued = org[0], org[1]
    assert issued["type"] == "org.token_issued" and issued["target"] == "IN"
    assert "“Bàn Xã Trong”" in issued["summary"] and f"bàn của đơn vị IN (sự kiện {eid})" in issued["summary"]
    assert "the desk of the unit IN" in issued["summary_en"]
    assert revoked["type"] == "org.token_revoked" and revoked["target"] == "IN"
    assert revoked["summary"] == (f"Thu hồi mã truy cập {m.desk_id} của “Bàn Xã Trong”, "
                                  f"bàn của đơn vị IN (sự kiện {eid})")
    items = (await m.api.call("GET", f"/api/events/{eid}/audit", 200))["items"]
    by_desk = {i["type"] for i in items if i["actor"] == "Bàn Xã Trong"}
    assert {"incident.resolved", "notice.sent", "point.token_rotated"} <= by_desk, items


async def test_bulk_desks_with_both_sheets_in_the_json_answer(server) -> None:
    """Catches the console's bulk action (``sheets=1``) getting sheets that
    are not the created desks', or a bad ``sheets`` or ``format`` that still
    creates desks."""
    m = await Morning(server).setup()
    for query in ("format=pdf", "sheets=yes"):
        status, body = await m.api.call("POST", f"/api/events/{m.eid}/desks?{query}", json={"level": "village"})
        assert status == 400 and body["error"]["code"] == "validation_error", query
    assert [t for t in await m.api.call("GET", "/api/tokens", 200) if t["scope"]] != []
    assert len(await m.api.call("GET", f"/api/events/{m.eid}/desks", 200)) == 1  # Xã Trong's only
    out = await m.api.call("POST", f"/api/events/{m.eid}/desks?sheets=1", 201, json={"level": "village"})
    rows = list(csv.reader(io.StringIO(out["csv"].lstrip("\ufeff"))))
    assert sorted(r[4] for r in rows[1:]) == sorted(d["login_url"] for d in out["created"])
    assert out["html"].count("<svg") == len(out["created"]) == 4
    plain = await m.api.call("POST", f"/api/events/{m.eid}/desks", 200, json={"level": "village"})
    assert "csv" not in plain and "html" not in plain and plain["created"] == []
