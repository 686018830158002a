"""REST handlers (docs/protocol.md#rest). Each one: check the role, parse,
decide in the core, commit, answer."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.core import org as orgs
from server.core import points as pts
from server.core import scope
from server.core.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge
from server.core.events import event_view
from server.core.facts import NoticeSent
from server.core.grouping import check_group
from server.core.importing import decide_import
from server.core.org import organizers_view
from server.core.report import build_report, render_csv
from server.core.text import clean
from server.io import gcpolicy, metrics
from server.io.clock import local_time, now_ms
from server.io.http.auth import (
    SESSION_COOKIE,
    actor_of,
    check_origin,
    event_of,
    failed_auth,
    json_body,
    json_object,
    json_response,
    new_session_id,
    read_body,
    role_of,
    scope_of,
    session_organizer,
    store_of,
    visible_of,
)
from server.io.http.importfile import read_table
from server.io.http.qr import login_url, public_base, qr_svg
from server.io.limits import MAX_IMPORT_BODY
from server.io.runtime import EventRuntime
from server.io.store import new_token

# -- service ------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """200 only when this process can make a write durable (docs/protocol.md#health)."""
    reason = store_of(request).health()
    if reason is not None:
        return json_response({"status": "failing", "reason": reason}, status=503)
    return json_response({"status": "ok"})


async def prometheus(request: web.Request) -> web.Response:
    metrics.JOURNAL_UP.set(0 if store_of(request).journal.health() is not None else 1)
    return web.Response(body=generate_latest(metrics.REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


# -- sessions and organizer tokens -------------------------------------------------


async def login(request: web.Request) -> web.Response:
    """Trade a token for a session cookie holding a random session id."""
    token = (await json_object(request, orgs.LOGIN_FIELDS)).get("token")
    store = store_of(request)
    # Tokens are URL-safe base64: anything else (a lone surrogate, say) is simply wrong.
    who = store.organizer(token) if isinstance(token, str) and token.isascii() else None
    if who is None:
        raise failed_auth(request, token, "unknown or revoked token")
    sid = new_session_id()
    await commit_org(store, orgs.decide_open_session(orgs.token_hash(token), sid, now_ms(), who.name))
    resp = json_response({"name": who.name, "role": who.role, "scope": who.scope.view() if who.scope else None})
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="Strict", path="/",
                    secure=request.secure, max_age=orgs.SESSION_TTL_MS // 1000)
    return resp


async def logout(request: web.Request) -> web.Response:
    """End the cookie's session on the server, not only in this browser."""
    sid = request.cookies.get(SESSION_COOKIE, "")
    store = store_of(request)
    if sid and session_organizer(request) is not None:
        check_origin(request)
        fact = orgs.decide_close_session(store.org, sid, now_ms())
        if fact is not None:
            await commit_org(store, fact)
    resp = web.Response(status=204)
    resp.del_cookie(SESSION_COOKIE, path="/")
    return resp


async def commit_org(store: Any, fact: Any) -> None:
    seq = await store.journal.append(orgs.ORG_STREAM, [fact])
    orgs.apply_org(store.org, fact, seq)


async def me(request: web.Request) -> web.Response:
    """Who am I: ``scope`` is null for an unscoped token, else the desk's event and point
    (with the point's name, for the desk's header)."""
    name, scope = actor_of(request), scope_of(request)
    out: dict[str, Any] = {"name": name, "role": role_of(request), "scope": scope.view() if scope else None}
    if scope is not None:
        rt = store_of(request).events.get(scope.event)
        point = rt.state.points.get(scope.point) if rt is not None else None
        out["scope"]["point_name"] = point.name if point is not None else None
        out["scope"]["event_name"] = rt.state.info.name if rt is not None else None
    return json_response(out)


async def issue_token(request: web.Request) -> web.Response:
    actor = actor_of(request)
    token, fact = await store_of(request).issue_organizer(await json_body(request), actor)
    url = login_url(public_base(request), token)
    return json_response({"token": token, "id": fact.token_hash[:12], "name": fact.name, "role": fact.role,
                          "issued_ms": fact.at_ms, "login_url": url, "qr_svg": qr_svg(url)}, 201)


async def list_tokens(request: web.Request) -> web.Response:
    store = store_of(request)
    return json_response([{**o, "last_used_ms": store.last_used.get(o["id"])} for o in organizers_view(store.org)])


async def revoke_token(request: web.Request) -> web.Response:
    actor = actor_of(request)
    await store_of(request).revoke_organizer(request.match_info["tid"], actor)
    return web.Response(status=204)


# -- events ---------------------------------------------------------------------


async def create_event(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = await store_of(request).create_event(await json_body(request), actor)
    return json_response(event_view(rt.state.info, rt.state.live.group_level), 201)


async def list_events(request: web.Request) -> web.Response:
    scope = scope_of(request)  # a desk lists its own event only
    events = sorted((rt for rt in store_of(request).events.values() if scope is None or rt.id == scope.event),
                    key=lambda rt: rt.state.info.created_ms)
    return json_response([event_view(rt.state.info, rt.state.live.group_level) for rt in events])


async def get_event(request: web.Request) -> web.Response:
    return json_response(event_view((st := event_of(request).state).info, st.live.group_level))


# -- points -----------------------------------------------------------------------


async def import_points(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    data, ctype, filename = await _upload(request)
    table = read_table(data, ctype, filename)
    result = decide_import(rt.state, table, now_ms(), new_token, actor)
    if result.facts:
        await rt.commit(result.facts)
        gcpolicy.after_import(store_of(request))  # the new points are long-lived: freeze them
    return json_response(result.summary())


async def _upload(request: web.Request) -> tuple[bytes, str, str]:
    """The file of an import: a raw body, or the multipart field ``file``;
    over 5 MB is refused (413) without reading the rest."""
    if request.content_type == "multipart/form-data":
        if request.content_length is not None and request.content_length > MAX_IMPORT_BODY + 64 * 1024:
            raise PayloadTooLarge(f"an import is at most {MAX_IMPORT_BODY:,} bytes", code="too_large")
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == "file":
                data = bytearray()
                while chunk := await part.read_chunk(65536):  # type: ignore[union-attr]
                    data += chunk
                    if len(data) > MAX_IMPORT_BODY:
                        raise PayloadTooLarge(f"an import is at most {MAX_IMPORT_BODY:,} bytes",
                                              code="too_large")
                ctype = part.headers.get("Content-Type", "")
                return bytes(data), ctype, getattr(part, "filename", "") or ""
        raise BadRequest("the multipart body has no field 'file'", code="import_invalid")
    return await read_body(request, MAX_IMPORT_BODY), request.content_type, ""


async def list_points(request: web.Request) -> web.Response:
    rt = event_of(request)
    q = request.query
    status = q.get("status") or None
    if status is not None and status not in pts.STATUSES:
        raise BadRequest(f"status must be one of {', '.join(pts.STATUSES)}", code="validation_error")
    level = q.get("level") or None
    visible = visible_of(request)
    tokens = role_of(request) == "admin" or visible is not None  # a desk hands out its own points' links
    state = rt.state
    group = check_group(state.live.group_of, q["group"]) if "group" in q else None
    found = [
        pts.point_view(state, p, with_token=tokens)
        for p in state.points.values()
        if (visible is None or p.code in visible)
        and pts.matches(state, p, level=level, parent=q.get("parent"), status=status, q=q.get("q"),
                        district=q.get("district") or None, group=group)
    ]
    return json_response(found)


async def create_point(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="validation_error")
    decision = pts.decide_create(rt.state, body, now_ms(), new_token(), actor)
    await _commit_upsert(rt, decision.facts)
    code = decision.facts[0].code
    return json_response(pts.point_view(rt.state, rt.state.points[code], with_token=True), 201)


async def get_point(request: web.Request) -> web.Response:
    rt = event_of(request)
    point = pts.get_point(rt.state, request.match_info["code"])
    tokens = role_of(request) == "admin" or visible_of(request) is not None  # a desk: its own points' links
    return json_response(pts.point_view(rt.state, point, with_token=tokens))


async def patch_point(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="validation_error")
    code = request.match_info["code"]
    decision = pts.decide_patch(rt.state, code, body, now_ms(), actor)
    await _commit_upsert(rt, decision.facts)
    return json_response(pts.point_view(rt.state, rt.state.points[code], with_token=True))


async def delete_point(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    decision = pts.decide_delete(rt.state, request.match_info["code"], now_ms(), actor)
    await rt.commit(decision.facts)
    if request.match_info["code"] in rt.state.points:
        raise Conflict("a point was added under it meanwhile", code="has_children")
    gcpolicy.request_refreeze(store_of(request), "point deleted")  # its sockets' frozen objects
    return web.Response(status=204)


async def _commit_upsert(rt: EventRuntime, facts: list[Any]) -> None:
    if not facts:
        return
    await rt.commit(facts)
    if not pts.upsert_applied(rt.state, facts[0]):
        raise Conflict("the tree changed meanwhile (a parent was deleted or moved); try again", code="conflict")


async def rotate_token(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    await json_object(request, ())  # a new token takes no body
    code = request.match_info["code"]
    decision = pts.decide_rotate(rt.state, code, new_token(), now_ms(), actor)
    await rt.commit(decision.facts)
    return json_response(pts.point_view(rt.state, rt.state.points[code], with_token=True))


# -- totals, incidents, notices, report -----------------------------------------------


async def totals(request: web.Request) -> web.Response:
    rt, visible = event_of(request), visible_of(request)
    return json_response(rt.totals() if visible is None else scope.totals(rt.state, visible, now_ms()))


async def list_incidents(request: web.Request) -> web.Response:
    rt = event_of(request)
    only_open = request.query.get("open") in ("1", "true")
    visible = visible_of(request)
    items = [pts.incident_view(rt.state, i) for i in rt.state.incidents.values()
             if (i.open or not only_open) and (visible is None or i.point in visible)]
    return json_response(sorted(items, key=lambda i: i["opened_ms"]))


async def resolve_incident(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    await json_object(request, ())  # resolving takes no body
    decision = pts.decide_resolve_incident(rt.state, request.match_info["iid"], now_ms(), actor)
    await rt.commit(decision.facts)
    return json_response(pts.incident_view(rt.state, rt.state.incidents[request.match_info["iid"]]))


NOTICE_FIELDS = ("text", "district", "group")


async def send_notice(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    body = await json_object(request, NOTICE_FIELDS)
    text = clean(body.get("text"))
    if not text or len(text) > 1000:
        raise BadRequest("text is required (at most 1000 characters)", code="validation_error")
    district = clean(body.get("district")) or None
    if district is not None and district not in rt.state.live.totals.by_district:
        raise BadRequest(f"{district!r} is not a district of this event", code="validation_error")
    group = body.get("group")
    if group is not None:
        if district is not None:
            raise BadRequest("give district or group, not both", code="validation_error")
        group = check_group(rt.state.live.group_of, clean(group) if isinstance(group, str) else "")
    point = None
    visible = visible_of(request)
    if visible is not None:  # a desk: to its own subtree, or a district or group inside it
        target = group or district
        if target is not None and target not in visible:
            raise Forbidden(f"{target!r} is outside the desk's scope", code="out_of_scope")
        point = None if target is not None else visible.root
    fact = NoticeSent(at_ms=now_ms(), actor=actor, text=text, district=district, group=group, point=point)
    await rt.commit([fact])
    return json_response({"text": text, "district": district, "group": group, "point": point,
                          "at_ms": fact.at_ms}, 201)


async def report(request: web.Request) -> web.Response:
    rt = event_of(request)
    data = build_report(rt.state, now_ms(), visible_of(request))
    if request.match_info["fmt"] == "json":
        return json_response(data)
    when = local_time(data["taken_ms"], rt.state.info.timezone)
    return web.Response(
        body=("\ufeff" + render_csv(data, when)).encode(),  # BOM: Excel opens UTF-8 Vietnamese correctly
        headers={"Content-Type": "text/csv; charset=utf-8",
                 "Content-Disposition": f'attachment; filename="report-{rt.id}.csv"'},
    )

