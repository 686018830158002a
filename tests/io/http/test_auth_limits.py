"""The failed-authentication limit behind a shared address
(docs/protocol.md#limits): every device of a hall sits behind one NAT, so
the limit slows wrong credentials and never refuses a valid one.

Every client of these tests comes from 127.0.0.1: one shared address.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from server.io.limits import AUTH_ADDRESS_FAIL_BURST, AUTH_FAIL_BURST
from tests.utils import ADMIN, Api


async def status_of(server: Any, s: aiohttp.ClientSession, token: str, path: str = "/api/events") -> int:
    async with s.get(server.base + path, headers={"Authorization": f"Bearer {token}"}) as r:
        if r.status == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert (await r.json())["error"]["code"] == "rate_limited"
        return r.status


async def test_a_stale_tablet_never_locks_out_valid_tokens_behind_one_address(server) -> None:
    """Catches the limiter refusing a valid credential: a stale tablet polling
    with a revoked token used to lock the admin, every operator and every
    log-in of the hall out with 429 (the limit was per address, checked
    before the token)."""
    api: Api = server.api
    stale = await api.call("POST", "/api/tokens", 201, json={"name": "Máy tính bảng cũ", "role": "viewer"})
    await api.call("DELETE", f"/api/tokens/{stale['id']}", 204)
    operator = await api.call("POST", "/api/tokens", 201, json={"name": "Ca trực", "role": "operator"})
    async with aiohttp.ClientSession() as s:
        stale_answers = []
        for _ in range(3):
            for _ in range(AUTH_FAIL_BURST + 2):
                stale_answers.append(await status_of(server, s, stale["token"]))
            assert await status_of(server, s, ADMIN) == 200
            assert await status_of(server, s, operator["token"]) == 200
            async with s.post(server.base + "/api/session", json={"token": operator["token"]}) as r:
                assert r.status == 200
        # The stale token itself is slowed: 401 for the first run, 429 after.
        assert stale_answers[:AUTH_FAIL_BURST] == [401] * AUTH_FAIL_BURST
        assert set(stale_answers[AUTH_FAIL_BURST:]) == {429}, stale_answers


async def test_one_stale_token_is_slowed_alone_not_its_neighbours_typos(server) -> None:
    """Catches failures counted only per address: the stale token is limited
    by its own bucket (its 429s drain nothing), so another device behind the
    same address that mistypes still hears 401 (wrong token), not 429."""
    async with aiohttp.ClientSession() as s:
        answers = [await status_of(server, s, "stale-token-" + "x" * 30) for _ in range(AUTH_ADDRESS_FAIL_BURST)]
        assert answers == [401] * AUTH_FAIL_BURST + [429] * (AUTH_ADDRESS_FAIL_BURST - AUTH_FAIL_BURST)
        assert await status_of(server, s, "a-typo-" + "y" * 30) == 401


async def test_a_valid_key_holder_link_and_login_pass_after_a_run_of_wrong_ones(server) -> None:
    """Catches the key holder's page and the log-in refusing a valid token
    because its address failed before: only the wrong ones get 429."""
    api: Api = server.api
    eid = await api.event()
    holder = await api.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Chủ tịch UBND tỉnh"})
    async with aiohttp.ClientSession() as s:
        answers = [await status_of(server, s, f"wrong-{i}", "/api/keyholder") for i in range(AUTH_ADDRESS_FAIL_BURST + 3)]
        assert answers[-3:] == [429, 429, 429]
        assert await status_of(server, s, holder["token"], "/api/keyholder") == 200
        async with s.post(server.base + "/api/session", json={"token": "wrong-login"}) as r:
            assert r.status == 429
        async with s.post(server.base + "/api/session", json={"token": ADMIN}) as r:
            assert r.status == 200


async def test_the_failure_buckets_stay_bounded(server) -> None:
    """Catches memory growing with every guess: the per-credential buckets
    forget full ones past their cap, whatever the number of distinct guesses."""
    from server.io.limits import GUARD_KEY

    guard = server.app[GUARD_KEY]
    guard.credential_failures.max_keys = 10
    async with aiohttp.ClientSession() as s:
        for i in range(AUTH_ADDRESS_FAIL_BURST):
            await status_of(server, s, f"guess-{i}")
    assert len(guard.credential_failures) <= 10
