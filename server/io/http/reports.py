"""Reports for people, report snapshots, the audit log and the check-in timeline.

Routes (docs/protocol.md#report, #report-snapshots, #audit, #timeline):

- ``GET /api/events/{eid}/report.xlsx`` and ``report.html`` (viewer): the live
  report rendered (``report.json`` and ``.csv`` stay in rest.py).
- ``GET|POST /api/events/{eid}/report/snapshots`` (viewer | operator): the
  kept reports; ``POST`` takes one now (optional ``{"label"}``).
- ``GET /api/events/{eid}/report/snapshots/{n}.{json|csv|xlsx|html}`` (viewer).
- ``GET /api/events/{eid}/audit?after_seq=&before_seq=&limit=`` (viewer).
- ``GET /api/events/{eid}/timeline?bucket_s=60[&from_ms=]`` (viewer).

The deadline snapshot: when an event's runtime starts, a timer is set for its
``report_deadline``; when it fires, the report is taken and journaled as an
automatic snapshot labelled "báo cáo lúc 07:30". A process that starts after
the deadline with no automatic snapshot takes none: a report taken late
would carry the label of a moment it does not describe. An operator takes
one on demand instead (``POST``), labelled with its real time.

Audit and timeline read the journal, not the state (the state keeps no
history). Each event has a ``JournalIndex`` fed incrementally: a request
reads only the facts appended since the previous one.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import structlog
from aiohttp import web

from server.core import report_render as rr
from server.core import report_snapshots as rs
from server.core import scope
from server.core.audit import AuditLog, limit_param, seq_param
from server.core.errors import BadRequest
from server.core.report import build_report, render_csv
from server.core.scope import Visible
from server.core.timeline import Timeline, bucket_seconds, timeline_view
from server.io.clock import local_time, now_ms
from server.io.http.auth import actor_of, event_of, json_object, json_response, visible_of
from server.io.runtime import EventRuntime

log = structlog.get_logger("launchday.reports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"




async def render(report: dict[str, Any], fmt: str, filename: str, label: str | None = None) -> web.Response:
    """The report in one of the four formats. Rendering is pure work on a
    dict, done on a thread so a big workbook never stalls the event loop."""
    if fmt == "json":
        return json_response(report)
    if fmt == "csv":
        when = local_time(report["taken_ms"], rr._tz(report))
        return web.Response(body=("\ufeff" + render_csv(report, when)).encode(), headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}.csv"'})
    if fmt == "xlsx":
        from server.core.report_xlsx import (
            render_xlsx,  # openpyxl loads on first use (start-up time)
        )

        body = await asyncio.to_thread(render_xlsx, report, label)
        return web.Response(body=body, headers={
            "Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    text = await asyncio.to_thread(rr.render_html, report, label)
    return web.Response(text=text, content_type="text/html", charset="utf-8",
                        headers={"Content-Disposition": f'inline; filename="{filename}.html"'})


async def report_file(request: web.Request) -> web.Response:
    rt = event_of(request)
    return await render(build_report(rt.state, now_ms(), visible_of(request)), request.match_info["fmt"],
                        f"bao-cao-{rt.id}")


# -- snapshots -------------------------------------------------------------------


async def list_snapshots(request: web.Request) -> web.Response:
    return json_response(rs.snapshot_list(event_of(request).state))


async def take_snapshot(request: web.Request) -> web.Response:
    actor = actor_of(request)
    rt = event_of(request)
    body = await json_object(request, rs.SNAPSHOT_FIELDS)
    now = now_ms()
    fact = rs.decide_snapshot(rt.state, build_report(rt.state, now), body.get("label"), now, actor)
    await rt.commit([fact])
    snaps = rs.snapshots_of(rt.state)
    n = next(i for i in range(len(snaps), 0, -1) if snaps[i - 1].taken_ms == fact.taken_ms)
    return json_response(rs.snapshot_view(n, snaps[n - 1]), 201)


async def get_snapshot(request: web.Request) -> web.Response:
    rt = event_of(request)
    n = int(request.match_info["n"])
    snap = rs.get_snapshot(rt.state, n)
    fmt = request.match_info["fmt"]
    report = snap.report
    if fmt == "json":
        report = {**report, "snapshot": {"n": n, "label": snap.label, "automatic": snap.automatic,
                                         "actor": snap.actor}}
    return await render(report, fmt, f"bao-cao-{rt.id}-{n}", snap.label)




# -- audit and timeline ------------------------------------------------------------------


class JournalIndex:
    """What audit and timeline need from one event's journal, fed incrementally."""

    def __init__(self) -> None:
        self.seq = 0
        self.audit = AuditLog()
        self.timeline = Timeline()
        # A desk's own audit log and timeline: only the facts about its
        # subtree's points (docs/protocol.md#desks), by the desk's root.
        self.desks: dict[str, tuple[AuditLog, Timeline]] = {}
        self.lock = asyncio.Lock()

    async def refresh(self, rt: EventRuntime, desk: str | None = None) -> JournalIndex:
        async with self.lock:
            if desk is not None and desk not in self.desks:
                view = self.desks[desk] = (AuditLog(), Timeline())
                self._feed_desk(rt, desk, view, await rt.journal.read(rt.id, 0), self.seq)
            entries = await rt.journal.read(rt.id, self.seq)
            for seq, fact in entries:
                self.audit.feed(seq, fact)
                self.timeline.feed(seq, fact)
            for root, view in self.desks.items():
                self._feed_desk(rt, root, view, entries, None)
            if entries:
                self.seq = entries[-1][0]
        return self

    @staticmethod
    def _feed_desk(rt: EventRuntime, root: str, view: tuple[AuditLog, Timeline], entries: list[Any],
                   upto: int | None) -> None:
        visible = Visible(rt.state, root)
        for seq, fact in entries:
            if upto is not None and seq > upto:
                break
            if getattr(fact, "code", None) in visible:
                view[0].feed(seq, fact)
                view[1].feed(seq, fact)


_INDEXES: weakref.WeakKeyDictionary[EventRuntime, JournalIndex] = weakref.WeakKeyDictionary()


async def index_of(rt: EventRuntime, desk: str | None = None) -> JournalIndex:
    index = _INDEXES.get(rt)
    if index is None:
        index = _INDEXES[rt] = JournalIndex()
    return await index.refresh(rt, desk)


async def audit(request: web.Request) -> web.Response:
    rt = event_of(request)
    q = request.query
    after = seq_param(q.get("after_seq")) or 0
    before = seq_param(q.get("before_seq"))
    visible = visible_of(request)
    index = await index_of(rt, visible.root if visible else None)
    log = index.audit if visible is None else index.desks[visible.root][0]
    return json_response(log.page(after, before, limit_param(q.get("limit"))))


async def timeline(request: web.Request) -> web.Response:
    rt = event_of(request)
    bucket_s = bucket_seconds(request.query.get("bucket_s"))
    raw_from = request.query.get("from_ms")
    try:
        from_ms = float(raw_from) if raw_from else None
    except ValueError:
        raise BadRequest("from_ms must be a number of ms", code="validation_error") from None
    visible = visible_of(request)
    index = await index_of(rt, visible.root if visible else None)
    if visible is None:
        line, totals = index.timeline, rt.state.live.totals.all.to_dict()
    else:
        line, totals = index.desks[visible.root][1], scope.totals(rt.state, visible, now_ms())
    return json_response({**timeline_view(line, bucket_s, now_ms(), from_ms),
                          "points": totals["points"], "expected": totals["expected"]})

