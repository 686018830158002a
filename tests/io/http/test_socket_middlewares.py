"""The middlewares a socket passes through keep nothing alive for its life
(docs/benchmarks.md, "Leaner sockets"), and still do their work."""

from __future__ import annotations

import gc
import inspect
from typing import Any

import aiohttp

from tests.utils import tree_csv

HELD = {"roles_middleware", "compress_pages", "_compress_file"}


async def test_an_open_point_socket_holds_no_frame_of_the_roles_or_compression_middleware(server: Any) -> None:
    """Catches roles_middleware or compress_pages made a coroutine again (or
    awaiting the handler): every idle point socket would then keep its frame,
    a few hundred bytes each, for hours."""
    api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 1)[0])
    token = (await api.points(eid))[0]["token"]
    async with api.session.ws_connect(f"{server.ws}/ws/point?token={token}") as ws:
        assert (await ws.receive_json(timeout=10))["type"] == "welcome"
        alive = [o.cr_code.co_name for o in gc.get_objects()
                 if inspect.iscoroutine(o) and o.cr_code.co_name in HELD]
        handles = [o for o in gc.get_objects() if inspect.iscoroutine(o) and o.cr_code.co_name == "handle"
                   and o.cr_code.co_filename.endswith("point.py")]
        assert handles, "the point handler's coroutine should be alive (the check would be vacuous)"
        assert alive == []


async def test_pages_are_still_gzipped_and_sockets_still_refused_without_a_role(server: Any) -> None:
    """Catches the pass-through for sockets swallowing the compression of
    files, or the roles check moved after the handler (a console socket
    opened without an organizer token)."""
    async with server.api.session.get(server.base + "/static/checkin/app.js",
                                      headers={"Accept-Encoding": "gzip"}) as resp:
        assert resp.status == 200
        assert resp.headers.get("Content-Encoding") == "gzip"
    eid = await server.api.event()
    async with aiohttp.ClientSession() as anonymous:
        try:
            async with anonymous.ws_connect(f"{server.ws}/ws/console?event={eid}"):
                raise AssertionError("a console socket opened without an organizer token")
        except aiohttp.WSServerHandshakeError as exc:
            assert exc.status == 401
