"""Organizer auth as an attacker would try it: the cookie, logout, revoked
tokens, foreign origins, brute force (docs/protocol.md#authentication)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.core import org as orgs
from server.io import clock
from server.io.app import create_app
from server.io.http.auth import SESSION_COOKIE, STORE_KEY
from server.io.limits import AUTH_ADDRESS_FAIL_BURST
from tests.utils import ADMIN, Api, timeout


async def login(server, s: aiohttp.ClientSession, token: str = ADMIN) -> str:
    async with s.post(server.base + "/api/session", json={"token": token}) as r:
        assert r.status == 200, await r.text()
        return r.cookies[SESSION_COOKIE].value


def jar() -> aiohttp.CookieJar:
    return aiohttp.CookieJar(unsafe=True)


async def test_the_cookie_is_a_random_session_id_not_the_token(server) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        first = await login(server, s)
        second = await login(server, s)
    assert ADMIN not in first and first != second and len(first) >= 40
    store = server.app[STORE_KEY]
    # Only the hash is kept, with the token it stands for and a 12 h expiry.
    assert orgs.token_hash(first) in store.org.sessions and first not in store.org.sessions
    sess = store.org.sessions[orgs.token_hash(first)]
    assert sess.token_hash == orgs.token_hash(ADMIN)
    assert sess.expires_ms - clock.now_ms() == pytest.approx(12 * 3600 * 1000, abs=60_000)


async def test_the_token_as_a_cookie_is_refused(server) -> None:
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: ADMIN}) as s, s.get(server.base + "/api/me") as r:
        assert r.status == 401


async def test_logout_revokes_the_session_on_the_server(server) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        sid = await login(server, s)
        async with s.get(server.base + "/api/me") as r:
            assert r.status == 200
        async with s.delete(server.base + "/api/session") as r:
            assert r.status == 204
    # A copy of the cookie taken before the logout (a stolen one) is dead too.
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: sid}) as s, s.get(server.base + "/api/me") as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"


async def test_revoking_a_token_ends_it_and_its_sessions(server) -> None:
    api: Api = server.api
    issued = await api.call("POST", "/api/tokens", 201, json={"name": "Ca trực", "role": "operator"})
    op = Api(server.base, api.session, issued["token"])
    assert (await op.call("GET", "/api/me", 200))["role"] == "operator"
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        sid = await login(server, s, issued["token"])
        async with s.get(server.base + "/api/events") as r:
            assert r.status == 200
    await api.call("DELETE", f"/api/tokens/{issued['id']}", 204)
    status, body = await op.call("GET", "/api/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    async with aiohttp.ClientSession(cookies={SESSION_COOKIE: sid}) as s, s.get(server.base + "/api/events") as r:
        assert r.status == 401
    listed = await api.call("GET", "/api/tokens", 200)
    assert [t["revoked"] for t in listed if t["id"] == issued["id"]] == [True]


async def test_a_session_expires_after_12_hours(server, monkeypatch) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        await login(server, s)
        real = clock.now_ms
        monkeypatch.setattr(clock, "now_ms", lambda: real() + 12 * 3600 * 1000 - 60_000)
        async with s.get(server.base + "/api/me") as r:
            assert r.status == 200
        monkeypatch.setattr(clock, "now_ms", lambda: real() + 12 * 3600 * 1000 + 1000)
        async with s.get(server.base + "/api/me") as r:
            assert r.status == 401


async def test_sessions_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"

    async def run(check):
        runner = web.AppRunner(create_app(data, token=ADMIN), handle_signals=False, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            return await check(base)
        finally:
            await runner.cleanup()

    async def first(base):
        async with aiohttp.ClientSession(cookie_jar=jar()) as s, s.post(base + "/api/session",
                                                                         json={"token": ADMIN}) as r:
            assert r.status == 200
            return r.cookies[SESSION_COOKIE].value

    sid = await run(first)

    async def second(base):
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: sid}) as s:
            async with s.get(base + "/api/me") as r:
                assert r.status == 200 and (await r.json())["role"] == "admin"
            async with s.delete(base + "/api/session", headers={"Origin": base}) as r:
                assert r.status == 204

    await run(second)

    async def third(base):
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: sid}) as s, s.get(base + "/api/me") as r:
            assert r.status == 401  # the logout, too, survived

    await run(third)


async def test_cookie_mutations_refuse_a_foreign_origin(server) -> None:
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        await login(server, s)
        body = {"name": "X", "starts_at": "2025-05-08T08:00:00+07:00",
                "report_deadline": "2025-05-08T07:30:00+07:00"}
        for origin in ("https://evil.example", "null", "http://127.0.0.1:1"):
            async with s.post(server.base + "/api/events", json=body, headers={"Origin": origin}) as r:
                assert r.status == 403, origin
                assert (await r.json())["error"]["code"] == "forbidden_origin"
        async with s.post(server.base + "/api/events", json=body, headers={"Sec-Fetch-Site": "cross-site"}) as r:
            assert r.status == 403
        assert server.app[STORE_KEY].events == {}
        async with s.post(server.base + "/api/events", json=body, headers={"Origin": server.base}) as r:
            assert r.status == 201
        # Reading is not a mutation.
        async with s.get(server.base + "/api/events", headers={"Origin": "https://evil.example"}) as r:
            assert r.status == 200
    # A bearer token is not sent by a browser on its own: no Origin rule.
    status, _ = await server.api.call("POST", "/api/events", json=body, headers={"Origin": "https://evil.example"})
    assert status == 201


async def test_console_socket_refuses_a_foreign_origin(server) -> None:
    await server.api.event()
    async with aiohttp.ClientSession(cookie_jar=jar()) as s:
        await login(server, s)
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await s.ws_connect(server.ws + "/ws/console", headers={"Origin": "https://evil.example"})
        assert info.value.status == 403
        ws = await s.ws_connect(server.ws + "/ws/console", headers={"Origin": server.base})
        assert (await ws.receive_json(timeout=timeout(5)))["type"] == "snapshot"
        await ws.close()


async def test_failed_logins_are_slowed_per_address(server) -> None:
    """Catches a brute force that is never slowed: distinct wrong tokens from
    one address get 429 (with Retry-After) past the address's burst, while the
    right token still logs in."""
    async with aiohttp.ClientSession() as s:
        for i in range(AUTH_ADDRESS_FAIL_BURST):
            async with s.post(server.base + "/api/session", json={"token": f"guess-{i}"}) as r:
                assert r.status == 401, i
        async with s.post(server.base + "/api/session", json={"token": "guess-x"}) as r:
            assert r.status == 429
            assert int(r.headers["Retry-After"]) >= 1
            body = await r.json()
            assert body["error"]["code"] == "rate_limited" and body["error"]["retry_after_ms"] > 0
        # The right token is never refused by the limit (a hall shares one address).
        async with s.post(server.base + "/api/session", json={"token": ADMIN}) as r:
            assert r.status == 200
        async with s.get(server.base + "/api/events", headers={"Authorization": "Bearer guess-y"}) as r:
            assert r.status == 429 and "Retry-After" in r.headers


async def test_wrong_bearer_tokens_count_as_failures(server) -> None:
    """Catches wrong bearer tokens that escape the limit (only log-ins
    counted): past the burst they get 429, the admin token still 200."""
    async with aiohttp.ClientSession() as s:
        for i in range(AUTH_ADDRESS_FAIL_BURST):
            async with s.get(server.base + "/api/events", headers={"Authorization": f"Bearer g{i}"}) as r:
                assert r.status == 401
        async with s.get(server.base + "/api/events", headers={"Authorization": "Bearer g-last"}) as r:
            assert r.status == 429
        async with s.get(server.base + "/api/events", headers={"Authorization": f"Bearer {ADMIN}"}) as r:
            assert r.status == 200
