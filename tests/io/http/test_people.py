"""People over REST: editing an event, key holders (their link, page, press,
revocation, audit), organizer tokens' login link and last use, and an agenda
edit while the agenda runs (refused)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from server.io.limits import AUTH_ADDRESS_FAIL_BURST
from tests.utils import ADMIN, Api, timeout


async def ws_frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame = await ws.receive_json(timeout=timeout(5))
        if frame["type"] == kind:
            return frame


def iso_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_edit_an_event_and_the_deadline_timer_follows(server) -> None:
    api: Api = server.api
    eid = await api.event()
    async with aiohttp.ClientSession() as s:
        console = await s.ws_connect(f"{server.ws}/ws/console?event={eid}",
                                     headers={"Authorization": f"Bearer {ADMIN}"})
        await ws_frame(console, "snapshot")
        edited = await api.call("PATCH", f"/api/events/{eid}", 200,
                                json={"name": "Lễ phát động (giờ mới)", "report_deadline": iso_in(0.5)})
        assert edited["name"] == "Lễ phát động (giờ mới)"
        pushed = await ws_frame(console, "event")
        assert pushed["event"]["name"] == "Lễ phát động (giờ mới)"
        # The new deadline (half a second away) takes the automatic report.
        snap = await ws_frame(console, "report.snapshot")
        assert snap["snapshot"]["automatic"] is True
        await console.close()
    again = await api.call("GET", f"/api/events/{eid}", 200)
    assert again == edited
    refused = await api.call("PATCH", f"/api/events/{eid}", 400, json={"starts_at": "08:00"})
    assert refused["error"]["code"] == "validation_error"
    assert (await api.call("GET", f"/api/events/{eid}", 200)) == edited
    audit = await api.call("GET", f"/api/events/{eid}/audit", 200)
    assert any(i["type"] == "event.edited" and i["summary"] == "Sửa sự kiện: tên, hạn chốt báo cáo"
               for i in audit["items"])


async def test_only_an_admin_edits_an_event(server) -> None:
    api: Api = server.api
    eid = await api.event()
    op = await api.call("POST", "/api/tokens", 201, json={"name": "Anh Nam", "role": "operator"})
    status, body = await Api(server.base, api.session, op["token"]).call("PATCH", f"/api/events/{eid}",
                                                                          json={"name": "x"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, _ = await api.call("PATCH", "/api/events/ev-nope", json={"name": "x"})
    assert status == 404


async def test_key_holders_link_page_press_and_revoke(server) -> None:
    api: Api = server.api
    eid = await api.event()
    op = await api.call("POST", "/api/tokens", 201, json={"name": "Chị Lan", "role": "operator"})
    operator = Api(server.base, api.session, op["token"])
    a = await operator.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Chủ tịch UBND tỉnh"})
    b = await operator.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Bí thư Tỉnh ủy"})
    assert a["url"] == f"{server.base}/k/{a['token']}" and a["qr_svg"].startswith("<svg")
    dup = await operator.call("POST", f"/api/events/{eid}/keyholders", 409, json={"name": "chu tich ubnd tinh"})
    assert dup["error"]["code"] == "duplicate_keyholder"
    listed = await api.call("GET", f"/api/events/{eid}/keyholders", 200)
    assert [h["name"] for h in listed] == ["Chủ tịch UBND tỉnh", "Bí thư Tỉnh ủy"]
    assert all("token" not in h and "token_hash" not in h for h in listed)

    async with api.session.get(f"{server.base}/k/{a['token']}") as resp:
        assert resp.status == 200 and "keyholder.js" in await resp.text()
    holder_a = Api(server.base, api.session, a["token"])
    holder_b = Api(server.base, api.session, b["token"])
    me = await holder_a.call("GET", "/api/keyholder", 200)
    assert me["name"] == "Chủ tịch UBND tỉnh" and me["event"]["id"] == eid and me["launch"]["state"] == "idle"
    # A key holder's link does nothing else.
    for method, path in [("GET", "/api/events"), ("GET", f"/api/events/{eid}/points"), ("GET", "/api/me"),
                         ("POST", f"/api/events/{eid}/launch/press"), ("POST", f"/api/events/{eid}/launch/arm")]:
        status, body = await holder_a.call(method, path, json={"key": "x"})
        assert status == 403 and body["error"]["code"] == "forbidden", (method, path)
    not_armed = await holder_a.call("POST", "/api/keyholder/press", 409)
    assert not_armed["error"]["code"] == "launch_not_armed"

    await operator.call("POST", f"/api/events/{eid}/launch/arm", 200,
                        json={"countdown_ms": 3000, "keys_required": 2, "rehearsal": True})
    one = await holder_a.call("POST", "/api/keyholder/press", 200, json={"key": "someone else"})
    assert one["keys_pressed"] == ["Chủ tịch UBND tỉnh"] and one["state"] == "armed"
    again = await holder_a.call("POST", "/api/keyholder/press", 409)
    assert again["error"]["code"] == "key_already_pressed"
    two = await holder_b.call("POST", "/api/keyholder/press", 200)
    assert two["state"] == "countdown" and two["keys_pressed"] == ["Chủ tịch UBND tỉnh", "Bí thư Tỉnh ủy"]

    await operator.call("DELETE", f"/api/events/{eid}/keyholders/{a['id']}", 204)
    status, body = await holder_a.call("GET", "/api/keyholder")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    async with api.session.get(f"{server.base}/k/{a['token']}") as resp:
        assert resp.status == 404 and "Liên kết không còn hiệu lực" in await resp.text()
    await operator.call("DELETE", f"/api/events/{eid}/keyholders/{a['id']}", 404)
    viewer = await api.call("POST", "/api/tokens", 201, json={"name": "Xem", "role": "viewer"})
    status, _ = await Api(server.base, api.session, viewer["token"]).call(
        "POST", f"/api/events/{eid}/keyholders", json={"name": "Ai đó"})
    assert status == 403

    audit = await api.call("GET", f"/api/events/{eid}/audit", 200)
    summaries = [(i["actor"], i["summary"]) for i in audit["items"]]
    assert ("Chị Lan", "Thêm người bấm nút “Chủ tịch UBND tỉnh”") in summaries
    assert ("Chị Lan", "Thu hồi liên kết người bấm nút “Chủ tịch UBND tỉnh”") in summaries
    assert ("Bí thư Tỉnh ủy", "Bấm nút: Bí thư Tỉnh ủy") in summaries


async def test_organizer_token_login_link_last_use_and_audit(server) -> None:
    api: Api = server.api
    made = await api.call("POST", "/api/tokens", 201, json={"name": "Máy tính bảng 1", "role": "operator"})
    assert made["login_url"] == f"{server.base}/console/#token={made['token']}"
    assert made["qr_svg"].startswith("<svg")
    (row,) = [t for t in await api.call("GET", "/api/tokens", 200) if t["id"] == made["id"]]
    assert row["last_used_ms"] is None
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as tablet:  # the login page exchanges the token for the cookie
        async with tablet.post(f"{server.base}/api/session", json={"token": made["token"]}) as resp:
            assert resp.status == 200
        async with tablet.get(f"{server.base}/api/me") as resp:
            assert (await resp.json())["name"] == "Máy tính bảng 1"
    (row,) = [t for t in await api.call("GET", "/api/tokens", 200) if t["id"] == made["id"]]
    assert row["last_used_ms"] is not None
    await api.call("DELETE", f"/api/tokens/{made['id']}", 204)
    audit = await api.call("GET", "/api/tokens/audit", 200)
    assert [i["summary"] for i in audit["items"]][:2] == [
        f"Thu hồi mã truy cập {made['id']} của “Máy tính bảng 1”", "Cấp mã truy cập cho “Máy tính bảng 1” (điều hành)"]
    status, _ = await Api(server.base, api.session, made["token"]).call("GET", "/api/tokens/audit")
    assert status == 401


async def test_agenda_edit_while_running_is_refused_and_changes_nothing(server) -> None:
    api: Api = server.api
    eid = await api.event()
    items = [{"title": "Khai mạc", "speaker": "", "location": None, "planned_s": 60},
             {"title": "Phát biểu", "speaker": "Chủ tịch", "location": None, "planned_s": 300}]
    await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": items})
    await api.call("POST", f"/api/events/{eid}/agenda/start", 200)
    refused = await api.call("PUT", f"/api/events/{eid}/agenda", 409, json={"items": items[:1]})
    assert refused["error"]["code"] == "agenda_running"
    agenda = await api.call("GET", f"/api/events/{eid}/agenda", 200)
    assert agenda["state"] == "running" and [i["title"] for i in agenda["items"]] == ["Khai mạc", "Phát biểu"]
    await api.call("POST", f"/api/events/{eid}/agenda/pause", 200)
    await api.call("PUT", f"/api/events/{eid}/agenda", 409, json={"items": items[:1]})
    await api.call("POST", f"/api/events/{eid}/agenda/finish", 200)
    done = await api.call("PUT", f"/api/events/{eid}/agenda", 200, json={"items": items[:1]})
    assert done["state"] == "not_started" and len(done["items"]) == 1


async def test_an_edited_event_and_key_holders_survive_kill_9(tmp_path) -> None:
    """Replayed from the journal (the trusted decode) after a kill -9."""
    import signal

    from tests.utils import ServerProcess

    data = tmp_path / "data"
    srv = await ServerProcess(data).start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid = await api.event()
            edited = await api.call("PATCH", f"/api/events/{eid}", 200, json={"name": "Lễ phát động (sửa)"})
            a = await api.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Chủ tịch UBND tỉnh"})
            b = await api.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Bí thư Tỉnh ủy"})
            await api.call("DELETE", f"/api/events/{eid}/keyholders/{b['id']}", 204)
            holders = await api.call("GET", f"/api/events/{eid}/keyholders", 200)
        assert srv.kill(signal.SIGKILL) == -signal.SIGKILL
        srv = await ServerProcess(data, srv.port).start()
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            assert await api.call("GET", f"/api/events/{eid}", 200) == edited
            assert await api.call("GET", f"/api/events/{eid}/keyholders", 200) == holders
            me = await Api(srv.base, s, a["token"]).call("GET", "/api/keyholder", 200)
            assert me["name"] == "Chủ tịch UBND tỉnh"
            status, _ = await Api(srv.base, s, b["token"]).call("GET", "/api/keyholder")
            assert status == 401
    finally:
        srv.stop()


async def test_guessing_key_holder_links_is_rate_limited(server) -> None:
    """Catches key holder links that can be guessed at full speed, and a
    valid link refused because its address guessed wrong before."""
    api: Api = server.api
    eid = await api.event()
    holder = await api.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Bí thư Tỉnh ủy"})
    statuses = []
    for i in range(AUTH_ADDRESS_FAIL_BURST + 2):
        status, _ = await Api(server.base, api.session, f"guess-{i:04d}-{'x' * 20}").call("GET", "/api/keyholder")
        statuses.append(status)
    assert statuses == [401] * AUTH_ADDRESS_FAIL_BURST + [429, 429], statuses
    assert (await Api(server.base, api.session, holder["token"]).call("GET", "/api/keyholder", 200))["name"] \
        == "Bí thư Tỉnh ủy"
