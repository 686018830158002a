"""X-Forwarded-For / X-Forwarded-Proto, believed only from a trusted proxy
(server/io/http/proxy.py, docs/protocol.md#behind-a-reverse-proxy).

The tests' peer is 127.0.0.1: a server trusting 127.0.0.1/32 plays the one
behind nginx, a server trusting nothing (the default) plays one reached
directly by someone forging the headers."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.io.app import create_app
from server.io.http.auth import SESSION_COOKIE
from server.io.http.proxy import forwarded_client, forwarded_scheme, parse_networks
from server.io.limits import (
    AUTH_ADDRESS_FAIL_BURST as AUTH_FAIL_BURST,  # wrong tokens, each a new one: the address's limit
)
from tests.utils import ADMIN

LOCAL = parse_networks("127.0.0.1/32")


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[object]:
    runners: list[web.AppRunner] = []

    async def start(trusted: str | None) -> str:
        app = create_app(tmp_path / f"data{len(runners)}", token=ADMIN, trusted_proxies=trusted)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for r in runners:
        await r.cleanup()


_GUESSES = itertools.count()


async def _fail_logins(base: str, n: int, forwarded_for: str | None) -> list[int]:
    """n log-ins, each with a token never presented before: only the per-address limit can refuse them."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    out = []
    async with aiohttp.ClientSession() as s:
        for _ in range(n):
            async with s.post(base + "/api/session", json={"token": f"guess-{next(_GUESSES)}"},
                              headers=headers) as r:
                out.append(r.status)
    return out


async def _login_cookie(base: str, headers: dict[str, str]) -> str:
    async with aiohttp.ClientSession() as s, \
            s.post(base + "/api/session", json={"token": ADMIN}, headers=headers) as r:
        assert r.status == 200
        (cookie,) = [h for h in r.headers.getall("Set-Cookie") if h.startswith(SESSION_COOKIE + "=")]
        return cookie.lower()


async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(make_server) -> None:
    """Catches: a caller that rotates a forged X-Forwarded-For escaping the failed-login limiter."""
    base = await make_server(None)
    statuses = []
    for i in range(AUTH_FAIL_BURST + 1):
        statuses += await _fail_logins(base, 1, f"203.0.113.{i}")
    # Every forged address counted as the one real peer: the burst is spent.
    assert statuses[:AUTH_FAIL_BURST] == [401] * AUTH_FAIL_BURST and statuses[-1] == 429


async def test_a_trusted_proxys_forwarded_for_is_the_callers_address(make_server) -> None:
    """Catches: behind nginx, one phone's wrong logins locking out every phone (the proxy's address)."""
    base = await make_server("127.0.0.1/32")
    assert await _fail_logins(base, AUTH_FAIL_BURST + 1, "198.51.100.7") == [401] * AUTH_FAIL_BURST + [429]
    # Another phone behind the same proxy is not slowed down by the first...
    assert await _fail_logins(base, 1, "198.51.100.8") == [401]
    # ... and a client-written address left of the one nginx appended is not believed:
    # nginx sends "forged, real"; the limiter keys on the real (locked) one.
    assert await _fail_logins(base, 1, "10.9.9.9, 198.51.100.7") == [429]


async def test_the_session_cookie_is_secure_over_forwarded_https_only_from_a_trusted_proxy(make_server) -> None:
    """Catches: a session cookie sent without Secure to a phone on HTTPS (or Secure on plain HTTP, where
    the browser would drop it)."""
    behind = await make_server("127.0.0.1/32")
    direct = await make_server(None)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"}
    assert "; secure" in await _login_cookie(behind, https)
    assert "; secure" not in await _login_cookie(behind, {"X-Forwarded-Proto": "http"})
    assert "; secure" not in await _login_cookie(behind, {})
    # The same header from a peer that is not a trusted proxy changes nothing.
    assert "; secure" not in await _login_cookie(direct, https)


def test_forwarded_for_is_read_from_the_right_skipping_trusted_hops() -> None:
    """Catches: taking the leftmost (client-written) address, or trusting a header from an untrusted peer."""
    nets = parse_networks("127.0.0.1, 10.0.0.0/8")
    assert forwarded_client("127.0.0.1", "1.2.3.4, 5.6.7.8", nets) == "5.6.7.8"
    assert forwarded_client("127.0.0.1", "1.2.3.4, 5.6.7.8, 10.0.0.2", nets) == "5.6.7.8"
    assert forwarded_client("127.0.0.1", "10.0.0.3, 10.0.0.2", nets) == "10.0.0.3"  # every hop ours
    assert forwarded_client("127.0.0.1", "5.6.7.8, junk", nets) is None  # nothing believable
    assert forwarded_client("127.0.0.1", "", nets) is None
    assert forwarded_client("192.0.2.1", "5.6.7.8", nets) is None  # not from a proxy
    assert forwarded_client("::ffff:127.0.0.1", "2001:db8::1", nets) == "2001:db8::1"
    assert forwarded_scheme("127.0.0.1", "https", nets) == "https"
    assert forwarded_scheme("127.0.0.1", "gopher", nets) is None
    assert forwarded_scheme("192.0.2.1", "https", nets) is None


def test_a_malformed_trusted_proxy_is_refused_naming_it() -> None:
    """Catches: a typo in LAUNCHDAY_TRUSTED_PROXIES silently trusting nothing (or everything)."""
    assert parse_networks(None) == () and parse_networks(" , ") == ()
    assert [str(n) for n in parse_networks("10.0.0.0/8, 192.168.1.5")] == ["10.0.0.0/8", "192.168.1.5/32"]
    with pytest.raises(ValueError, match=re.escape("10.0.0.0/33")):
        parse_networks("10.0.0.0/33")
    with pytest.raises(ValueError, match=re.escape("proxy.example")):
        create_app(Path("/nonexistent-never-created"), token=ADMIN, trusted_proxies="proxy.example")
