"""The link sheet: links.csv and the printable links.html whose QR codes decode
to each point's own absolute /p/<token> link."""

from __future__ import annotations

import base64
import csv
import io
import re
from typing import Any

import aiohttp
import pytest
import zxingcpp
from PIL import Image

from tests.utils import Api, tree_csv

CARD = re.compile(r'<article class="card" data-code="([^"]+)">\s*<img class="qr" alt="[^"]*" '
                  r'src="data:image/png;base64,([A-Za-z0-9+/=]+)">')


async def _event(server: Any) -> tuple[str, dict[str, dict[str, Any]]]:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(2, 2, 1)[0])
    return eid, {p["code"]: p for p in await api.points(eid)}


async def _get(server: Any, path: str, api: Api | None = None) -> tuple[int, str, bytes]:
    api = api or server.api
    async with api.session.get(server.base + path, headers=api.headers) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.read()


def _decode(png_b64: str) -> list[str]:
    image = Image.open(io.BytesIO(base64.b64decode(png_b64)))
    return [r.text for r in zxingcpp.read_barcodes(image)]


async def test_links_csv(server: Any) -> None:
    eid, points = await _event(server)
    status, ctype, body = await _get(server, f"/api/events/{eid}/links.csv")
    assert status == 200 and ctype.startswith("text/csv")
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert list(rows[0]) == ["code", "name", "chair", "phone", "url"]
    assert sorted(r["code"] for r in rows) == sorted(points)
    for r in rows:
        p = points[r["code"]]
        assert (r["name"], r["chair"], r["phone"]) == (p["name"], p["chair"], p["phone"])
        assert r["url"] == f"{server.base}/p/{p['token']}"
    # Province-level points first, then district by district (by name), import order inside.
    assert [r["code"] for r in rows] == ["TH", "D0", "D0-C0", "D0-C0-V0", "D0-C1", "D0-C1-V0",
                                         "D1", "D1-C0", "D1-C0-V0", "D1-C1", "D1-C1-V0"]

    status, _, body = await _get(server, f"/api/events/{eid}/links.csv?district=D1")
    codes = [r["code"] for r in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))]
    assert status == 200 and codes == ["D1", "D1-C0", "D1-C0-V0", "D1-C1", "D1-C1-V0"]


async def test_links_html_qr_codes_decode(server: Any) -> None:
    eid, points = await _event(server)
    status, ctype, body = await _get(server, f"/api/events/{eid}/links.html")
    assert status == 200 and ctype.startswith("text/html")
    page = body.decode("utf-8")
    assert "Lễ phát động phong trào" in page and "Danh sách liên kết điểm cầu" in page
    assert "@page" in page and "break-inside: avoid" in page and "break-before: page" in page
    cards = CARD.findall(page)
    assert sorted(code for code, _ in cards) == sorted(points), "one QR per point"
    for code, png in cards:
        assert _decode(png) == [f"{server.base}/p/{points[code]['token']}"], code
    # Level, district, chair and phone are printed with each card.
    card = page[page.index('data-code="D0-C1"'):]
    card = card[:card.index("</article>")]
    for text in ("Xã 0-1", "Xã, phường, đặc khu", "Huyện Số 0", points["D0-C1"]["chair"], points["D0-C1"]["phone"]):
        assert text in card

    status, _, body = await _get(server, f"/api/events/{eid}/links.html?district=D0")
    cards = CARD.findall(body.decode())
    assert status == 200 and [c for c, _ in cards] == ["D0", "D0-C0", "D0-C0-V0", "D0-C1", "D0-C1-V0"]


async def test_public_url_override(server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    eid, points = await _event(server)
    monkeypatch.setenv("LAUNCHDAY_PUBLIC_URL", "https://phatdong.example.vn/")
    _, _, body = await _get(server, f"/api/events/{eid}/links.csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert {r["url"] for r in rows} == {f"https://phatdong.example.vn/p/{p['token']}" for p in points.values()}
    _, _, body = await _get(server, f"/api/events/{eid}/links.html?district=D1")
    code, png = CARD.findall(body.decode())[0]
    assert _decode(png) == [f"https://phatdong.example.vn/p/{points[code]['token']}"]


async def test_links_need_admin(server: Any) -> None:
    eid, points = await _event(server)
    issued = await server.api.call("POST", "/api/tokens", 201, json={"name": "Xem", "role": "viewer"})
    async with aiohttp.ClientSession() as session:
        viewer = Api(server.base, session, issued["token"])
        point = Api(server.base, session, points["D0"]["token"])
        anonymous = Api(server.base, session, "")
        for path in ("links.csv", "links.html"):
            status, body = await viewer.call("GET", f"/api/events/{eid}/{path}")
            assert (status, body["error"]["code"]) == (403, "forbidden")
            status, body = await point.call("GET", f"/api/events/{eid}/{path}")
            assert (status, body["error"]["code"]) == (403, "forbidden")
            status, body = await anonymous.call("GET", f"/api/events/{eid}/{path}")
            assert (status, body["error"]["code"]) == (401, "unauthorized")
    for query, status, code in [("?district=NOPE", 404, "point_not_found"), ("?district=D0-C0", 400, "validation_error")]:
        got, body = await server.api.call("GET", f"/api/events/{eid}/links.html{query}")
        assert (got, body["error"]["code"]) == (status, code)
    got, body = await server.api.call("GET", "/api/events/nope/links.csv")
    assert (got, body["error"]["code"]) == (404, "event_not_found")


async def test_service_worker_is_served(server: Any) -> None:
    async with server.api.session.get(server.base + "/checkin-sw.js") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/javascript")
        assert "launchday-checkin" in await resp.text()
