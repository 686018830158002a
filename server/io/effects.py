"""What a folded fact does to this process's sockets: pushes, console deltas,
closing a link that no longer holds.

These run in every process as it folds the fact (docs/architecture.md: the
fold is driven by the journal's tail), never in the handler that appended.
They are listed against the fact types in ``server/io/wiring.py``; nothing
here registers itself. They shape what a process sends to its own sockets,
never what is folded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from server.core import agenda as ag
from server.core import keyholders as kh
from server.core import launch as ln
from server.core import report_snapshots as rs
from server.core.events import event_view
from server.core.scope import Visible, in_subtree
from server.io import metrics
from server.io.clock import now_ms
from server.io.ws.hub import CLOSE_POINT_DELETED, CLOSE_TOKEN_REVOKED

if TYPE_CHECKING:
    from server.io.runtime import EventRuntime


# -- views: what the welcome and snapshot frames carry beside the points ----------


def agenda_view(rt: EventRuntime) -> dict[str, Any]:
    return ag.agenda_view(rt.state, now_ms())


def launch_view(rt: EventRuntime) -> dict[str, Any]:
    return ln.launch_view(rt.state, now_ms())


def launch_fired(rt: EventRuntime, visible: Visible | None = None) -> dict[str, Any]:
    """Every delta's firing telemetry (docs/protocol.md#console): a desk's, of its points."""
    return ln.fired_stats(rt.state, visible)


# -- points and incidents ------------------------------------------------------------


def regrouped(rt: EventRuntime) -> None:
    """The fold rebuilt the derived views (the tree's shape or the group level
    changed): every point's ``district`` and ``group`` may have moved, so the
    next delta carries every point."""
    if rt.state.live.rebuilds != rt.rebuilds_seen:
        rt.rebuilds_seen = rt.state.live.rebuilds
        rt.dirty_points.update(rt.state.points)
        rt.touch()


def point_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.touch(fact.code)
    regrouped(rt)


def point_deleted(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.dirty_points.discard(fact.code)
    rt.removed_points.add(fact.code)
    rt.touch()
    regrouped(rt)
    rt.room.close_point(fact.code, CLOSE_POINT_DELETED, "point deleted")


def token_rotated(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.room.close_point(fact.code, CLOSE_TOKEN_REVOKED, "token rotated")


def incident_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.dirty_incidents.add(fact.incident)
    rt.touch(fact.code)


def notice(rt: EventRuntime, seq: int, fact: Any) -> None:
    frame = {"type": "notice", "text": fact.text, "at_ms": fact.at_ms}
    only = None
    if fact.district:
        only = {c for c, d in rt.state.live.district_of.items() if d == fact.district}
    if fact.group:
        only = {c for c, g in rt.state.live.group_of.items() if g == fact.group}
    target = getattr(fact, "point", None)  # a desk's notice: its subtree
    if target:
        only = set(Visible(rt.state, target).codes())
    rt.room.broadcast_points(frame, only)
    shown = {**frame, "district": fact.district, "group": fact.group, "point": target}

    def for_desk(root: str) -> dict[str, Any] | None:
        # A desk sees a notice that reached points of its subtree: to everyone,
        # to a part holding its root, or to a part of its own.
        aim = target or fact.group or fact.district
        state = rt.state
        reached = aim is None or in_subtree(state, aim, root) or in_subtree(state, root, aim)
        return shown if reached else None

    rt.room.broadcast_consoles(shown, for_desk)


def fired_reported(rt: EventRuntime, seq: int, fact: Any) -> None:
    """Points reported that their screens fired: the next delta carries their
    ``fired_ms`` (the console map's flash; its compact ``fired`` map, not
    their whole views: at the fire that is every point) and the telemetry."""
    reports = getattr(fact, "reports", None)
    if reports is None:
        rt.fired_points.add(fact.code)
    else:
        rt.fired_points.update(r.code for r in reports)
    rt.touch()


def fired_reset(rt: EventRuntime, seq: int, fact: Any) -> None:
    """A rehearsal was reset: the points that had fired show ``fired_ms`` null again."""
    rt.fired_points.update(ln.fired_codes_of_reset(rt.state))
    rt.touch()


# -- the ceremony: agenda and launch are pushed at once, not coalesced ---------------------


def push_agenda(rt: EventRuntime) -> None:
    frame = {"type": "agenda", "agenda": agenda_view(rt)}
    rt.room.broadcast_points(frame)
    rt.room.broadcast_consoles(frame)


def push_launch(rt: EventRuntime, decided_ms: float | None = None) -> None:
    """The launch to every screen; with ``decided_ms`` (the countdown just
    began), the time from that decision to the last point's write goes to
    /metrics (``launchday_launch_written_seconds``)."""
    frame = {"type": "launch", "launch": launch_view(rt)}
    done = None
    if decided_ms is not None:
        def done() -> None:
            seconds = max(0.0, now_ms() - decided_ms) / 1000
            metrics.LAUNCH_WRITTEN.observe(seconds)
            metrics.LAUNCH_WRITTEN_LAST.set(seconds)
    rt.room.broadcast_points(frame, done=done)
    rt.room.broadcast_consoles(frame)


def agenda_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    push_agenda(rt)


def launch_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    current = ln.launch_of(rt.state).current
    began = (fact.type == "launch.key_pressed" and current is not None and current.aborted_ms is None
             and current.fire_at_ms == fact.at_ms + current.countdown_ms)  # this press started the countdown
    push_launch(rt, fact.at_ms if began else None)


# -- reports, the event, key holders ------------------------------------------------------------


def snapshot_taken(rt: EventRuntime, seq: int, fact: Any) -> None:
    snaps = rs.snapshots_of(rt.state)
    if snaps and snaps[-1].taken_ms == fact.taken_ms and snaps[-1].label == fact.label:
        rt.room.broadcast_consoles({"type": "report.snapshot", "snapshot": rs.snapshot_view(len(snaps), snaps[-1])},
                                   "none")  # the whole event's figures: not a desk's


def event_deleted(rt: EventRuntime, seq: int, fact: Any) -> None:
    # In every process, as it folds the fact: its screens are told the link
    # is gone (4404, as for a deleted point), and its store lets the event go.
    rt.room.close_all(CLOSE_POINT_DELETED, "event deleted")
    if rt.on_deleted is not None:
        rt.on_deleted(rt)


def event_edited(rt: EventRuntime, seq: int, fact: Any) -> None:
    state = rt.state
    rt.room.broadcast_consoles({"type": "event", "event": event_view(state.info, state.live.group_level)})
    regrouped(rt)


def keyholders_changed(rt: EventRuntime, seq: int, fact: Any) -> None:
    rt.room.broadcast_consoles({"type": "keyholders", "keyholders": kh.keyholders_view(rt.state)},
                               "none")  # the launch's key holders are the province's
