"""The launch: the synchronized moment, armed, keyed, counted down, fired once.

See docs/protocol.md#launch. The states of one attempt::

    idle --arm--> armed --(keys_required-th distinct key)--> countdown
    countdown --(now >= fire_at_ms)--> fired      (derived, never a fact)
    armed|countdown (before fire_at_ms) --abort--> aborted --arm--> armed
    aborted | fired rehearsal --reset--> idle

``fired`` is not a fact: the completing press fixes
``fire_at_ms = press.at_ms + countdown_ms`` in the fold, and every view
compares that with the time it is given. So a replay gives the same
``fire_at_ms``, and a client that connects late sees ``fired`` without any
process having to "fire" at the right instant.

A real (non-rehearsal) launch fires exactly once: after its fire time it can
be neither aborted, reset nor armed again (``launch_already_fired``). A
rehearsal goes through the same flow, marked ``rehearsal``; ``reset`` returns
it to idle, and a real launch may be armed after it. Every finished attempt
is kept in ``history`` for the report.

Races between processes are outcomes, not errors: each fact names its
``attempt`` and the fold re-checks every rule at the fact's own ``at_ms``. An
abort folded at or after ``fire_at_ms`` (it lost the race with the fire) is a
no-op, and so is a press that arrives once the keys are complete, or a
second arm decided on the same idle state.

Refusal codes: ``launch_not_armed``, ``launch_already_armed``,
``launch_already_fired``, ``launch_countdown`` (a press once the keys are
complete), ``key_already_pressed``, ``launch_not_fired`` (a firing report
with nothing fired) are 409s; ``invalid_countdown``, ``invalid_keys``,
``invalid_key``, ``validation_error`` are 400s.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest, Conflict
from server.core.fields import known_fields
from server.core.points import Decision, get_point
from server.core.state import EventState, Extension
from server.core.text import clean, fold

# The countdown frame goes to every point the moment the last key is pressed,
# and each point fires by its own clock at fire_at_ms. So the countdown must
# be long enough for that frame to reach a phone on a weak 3G link, with a
# reconnect and a retry or two (a second or more each), before the fire time:
# 3 s is the floor. 60 s caps how long a hall full of people waits on a
# number counting down.
COUNTDOWN_MIN_MS = 3_000
COUNTDOWN_MAX_MS = 60_000
DEFAULT_COUNTDOWN_MS = 5_000
KEYS_MIN = 1
KEYS_MAX = 10
MAX_KEY = 100
ARM_FIELDS = ("countdown_ms", "keys_required", "rehearsal")  # the body of launch/arm
PRESS_FIELDS = ("key",)  # the body of launch/press


@dataclass(slots=True)
class Press:
    key: str
    at_ms: float


@dataclass(slots=True)
class FiredReport:
    fired_ms: float
    offset_ms: float
    rtt_ms: float
    at_ms: float


@dataclass(slots=True)
class Attempt:
    """One arming, from arm to its fire, abort or reset."""

    number: int
    rehearsal: bool
    countdown_ms: int
    keys_required: int
    armed_ms: float
    armed_by: str | None = None
    pressed: list[Press] = field(default_factory=list)
    fire_at_ms: float | None = None
    aborted_ms: float | None = None
    aborted_by: str | None = None
    reset_ms: float | None = None
    # point code -> its first firing report
    fired: dict[str, FiredReport] = field(default_factory=dict)

    def phase(self, t: float) -> str:
        if self.aborted_ms is not None:
            return "aborted"
        if self.fire_at_ms is None:
            return "armed"
        return "countdown" if t < self.fire_at_ms else "fired"

    def has_key(self, key: str) -> bool:
        # Compared folded (case and diacritics): "Nguyễn Văn A" and "nguyen van a"
        # are one person typing twice, which a two-person rule must not accept.
        folded = fold(key)
        return any(fold(p.key) == folded for p in self.pressed)


@dataclass(slots=True)
class Launch:
    current: Attempt | None = None
    history: list[Attempt] = field(default_factory=list)
    attempts: int = 0  # the number of the last attempt armed


def launch_of(state: EventState) -> Launch:
    launch = state.ext.get("launch")
    if launch is None:
        launch = state.ext["launch"] = Launch()
    assert isinstance(launch, Launch)
    return launch


def phase(launch: Launch, t: float) -> str:
    """``idle``, ``armed``, ``countdown``, ``fired`` or ``aborted`` at time ``t``."""
    return "idle" if launch.current is None else launch.current.phase(t)


# -- rules, shared by the deciders (which raise) and the folds (which ignore) --------

Refusal = tuple[str, str] | None


def _arm_refusal(launch: Launch, t: float) -> Refusal:
    now = phase(launch, t)
    if now in ("armed", "countdown"):
        return "launch_already_armed", "the launch is already armed; abort it first"
    if now == "fired" and launch.current is not None and not launch.current.rehearsal:
        return "launch_already_fired", "the launch has fired; it fires only once"
    return None


def _press_refusal(launch: Launch, key: str, t: float) -> Refusal:
    now = phase(launch, t)
    if now in ("idle", "aborted"):
        return "launch_not_armed", "the launch is not armed"
    if now == "countdown":
        return "launch_countdown", "every key has pressed; the countdown is running"
    if now == "fired":
        return "launch_already_fired", "the launch has fired"
    assert launch.current is not None
    if launch.current.has_key(key):
        return "key_already_pressed", f"{key!r} has already pressed; another person must press"
    return None


def _abort_refusal(launch: Launch, t: float) -> Refusal:
    now = phase(launch, t)
    if now in ("idle", "aborted"):
        return "launch_not_armed", "the launch is not armed"
    if now == "fired":
        return "launch_already_fired", "the launch has fired; too late to abort"
    return None


def _reset_refusal(launch: Launch, t: float) -> Refusal:
    now = phase(launch, t)
    if now in ("armed", "countdown"):
        return "launch_already_armed", "the launch is armed; abort it first"
    if now == "fired" and launch.current is not None and not launch.current.rehearsal:
        return "launch_already_fired", "a real launch that fired cannot be reset"
    return None


def _check(refusal: Refusal) -> None:
    if refusal is not None:
        raise Conflict(refusal[1], code=refusal[0])


# -- organizer commands -----------------------------------------------------------------


def _whole(value: Any, lo: int, hi: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and lo <= value <= hi else None


def decide_arm(state: EventState, body: Any, now_ms: float, actor: str | None) -> Decision:
    """``POST launch/arm`` with ``{"countdown_ms", "keys_required", "rehearsal"}``
    (defaults 5000, 1, false)."""
    body = known_fields(body, ARM_FIELDS)
    countdown = _whole(body.get("countdown_ms", DEFAULT_COUNTDOWN_MS), COUNTDOWN_MIN_MS, COUNTDOWN_MAX_MS)
    if countdown is None:
        raise BadRequest(f"countdown_ms must be a whole number from {COUNTDOWN_MIN_MS} to {COUNTDOWN_MAX_MS}",
                         code="invalid_countdown")
    keys = _whole(body.get("keys_required", KEYS_MIN), KEYS_MIN, KEYS_MAX)
    if keys is None:
        raise BadRequest(f"keys_required must be a whole number from {KEYS_MIN} to {KEYS_MAX}",
                         code="invalid_keys")
    rehearsal = body.get("rehearsal", False)
    if not isinstance(rehearsal, bool):
        raise BadRequest("rehearsal must be true or false", code="validation_error")
    launch = launch_of(state)
    _check(_arm_refusal(launch, now_ms))
    return Decision([f.LaunchArmed(at_ms=now_ms, actor=actor, attempt=launch.attempts + 1,
                                   countdown_ms=countdown, keys_required=keys, rehearsal=rehearsal)])


def decide_press(state: EventState, body: Any, now_ms: float, actor: str | None) -> Decision:
    """``POST launch/press`` with ``{"key": "<name of the person pressing>"}``."""
    raw = known_fields(body, PRESS_FIELDS).get("key") if isinstance(body, dict) else None
    key = clean(raw) if isinstance(raw, str) else ""
    if not key or len(key) > MAX_KEY:
        raise BadRequest(f"key must be the name of the person pressing (1 to {MAX_KEY} characters)",
                         code="invalid_key")
    launch = launch_of(state)
    _check(_press_refusal(launch, key, now_ms))
    assert launch.current is not None
    return Decision([f.LaunchKeyPressed(at_ms=now_ms, actor=actor, attempt=launch.current.number, key=key)])


def decide_abort(state: EventState, now_ms: float, actor: str | None) -> Decision:
    """``POST launch/abort``: while armed, or in countdown before ``fire_at_ms``."""
    launch = launch_of(state)
    _check(_abort_refusal(launch, now_ms))
    assert launch.current is not None
    return Decision([f.LaunchAborted(at_ms=now_ms, actor=actor, attempt=launch.current.number)])


def decide_reset(state: EventState, now_ms: float, actor: str | None) -> Decision:
    """Return a fired rehearsal or an aborted launch to idle (already idle: nothing)."""
    launch = launch_of(state)
    _check(_reset_refusal(launch, now_ms))
    if launch.current is None:
        return Decision([])
    return Decision([f.LaunchReset(at_ms=now_ms, actor=actor, attempt=launch.current.number)])


# -- point report: launch.fired -------------------------------------------------------------


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number", code="validation_error")
    return float(value)


def decide_fired_report(state: EventState, code: str, msg_id: str, fired_ms: Any, offset_ms: Any,
                        rtt_ms: Any, now_ms: float) -> Decision:
    """The point frame ``launch.fired``: when the point's screen fired.

    Idempotent by message id (docs/protocol.md#idempotency). The first report
    of a point wins; a later one with a new id is acknowledged and dropped, so
    a client re-reporting after a reconnect adds nothing to the journal at the
    busiest moment of the ceremony.
    """
    point = get_point(state, code)
    if msg_id in point.applied:
        return Decision([], point.applied[msg_id])
    fired = _number(fired_ms, "fired_ms")
    offset = _number(offset_ms, "offset_ms")
    rtt = _number(rtt_ms, "rtt_ms")
    if rtt < 0:
        raise BadRequest("rtt_ms must be ≥ 0", code="validation_error")
    attempt = launch_of(state).current
    if attempt is None or attempt.fire_at_ms is None or attempt.aborted_ms is not None:
        raise Conflict("no launch has been counted down or fired", code="launch_not_fired")
    if code in attempt.fired:
        return Decision([])
    return Decision([f.LaunchFiredReported(at_ms=now_ms, code=code, msg_id=msg_id, attempt=attempt.number,
                                           fired_ms=fired, offset_ms=offset, rtt_ms=rtt)])


# -- the folds ---------------------------------------------------------------------------------


def _attempt(launch: Launch, number: int) -> Attempt | None:
    cur = launch.current
    return cur if cur is not None and cur.number == number else None


def apply_arm(state: EventState, fact: f.LaunchArmed) -> None:
    launch = launch_of(state)
    if fact.attempt != launch.attempts + 1 or _arm_refusal(launch, fact.at_ms) is not None:
        return
    if launch.current is not None:
        launch.history.append(launch.current)
    launch.current = Attempt(number=fact.attempt, rehearsal=fact.rehearsal, countdown_ms=fact.countdown_ms,
                             keys_required=fact.keys_required, armed_ms=fact.at_ms, armed_by=fact.actor)
    launch.attempts = fact.attempt


def apply_press(state: EventState, fact: f.LaunchKeyPressed) -> None:
    launch = launch_of(state)
    attempt = _attempt(launch, fact.attempt)
    if attempt is None or _press_refusal(launch, fact.key, fact.at_ms) is not None:
        return
    attempt.pressed.append(Press(fact.key, fact.at_ms))
    if len(attempt.pressed) >= attempt.keys_required:
        attempt.fire_at_ms = fact.at_ms + attempt.countdown_ms


def apply_abort(state: EventState, fact: f.LaunchAborted) -> None:
    launch = launch_of(state)
    attempt = _attempt(launch, fact.attempt)
    # Re-checked at the fact's own time: an abort at or after fire_at_ms lost
    # the race with the fire and changes nothing.
    if attempt is None or _abort_refusal(launch, fact.at_ms) is not None:
        return
    attempt.aborted_ms = fact.at_ms
    attempt.aborted_by = fact.actor


def apply_reset(state: EventState, fact: f.LaunchReset) -> None:
    launch = launch_of(state)
    attempt = _attempt(launch, fact.attempt)
    if attempt is None or _reset_refusal(launch, fact.at_ms) is not None:
        return
    attempt.reset_ms = fact.at_ms
    launch.history.append(attempt)
    launch.current = None


def _fold_report(state: EventState, launch: Launch, r: f.LaunchFiredReported | f.FiredEntry) -> None:
    point = state.points.get(r.code)
    if point is None or r.msg_id in point.applied:
        return
    point.applied[r.msg_id] = {}
    attempt = _attempt(launch, r.attempt)
    if attempt is None or attempt.fire_at_ms is None or attempt.aborted_ms is not None:
        return
    if r.code not in attempt.fired:
        attempt.fired[r.code] = FiredReport(r.fired_ms, r.offset_ms, r.rtt_ms, r.at_ms)


def apply_fired(state: EventState, fact: f.LaunchFiredReported) -> None:
    """One report per fact: what journals before ``launch.fired_batch`` hold."""
    _fold_report(state, launch_of(state), fact)


def apply_fired_batch(state: EventState, fact: f.LaunchFiredBatch) -> None:
    """Each report of the batch, in order, exactly as if it were its own fact."""
    launch = launch_of(state)
    for r in fact.reports:
        _fold_report(state, launch, r)


def batch_reports(reports: list[f.LaunchFiredReported], now_ms: float) -> f.LaunchFiredBatch:
    """Coalesce decided ``launch.fired_reported`` facts into one batch fact.

    Each entry keeps its own report's ``at_ms`` (when its frame was read), so
    folding the batch gives the same state as folding the reports one by one.
    The reports come from :func:`decide_fired_report` (already validated), so
    the entries are built without validating them again.
    """
    entries = tuple([
        f.construct_trusted(f.FiredEntry, {"code": r.code, "msg_id": r.msg_id, "attempt": r.attempt,
                                           "fired_ms": r.fired_ms, "offset_ms": r.offset_ms, "rtt_ms": r.rtt_ms,
                                           "at_ms": r.at_ms})
        for r in reports
    ])
    return f.LaunchFiredBatch.model_construct(at_ms=now_ms, reports=entries)


# -- views ---------------------------------------------------------------------------------------


def launch_view(state: EventState, now_ms: float) -> dict[str, Any]:
    """The launch object of docs/protocol.md#launch, plus ``rehearsal``,
    ``armed_ms`` and ``pressed`` ([{key, at_ms}])."""
    launch = launch_of(state)
    a = launch.current
    if a is None:
        return {"state": "idle", "countdown_ms": None, "keys_required": None, "keys_pressed": [],
                "fire_at_ms": None, "rehearsal": False, "armed_ms": None, "pressed": []}
    return {
        "state": a.phase(now_ms),
        "countdown_ms": a.countdown_ms,
        "keys_required": a.keys_required,
        "keys_pressed": [p.key for p in a.pressed],
        "fire_at_ms": a.fire_at_ms,
        "rehearsal": a.rehearsal,
        "armed_ms": a.armed_ms,
        "pressed": [{"key": p.key, "at_ms": p.at_ms} for p in a.pressed],
    }


def _counted(a: Attempt | None) -> bool:
    return a is not None and a.fire_at_ms is not None and a.aborted_ms is None


def _stats(state: EventState, a: Attempt | None, only: Collection[str] | None = None) -> dict[str, Any]:
    """``only``: a desk's points (iterated: its subtree, not the event's every
    point, so 200 desks' deltas cost their subtrees, not 200 times the event)."""
    if a is None or not _counted(a):
        return {"count": 0, "spread_ms": None, "missing": 0, "worst_bound_ms": None, "fire_at_ms": None}
    if only is None:
        fired = a.fired
        missing = sum(1 for code in state.points if code not in a.fired)
    else:
        fired = {c: r for c in only if (r := a.fired.get(c)) is not None}
        missing = sum(1 for c in only if c in state.points) - len(fired)
    times = [r.fired_ms for r in fired.values()]
    return {
        "count": len(fired),
        "spread_ms": max(times) - min(times) if times else None,
        "missing": missing,
        # A point's error is bounded by half its round trip (NTP-style).
        "worst_bound_ms": max(r.rtt_ms for r in fired.values()) / 2 if fired else None,
        "fire_at_ms": a.fire_at_ms,
    }


def _missing(state: EventState, a: Attempt | None, only: Collection[str] | None = None) -> list[str]:
    if a is None or not _counted(a):
        return []
    return sorted(code for code in (state.points if only is None else only)
                  if code not in a.fired and code in state.points)


def fired_ms(state: EventState, code: str) -> float | None:
    """When ``code``'s screen fired in the current launch (its report), or None:
    the point view's ``fired_ms`` (docs/protocol.md#points)."""
    a = launch_of(state).current
    report = a.fired.get(code) if a is not None else None
    return report.fired_ms if report is not None else None


def fired_codes_of_reset(state: EventState) -> list[str]:
    """The points that had fired in the attempt a ``launch.reset`` just put
    away: their ``fired_ms`` went back to null."""
    history = launch_of(state).history
    return list(history[-1].fired) if history else []


def fired_stats(state: EventState, only: Collection[str] | None = None) -> dict[str, Any]:
    """The console's "fired / spread" figures for the current launch (zeros and
    nulls when nothing has been counted down); ``only``: a desk's points."""
    return _stats(state, launch_of(state).current, only)


def fired_missing(state: EventState, only: Collection[str] | None = None) -> list[str]:
    """The codes of the points that have not reported firing, sorted; ``only``: a desk's points."""
    return _missing(state, launch_of(state).current, only)


def _attempt_report(state: EventState, a: Attempt, now_ms: float | None,
                    only: Collection[str] | None = None) -> dict[str, Any]:
    return {
        "attempt": a.number,
        "rehearsal": a.rehearsal,
        "state": a.phase(math.inf if now_ms is None else now_ms),
        "armed_ms": a.armed_ms,
        "armed_by": a.armed_by,
        "countdown_ms": a.countdown_ms,
        "keys_required": a.keys_required,
        "keys": [{"key": p.key, "at_ms": p.at_ms} for p in a.pressed],
        "fire_at_ms": a.fire_at_ms,
        "aborted_ms": a.aborted_ms,
        "aborted_by": a.aborted_by,
        "reset_ms": a.reset_ms,
        "fired": _stats(state, a, only),
        "missing": _missing(state, a, only),
        "reports": [{"code": c, **asdict(r)} for c, r in sorted(a.fired.items() if only is None else
                                                                ((c, a.fired[c]) for c in only if c in a.fired))],
    }


def launch_report(state: EventState, now_ms: float | None = None,
                  only: Collection[str] | None = None) -> dict[str, Any]:
    """The launch part of report.json: the real launch (or null), the real
    attempts aborted before it, and the rehearsals. Without ``now_ms`` a
    launch with a fire time counts as fired (the report is taken after)."""
    launch = launch_of(state)
    attempts = [*launch.history, *([launch.current] if launch.current else [])]
    cur = launch.current
    real = cur if cur is not None and not cur.rehearsal and cur.aborted_ms is None else None
    return {
        "launch": _attempt_report(state, real, now_ms, only) if real else None,
        "aborted": [_attempt_report(state, a, now_ms, only) for a in attempts
                    if not a.rehearsal and a.aborted_ms is not None],
        "rehearsals": [_attempt_report(state, a, now_ms, only) for a in attempts if a.rehearsal],
    }


# -- snapshot -------------------------------------------------------------------------------------


def _load_attempt(data: dict[str, Any]) -> Attempt:
    values = dict(data)
    values["pressed"] = [Press(**p) for p in values.get("pressed", [])]
    values["fired"] = {c: FiredReport(**r) for c, r in values.get("fired", {}).items()}
    return Attempt(**values)


class _LaunchExtension(Extension):
    def dump(self, state: EventState) -> Any:
        launch = state.ext.get("launch")
        return asdict(launch) if isinstance(launch, Launch) else None

    def load(self, state: EventState, data: Any) -> None:
        current = data.get("current")
        state.ext["launch"] = Launch(
            current=_load_attempt(current) if current is not None else None,
            history=[_load_attempt(a) for a in data.get("history", [])],
            attempts=data.get("attempts", 0),
        )


EXTENSION = _LaunchExtension()
