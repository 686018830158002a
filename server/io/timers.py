"""The runtime's timers: set when an event's runtime starts (after a restart
too, from the state) and moved by the facts that change their moment.

- **The ``fired`` push**, a little after ``fire_at_ms``: for screens that
  missed the countdown. It goes out a little after the moment, not at it: a
  frame arriving at the fire instant makes every device (a weak phone, a
  process playing hundreds of devices) parse JSON exactly when it should be
  drawing the launch. The launch's synchrony does not depend on it: the
  ``countdown`` frame carries ``fire_at_ms`` and each screen fires by its own
  clock estimate.
- **The deadline report**: when the event's ``report_deadline`` comes, the
  report is taken and journaled as an automatic snapshot labelled "báo cáo
  lúc 07:30". A process that starts after the deadline with no automatic
  snapshot takes none: a report taken late would carry the label of a moment
  it does not describe. An operator takes one on demand instead.

Every process of a cluster has these timers; the deadline report is taken
by one of them (a lease), and the fold keeps only the first automatic
snapshot should a lease expire mid-way (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from server.core import launch as ln
from server.core import report_snapshots as rs
from server.core.events import instant_ms
from server.core.report import build_report
from server.io.clock import now_ms
from server.io.effects import push_launch

if TYPE_CHECKING:
    from server.io.runtime import EventRuntime

FIRED_PUSH_DELAY_S = 0.5
DEADLINE_TIMER = "report_deadline"
DEADLINE_LEASE_MS = 60_000
_TASKS: set[asyncio.Task[Any]] = set()


# -- the fired push ------------------------------------------------------------------


def schedule_fired_push(rt: EventRuntime) -> None:
    """Shortly after fire_at_ms, push the ``fired`` state (for late screens and consoles)."""
    old = rt.timers.pop("fired", None)
    if old is not None:
        old.cancel()
    current = ln.launch_of(rt.state).current
    if current is None or current.fire_at_ms is None or current.aborted_ms is not None:
        return
    delay = (current.fire_at_ms - now_ms()) / 1000.0
    if delay < 0:
        return
    rt.timers["fired"] = asyncio.get_running_loop().call_later(delay + FIRED_PUSH_DELAY_S, _fired_now, rt)


def _fired_now(rt: EventRuntime) -> None:
    rt.timers.pop("fired", None)
    push_launch(rt)
    rt.touch()


def launch_moved(rt: EventRuntime, seq: int, fact: Any) -> None:
    """A launch fact may set, move or cancel the fire time."""
    schedule_fired_push(rt)


# -- the deadline report ----------------------------------------------------------------


def schedule_deadline(rt: EventRuntime) -> None:
    """Set the timer for the event's report deadline (see the module docstring)."""
    old = rt.timers.pop(DEADLINE_TIMER, None)
    if old is not None:
        old.cancel()
    if rs.has_automatic(rt.state):
        return
    delay = (instant_ms(rt.state.info.report_deadline) - now_ms()) / 1000.0
    if delay < 0:
        return  # restarted after the deadline: no late "07:30" report (documented above)
    rt.timers[DEADLINE_TIMER] = asyncio.get_running_loop().call_later(delay + 0.001, _deadline_reached, rt)


def deadline_moved(rt: EventRuntime, seq: int, fact: Any) -> None:
    """A new report deadline moves the automatic snapshot's timer."""
    schedule_deadline(rt)


def _deadline_reached(rt: EventRuntime) -> None:
    rt.timers.pop(DEADLINE_TIMER, None)
    task = asyncio.get_running_loop().create_task(take_deadline_snapshot(rt))
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


async def take_deadline_snapshot(rt: EventRuntime) -> None:
    if rs.has_automatic(rt.state):
        return
    try:
        if not await rt.journal.try_lease(rt.id, "deadline-report", DEADLINE_LEASE_MS):
            return
        now = now_ms()
        info = rt.state.info
        fact = rs.decide_snapshot(rt.state, build_report(rt.state, now),
                                  rs.deadline_label(info.report_deadline, info.timezone), now, None, automatic=True)
        await rt.commit([fact])
        rt.log.info("report_snapshot_taken", label=fact.label, automatic=True)
    except Exception:  # the ceremony goes on; the operator can take one by hand
        rt.log.exception("report_snapshot_failed")
