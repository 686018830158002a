"""``GET /api/admin-units/registry.csv``: the import sheet of a province (or
of the country) from the official list of administrative units, the same
file as ``launchday registry`` (server/io/cli_registry.py;
docs/protocol.md#admin-units-registry).

``?province=NAME`` (diacritics, case and "Tỉnh"/"Thành phố" optional) or
``?all=1``. A name that matches no province is a 404 ``province_unknown``,
several a 400 ``province_ambiguous``; both carry ``details.candidates``.
Neither parameter is a 400 ``province_unknown`` listing every province.
"""

from __future__ import annotations

from aiohttp import web

from server.core import admin_units
from server.core.errors import BadRequest, NotFound
from server.io.cli_registry import render


async def registry_csv(request: web.Request) -> web.Response:
    data = admin_units.load()
    query = request.query
    if query.get("all") in ("1", "true"):
        province = None
    else:
        try:
            province = admin_units.match_province(query.get("province", ""), data)
        except BadRequest as err:
            if err.code == "province_unknown" and query.get("province", "").strip():
                raise NotFound(err.message, code=err.code, details=err.details) from None
            raise
    rows = admin_units.registry_rows(province.code if province else None, data)
    name = f"registry-{province.code}.csv" if province else "registry-vn.csv"
    return web.Response(
        body=render(rows, bom=True).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
