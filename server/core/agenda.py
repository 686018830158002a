"""The ceremony's agenda: its planned items, and where the ceremony is in them.

See docs/protocol.md#agenda. States and the actions that move between them::

    not_started --start--> running --pause--> paused --resume--> running
                           running|paused --next/prev--> running (another item)
                           running|paused --finish--> finished
    not_started|finished --PUT items--> not_started (progress reset)

Each refusal has a stable code (``agenda_empty``, ``agenda_not_started``,
``agenda_already_started``, ``agenda_at_end``, ``agenda_at_start``,
``agenda_paused``, ``agenda_not_paused``, ``agenda_finished``,
``agenda_running``; ``unknown_action`` is a 400).

Why the choices:

- ``next``/``prev``/``finish`` are allowed while paused: an operator who paused
  for a technical problem and then decides to move on should not have to
  resume first. The time paused is excluded from the item left, and the next
  item starts running.
- The actual times are kept per item for the post-event report: the first
  start (``prev`` re-enters an item and keeps it), the last end, and the
  running time spent over every visit, paused time excluded.
- ``offset_s`` follows Ontime: how far behind (+) or ahead (−) of the planned
  timetable the ceremony runs. Items before the current one count with
  (actual − planned); the current item counts only once it overruns, as
  max(0, elapsed − planned), because an item still running may yet end on
  time. An item after the current one that was visited and left by ``prev``
  counts as still to come: its time spent is part of its own budget and shows
  when it is re-entered. Paused time is not in the offset (it is in
  ``paused_ms``), as the item timers exclude it.
- Every step fact carries the item the decider saw (``current``): two
  operators pressing ``next`` at once advance the agenda once, not twice. The
  fold re-checks every rule against the fact's own ``at_ms`` and ignores a
  fact that lost such a race.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, cast

from server.core import facts as f
from server.core.errors import BadRequest, Conflict
from server.core.fields import known_fields
from server.core.points import Decision
from server.core.state import EventState, Extension
from server.core.text import clean

ACTIONS = ("start", "next", "prev", "pause", "resume", "finish")
STATES = ("not_started", "running", "paused", "finished")
MAX_ITEMS = 100
ITEM_FIELDS = ("title", "speaker", "location", "planned_s")  # an item of PUT agenda
# What the agenda object adds to an item when read: known, ignored when sent back.
ITEM_READ_ONLY = ("location_name", "actual_start_ms", "actual_end_ms", "elapsed_s", "over")
MAX_TITLE = 300
MAX_SPEAKER = 200
MAX_PLANNED_S = 86_400  # one day: an item longer than the ceremony is a typo


@dataclass(slots=True)
class Item:
    title: str
    speaker: str
    location: str | None
    planned_s: int
    actual_start_ms: float | None = None  # first entry
    actual_end_ms: float | None = None  # last exit; None while it is current
    spent_ms: float = 0.0  # running time of its closed visits, pauses excluded

    def spec(self) -> tuple[str, str, str | None, int]:
        return (self.title, self.speaker, self.location, self.planned_s)


@dataclass(slots=True)
class Agenda:
    items: list[Item] = field(default_factory=list)
    state: str = "not_started"
    current: int | None = None
    item_started_ms: float | None = None  # when the current visit of the current item began
    visit_paused_ms: float = 0.0  # paused time inside the current visit
    paused_at_ms: float | None = None  # when the ongoing pause began
    paused_total_ms: float = 0.0  # closed pauses of the whole ceremony
    started_ms: float | None = None
    finished_ms: float | None = None
    updated_ms: float | None = None  # at_ms of the last fact folded


def agenda_of(state: EventState) -> Agenda:
    agenda = state.ext.get("agenda")
    if agenda is None:
        agenda = state.ext["agenda"] = Agenda()
    assert isinstance(agenda, Agenda)
    return agenda


# -- setting the items -----------------------------------------------------------


def _planned(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= MAX_PLANNED_S:
        return value
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return ""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return clean(value)
    return None


def validate_items(state: EventState, body: Any) -> list[f.AgendaItemSpec]:
    """Clean and check a ``PUT agenda`` body; refuse it with every problem found.

    ``details`` lists ``{"item": <0-based index or null>, "field", "message"}``.
    A field no agenda item has is ``unknown_field``; the fields the agenda
    object adds to an item when read (``ITEM_READ_ONLY``) are known and
    ignored, so a client may send back the items it read.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", code="validation_error",
                         details=[{"item": None, "field": None, "message": "not an object"}])
    known_fields(body, ("items",))
    raw = body.get("items")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS:
        raise BadRequest(f"items must be a list of 1 to {MAX_ITEMS} items", code="validation_error",
                         details=[{"item": None, "field": "items", "message": f"1 to {MAX_ITEMS} items"}])
    unknown = [{"item": i, "field": str(k), "message": "unknown"} for i, item in enumerate(raw)
               if isinstance(item, dict) for k in item if k not in ITEM_FIELDS + ITEM_READ_ONLY]
    if unknown:
        raise BadRequest(f"unknown field(s) in agenda items: {', '.join(sorted({str(u['field']) for u in unknown}))}",
                         code="unknown_field", details=unknown)
    specs: list[f.AgendaItemSpec] = []
    problems: list[dict[str, Any]] = []

    def bad(i: int, name: str | None, message: str) -> None:
        problems.append({"item": i, "field": name, "message": message})

    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            bad(i, None, "an item must be an object")
            continue
        errors_before = len(problems)
        title = _text(item.get("title"))
        if not title:
            bad(i, "title", "title is required")
        elif len(title) > MAX_TITLE:
            bad(i, "title", f"title is longer than {MAX_TITLE} characters")
        speaker = _text(item.get("speaker"))
        if speaker is None:
            bad(i, "speaker", "speaker must be text")
        elif len(speaker) > MAX_SPEAKER:
            bad(i, "speaker", f"speaker is longer than {MAX_SPEAKER} characters")
        location = _text(item.get("location")) or None
        if location is not None and location not in state.points:
            bad(i, "location", f"location {location!r} is not a point of this event")
        if "location" in item and _text(item["location"]) is None:
            bad(i, "location", "location must be a point code or null")
        planned = _planned(item.get("planned_s"))
        if planned is None:
            bad(i, "planned_s", f"planned_s must be a whole number of seconds from 0 to {MAX_PLANNED_S}")
        if len(problems) == errors_before:
            assert title is not None and speaker is not None and planned is not None
            specs.append(f.AgendaItemSpec(title=title, speaker=speaker, location=location, planned_s=planned))
    if problems:
        raise BadRequest(f"{len(problems)} problems in the agenda", code="validation_error", details=problems)
    return specs


def decide_set_agenda(state: EventState, body: Any, now_ms: float, actor: str | None) -> Decision:
    """``PUT agenda``: replace the items while the agenda is not running.

    Replacing a finished agenda resets it to ``not_started`` (a rehearsal run
    followed by the real one); replacing a running one would lose where the
    ceremony is, so it is refused (``agenda_running``). The same items again
    on a not-started agenda change nothing.
    """
    specs = validate_items(state, body)
    agenda = agenda_of(state)
    if agenda.state in ("running", "paused"):
        raise Conflict("the agenda is running; finish it before replacing its items", code="agenda_running")
    if agenda.state == "not_started" and [i.spec() for i in agenda.items] == [
        (s.title, s.speaker, s.location, s.planned_s) for s in specs
    ]:
        return Decision([])
    return Decision([f.AgendaSet(at_ms=now_ms, actor=actor, items=tuple(specs))])


# -- actions ----------------------------------------------------------------------


def _refusal(agenda: Agenda, action: str) -> tuple[str, str] | None:
    """Why ``action`` cannot happen now: (code, message), or None. Shared by the
    decider (which raises) and the fold (which ignores a fact that lost a race)."""
    if agenda.state == "finished":
        return "agenda_finished", "the agenda is finished; set new items to run it again"
    if action == "start":
        if not agenda.items:
            return "agenda_empty", "the agenda has no items"
        if agenda.state != "not_started":
            return "agenda_already_started", "the agenda has already started"
        return None
    if agenda.state == "not_started":
        return "agenda_not_started", "the agenda has not started"
    assert agenda.current is not None
    if action == "next" and agenda.current >= len(agenda.items) - 1:
        return "agenda_at_end", "this is the last item; use finish"
    if action == "prev" and agenda.current <= 0:
        return "agenda_at_start", "this is the first item"
    if action == "pause" and agenda.state == "paused":
        return "agenda_paused", "the agenda is already paused"
    if action == "resume" and agenda.state == "running":
        return "agenda_not_paused", "the agenda is not paused"
    return None


def decide_agenda_action(state: EventState, action: str, now_ms: float, actor: str | None) -> Decision:
    """``POST agenda/{action}``: one step of the state machine, or a coded refusal."""
    if action not in ACTIONS:
        raise BadRequest(f"unknown agenda action {action!r}; one of {', '.join(ACTIONS)}", code="unknown_action")
    agenda = agenda_of(state)
    refused = _refusal(agenda, action)
    if refused is not None:
        raise Conflict(refused[1], code=refused[0])
    step = cast(f.AgendaAction, action)  # checked against ACTIONS above
    return Decision([f.AgendaStepped(at_ms=now_ms, actor=actor, action=step, current=agenda.current)])


# -- the folds ------------------------------------------------------------------------


def apply_set(state: EventState, fact: f.AgendaSet) -> None:
    agenda = agenda_of(state)
    if agenda.state in ("running", "paused"):
        return  # lost a race with start: the running agenda stays
    state.ext["agenda"] = Agenda(
        items=[Item(s.title, s.speaker, s.location, s.planned_s) for s in fact.items],
        updated_ms=fact.at_ms,
    )


def _enter(agenda: Agenda, index: int, at: float) -> None:
    item = agenda.items[index]
    if item.actual_start_ms is None:
        item.actual_start_ms = at
    item.actual_end_ms = None
    agenda.current = index
    agenda.item_started_ms = at
    agenda.visit_paused_ms = 0.0
    agenda.paused_at_ms = None
    agenda.state = "running"


def _end_pause(agenda: Agenda, at: float) -> None:
    if agenda.paused_at_ms is not None:
        # Processes' clocks may differ by a few ms: never a negative duration.
        paused = max(0.0, at - agenda.paused_at_ms)
        agenda.visit_paused_ms += paused
        agenda.paused_total_ms += paused
        agenda.paused_at_ms = None


def _leave(agenda: Agenda, at: float) -> None:
    assert agenda.current is not None and agenda.item_started_ms is not None
    _end_pause(agenda, at)
    item = agenda.items[agenda.current]
    item.spent_ms += max(0.0, at - agenda.item_started_ms - agenda.visit_paused_ms)
    item.actual_end_ms = at


def apply_step(state: EventState, fact: f.AgendaStepped) -> None:
    agenda = agenda_of(state)
    if fact.current != agenda.current or _refusal(agenda, fact.action) is not None:
        return
    at = fact.at_ms
    action = fact.action
    if action == "start":
        agenda.started_ms = at
        _enter(agenda, 0, at)
    elif action in ("next", "prev"):
        assert agenda.current is not None
        target = agenda.current + (1 if action == "next" else -1)
        _leave(agenda, at)
        _enter(agenda, target, at)
    elif action == "pause":
        agenda.paused_at_ms = at
        agenda.state = "paused"
    elif action == "resume":
        _end_pause(agenda, at)
        agenda.state = "running"
    else:  # finish
        _leave(agenda, at)
        agenda.current = None
        agenda.item_started_ms = None
        agenda.visit_paused_ms = 0.0
        agenda.state = "finished"
        agenda.finished_ms = at
    agenda.updated_ms = at


# -- views ----------------------------------------------------------------------------


def _elapsed_ms(agenda: Agenda, index: int, now_ms: float) -> float:
    """Running time of one item so far: closed visits plus the current one."""
    item = agenda.items[index]
    spent = item.spent_ms
    if index == agenda.current and agenda.item_started_ms is not None:
        end = agenda.paused_at_ms if agenda.paused_at_ms is not None else now_ms
        spent += max(0.0, end - agenda.item_started_ms - agenda.visit_paused_ms)
    return spent


def _paused_ms(agenda: Agenda, now_ms: float) -> float:
    ongoing = max(0.0, now_ms - agenda.paused_at_ms) if agenda.paused_at_ms is not None else 0.0
    return agenda.paused_total_ms + ongoing


def _offset_ms(agenda: Agenda, elapsed: list[float]) -> float:
    """Behind (+) / ahead (−) of the timetable; see the module docstring."""
    total = 0.0
    for i, item in enumerate(agenda.items):
        planned = item.planned_s * 1000.0
        if agenda.current is None:
            if item.actual_start_ms is not None:  # finished agenda: every visited item
                total += elapsed[i] - planned
        elif i < agenda.current:
            total += elapsed[i] - planned
        elif i == agenda.current:
            total += max(0.0, elapsed[i] - planned)
    return total


def _s(ms: float) -> float:
    return round(ms / 1000.0, 3)


def _location_name(state: EventState, code: str | None) -> str | None:
    """Where an item takes place, for screens (a code means nothing in a hall)."""
    point = state.points.get(code) if code else None
    return point.name if point else None


def agenda_view(state: EventState, now_ms: float) -> dict[str, Any]:
    """The agenda object of docs/protocol.md#agenda, plus the live timing fields
    (per item ``actual_start_ms``, ``actual_end_ms``, ``elapsed_s``, ``over``;
    ``offset_s``, ``paused_ms``, ``current_elapsed_s``)."""
    agenda = agenda_of(state)
    elapsed = [_elapsed_ms(agenda, i, now_ms) for i in range(len(agenda.items))]
    items = [
        {
            "title": item.title,
            "speaker": item.speaker,
            "location": item.location,
            "location_name": _location_name(state, item.location),
            "planned_s": item.planned_s,
            "actual_start_ms": item.actual_start_ms,
            "actual_end_ms": item.actual_end_ms,
            "elapsed_s": _s(elapsed[i]),
            "over": elapsed[i] > item.planned_s * 1000.0,
        }
        for i, item in enumerate(agenda.items)
    ]
    return {
        "state": agenda.state,
        "current": agenda.current,
        "item_started_ms": agenda.item_started_ms,
        "items": items,
        "offset_s": _s(_offset_ms(agenda, elapsed)),
        "paused_ms": _paused_ms(agenda, now_ms),
        "current_elapsed_s": _s(elapsed[agenda.current]) if agenda.current is not None else None,
    }


def agenda_report(state: EventState, now_ms: float | None = None) -> dict[str, Any]:
    """The agenda part of the post-event report: each item planned vs actual.

    ``now_ms`` only matters while the agenda still runs (the current item's
    time so far); without it, the time of the last agenda fact is used.
    """
    agenda = agenda_of(state)
    now = now_ms if now_ms is not None else (agenda.updated_ms or 0.0)
    elapsed = [_elapsed_ms(agenda, i, now) for i in range(len(agenda.items))]
    items = []
    for i, item in enumerate(agenda.items):
        visited = item.actual_start_ms is not None
        items.append({
            "index": i,
            "title": item.title,
            "speaker": item.speaker,
            "location": item.location,
            "planned_s": item.planned_s,
            "actual_s": _s(elapsed[i]) if visited else None,
            "offset_s": _s(elapsed[i] - item.planned_s * 1000.0) if visited else None,
            "actual_start_ms": item.actual_start_ms,
            "actual_end_ms": item.actual_end_ms,
            "over": elapsed[i] > item.planned_s * 1000.0,
        })
    return {
        "state": agenda.state,
        "started_ms": agenda.started_ms,
        "finished_ms": agenda.finished_ms,
        "items": items,
        "planned_total_s": sum(item.planned_s for item in agenda.items),
        "actual_total_s": _s(sum(elapsed)),
        "offset_s": _s(_offset_ms(agenda, elapsed)),
        "paused_s": _s(_paused_ms(agenda, now)),
    }


# -- snapshot -------------------------------------------------------------------------


class _AgendaExtension(Extension):
    def dump(self, state: EventState) -> Any:
        agenda = state.ext.get("agenda")
        return asdict(agenda) if isinstance(agenda, Agenda) else None

    def load(self, state: EventState, data: Any) -> None:
        values = dict(data)
        values["items"] = [Item(**i) for i in values.get("items", [])]
        state.ext["agenda"] = Agenda(**values)


EXTENSION = _AgendaExtension()
