"""People of an event over REST: editing the event, key holders and their
page, and the extras the console needs for organizer tokens (a login link
with a QR code, the last use, the audit of the ``_org`` stream).

docs/protocol.md#events, #key-holders, #authentication. Each handler:
check the caller, decide in the core, commit, answer.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.core import keyholders as kh
from server.core import launch as ln
from server.core import org as orgs
from server.core.audit import AuditLog
from server.core.events import decide_delete_event, decide_edit_event, event_view
from server.io.clock import now_ms
from server.io.effects import launch_view
from server.io.http.auth import (
    actor_of,
    bearer,
    event_of,
    failed_auth,
    json_body,
    json_response,
    store_of,
)
from server.io.http.files import CONSOLE, invalid_link_page, serve_file
from server.io.http.qr import keyholder_url, public_base, qr_svg
from server.io.runtime import EventRuntime
from server.io.store import new_token

# -- the event --------------------------------------------------------------------------


async def edit_event(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    facts = decide_edit_event(rt.state, await json_body(request), now_ms(), actor)
    if facts:
        await rt.commit(facts)
    return json_response(event_view(rt.state.info, rt.state.live.group_level))


async def delete_event(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    await rt.commit(decide_delete_event(rt.state, now_ms(), actor))
    return web.Response(status=204)


# -- organizer tokens: the audit of the _org stream -------------------------------------


async def org_audit(request: web.Request) -> web.Response:
    """Organizer tokens issued and revoked (the ``_org`` stream), newest first."""
    store = store_of(request)
    entries = [(seq, fact) for seq, fact in await store.journal.read(orgs.ORG_STREAM)
               if fact.type in ("org.token_issued", "org.token_revoked")]  # not every log-in
    log = AuditLog().feed_all(entries)
    return json_response(log.page(limit=200))


# -- key holders (operators manage them) ----------------------------------------------------


async def list_keyholders(request: web.Request) -> web.Response:
    return json_response(kh.keyholders_view(event_of(request).state))


async def add_keyholder(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    token = new_token()
    fact = kh.decide_add(rt.state, await json_body(request), token, now_ms(), actor)
    await rt.commit([fact])
    url = keyholder_url(public_base(request), token)
    holder = rt.state.ext["keyholders"].by_id[fact.keyholder_id]
    return json_response({**kh.keyholder_view(holder), "token": token, "url": url, "qr_svg": qr_svg(url)}, 201)


async def revoke_keyholder(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    await rt.commit([kh.decide_revoke(rt.state, request.match_info["kid"], now_ms(), actor)])
    return web.Response(status=204)


# -- a key holder's own page and calls (their token, nothing else) ----------------------------


def keyholder_of(store: Any, token: str) -> tuple[EventRuntime, kh.KeyHolder] | None:
    if not token:
        return None
    for rt in store.events.values():
        holder = kh.find_by_token(rt.state, token)
        if holder is not None:
            return rt, holder
    return None


def _holder(request: web.Request) -> tuple[EventRuntime, kh.KeyHolder]:
    token = bearer(request)
    found = keyholder_of(store_of(request), token)
    if found is None:  # limited like a wrong organizer token; a valid link never is
        raise failed_auth(request, token, "unknown or revoked key holder link")
    return found


async def keyholder_me(request: web.Request) -> web.Response:
    rt, holder = _holder(request)
    info = rt.state.info
    return json_response({"id": holder.id, "name": holder.name,
                          "event": {"id": rt.id, "name": info.name, "starts_at": info.starts_at,
                                    "timezone": info.timezone},
                          "launch": launch_view(rt)})


async def keyholder_press(request: web.Request) -> web.Response:
    """The holder's own key: the key is their name (the body is ignored)."""
    rt, holder = _holder(request)
    decision = ln.decide_press(rt.state, {"key": holder.name}, now_ms(), holder.name)
    if decision.facts:
        await rt.commit(decision.facts)
    return json_response(launch_view(rt))


async def keyholder_page(request: web.Request) -> web.StreamResponse:
    if keyholder_of(store_of(request), request.match_info["token"]) is None:
        return invalid_link_page()
    return serve_file(CONSOLE / "keyholder.html")



