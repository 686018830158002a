"""GET /api/admin-units/registry.csv (docs/protocol.md#admin-units-registry):
the same sheet as ``launchday registry``; bad names are coded errors with
candidates; admins only. And coordinates over REST (docs/protocol.md#points)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from server.core import admin_units
from server.io.cli_registry import render
from server.io.http.auth import STORE_KEY
from tests.utils import Api, tree_csv

PATH = "/api/admin-units/registry.csv"


async def test_a_province_sheet_is_the_cli_sheet(server: Any) -> None:
    """Catches the console's download drifting from `launchday registry`."""
    api: Api = server.api
    async with api.session.get(server.base + PATH, params={"province": "thanh hoa"}, headers=api.headers) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/csv"
        assert "attachment" in resp.headers["Content-Disposition"]
        body = await resp.read()
    province = admin_units.match_province("Thanh Hóa")
    assert body.decode("utf-8") == render(admin_units.registry_rows(province.code), bom=True)
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0]["level"] == "province" and len(rows) == 1 + len(admin_units.load().units_of(province.code))


async def test_all_is_the_country(server: Any) -> None:
    """Catches ?all=1 answering one province or nothing."""
    api: Api = server.api
    async with api.session.get(server.base + PATH, params={"all": "1"}, headers=api.headers) as resp:
        assert resp.status == 200
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert len(rows) == 1 + 34 + 3321


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"province": "Atlantis"}, 404, "province_unknown"),
    ({"province": "Thanh Hoaa"}, 404, "province_unknown"),
    ({"province": "Hà"}, 400, "province_ambiguous"),
    ({}, 400, "province_unknown"),
    ({"province": "  "}, 400, "province_unknown"),
    ({"all": "yes"}, 400, "province_unknown"),
])
async def test_a_bad_name_is_a_coded_error_with_candidates(server: Any, params: dict[str, str], status: int,
                                                           code: str) -> None:
    """Catches an unknown or ambiguous name answering some province's sheet (or a 500)."""
    err = await server.api.call("GET", PATH, status, params=params)
    assert err["error"]["code"] == code
    assert isinstance(err["error"]["details"]["candidates"], list)
    if status == 400 and code == "province_ambiguous":
        assert len(err["error"]["details"]["candidates"]) >= 2


async def test_only_admins_download_it(server: Any) -> None:
    """Catches the route left open to operators or to anyone."""
    api: Api = server.api
    issued = await api.call("POST", "/api/tokens", 201, json={"name": "Ca trực", "role": "operator"})
    operator = Api(server.base, api.session, issued["token"])
    err = await operator.call("GET", PATH, 403, params={"province": "Thanh Hóa"})
    assert err["error"]["code"]
    async with api.session.get(server.base + PATH, params={"province": "Thanh Hóa"}) as resp:
        assert resp.status == 401


async def test_coordinates_over_rest_and_a_bad_one_changes_nothing(server: Any) -> None:
    """Catches lat/lon refused by create/patch, missing from the view, or an
    out-of-range value journaled."""
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    made = await api.call("POST", f"/api/events/{eid}/points", 201, json={
        "code": "GEO", "name": "Điểm có tọa độ", "level": "other", "lat": 19.8, "lon": 105.77})
    assert (made["lat"], made["lon"]) == (19.8, 105.77)
    rt = server.app[STORE_KEY].event(eid)
    seq = rt.state.seq
    err = await api.call("PATCH", f"/api/events/{eid}/points/GEO", 400, json={"lat": 123})
    assert err["error"]["code"] == "validation_error"
    assert [(d["column"], d["code"]) for d in err["error"]["details"]] == [("lat", "bad_coordinate")]
    assert rt.state.seq == seq
    patched = await api.call("PATCH", f"/api/events/{eid}/points/GEO", 200, json={"lon": None})
    assert (patched["lat"], patched["lon"]) == (19.8, None)
