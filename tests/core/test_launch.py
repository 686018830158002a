"""The launch state machine (server/core/launch.py): transitions, refusals,
races between processes as no-op folds, firing telemetry, replay, snapshots."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import pytest

from server.core import facts as f
from server.core import fold as st
from server.core import launch as ln
from server.core.errors import BadRequest, Conflict, NotFound
from server.core.points import Decision
from tests.core.ceremony_run import T0
from tests.core.ceremony_run import Run as BaseRun

CODES = ("A", "B", "C")


def ms(offset: float) -> float:
    """Milliseconds after T0 (launch times are in ms, like the countdown)."""
    return T0 + offset


class Run(BaseRun):
    def step(self, op: str, arg: Any, at: float) -> Decision:
        return self.do(decide(self.state, op, arg, ms(at)))

    def view(self, at: float) -> dict[str, Any]:
        return ln.launch_view(self.state, ms(at))

    def replay(self) -> st.EventState:
        return st.fold_facts([(i + 1, journaled(x)) for i, x in enumerate(self.facts)])


def journaled(fact: Any) -> Any:
    """The fact as the journal gives it back (its JSON encoding, decoded)."""
    return f.parse_fact(f.dump_fact(fact))


def decide(state: st.EventState, op: str, arg: Any, now_ms: float) -> Decision:
    if op == "arm":
        return ln.decide_arm(state, arg, now_ms, "op")
    if op == "press":
        return ln.decide_press(state, {"key": arg}, now_ms, "op")
    if op == "abort":
        return ln.decide_abort(state, now_ms, "op")
    if op == "reset":
        return ln.decide_reset(state, now_ms, "op")
    raise AssertionError(op)


Step = tuple[str, Any, float]
ARM: Step = ("arm", {}, 0)  # 5 s countdown, one key
ARM2: Step = ("arm", {"countdown_ms": 5000, "keys_required": 2}, 0)
REHEARSAL: Step = ("arm", {"rehearsal": True}, 0)


def press(key: str, at: float) -> Step:
    return ("press", key, at)


def script(steps: list[Step]) -> Run:
    run = Run()
    for op, arg, at in steps:
        run.step(op, arg, at)
    return run


# -- transitions -----------------------------------------------------------------------------

# (steps, view at ms, state, keys_pressed, fire_at_ms, rehearsal)
FLOWS: list[tuple[str, list[Step], float, str, list[str], float | None, bool]] = [
    ("idle", [], 0, "idle", [], None, False),
    ("armed", [ARM], 1, "armed", [], None, False),
    ("one key counts down", [ARM, press("Lan", 1000)], 2000, "countdown", ["Lan"], ms(6000), False),
    ("just before the fire", [ARM, press("Lan", 1000)], 5999.9, "countdown", ["Lan"], ms(6000), False),
    ("fired at fire_at_ms", [ARM, press("Lan", 1000)], 6000, "fired", ["Lan"], ms(6000), False),
    ("fired stays fired", [ARM, press("Lan", 1000)], 1e9, "fired", ["Lan"], ms(6000), False),
    ("two keys: the first waits", [ARM2, press("Lan", 1000)], 9000, "armed", ["Lan"], None, False),
    ("two keys: the second counts down", [ARM2, press("Lan", 1000), press("Minh", 3000)], 4000,
     "countdown", ["Lan", "Minh"], ms(8000), False),
    ("countdown bound", [("arm", {"countdown_ms": 60_000}, 0), press("Lan", 10)], 60_009, "countdown",
     ["Lan"], ms(60_010), False),
    ("abort armed", [ARM, ("abort", None, 10)], 20, "aborted", [], None, False),
    ("abort in countdown", [ARM, press("Lan", 1000), ("abort", None, 5999)], 7000, "aborted", ["Lan"],
     ms(6000), False),
    ("arm again after abort", [ARM, ("abort", None, 10), ("arm", {}, 20)], 30, "armed", [], None, False),
    ("reset an aborted launch", [ARM, ("abort", None, 10), ("reset", None, 20)], 30, "idle", [], None,
     False),
    ("rehearsal armed", [REHEARSAL], 1, "armed", [], None, True),
    ("rehearsal fired", [REHEARSAL, press("Lan", 1000)], 7000, "fired", ["Lan"], ms(6000), True),
    ("rehearsal reset", [REHEARSAL, press("Lan", 1000), ("reset", None, 7000)], 7001, "idle", [], None,
     False),
    ("real after a reset rehearsal", [REHEARSAL, press("Lan", 1000), ("reset", None, 7000),
                                      ("arm", {}, 8000)], 8001, "armed", [], None, False),
    ("real straight after a fired rehearsal", [REHEARSAL, press("Lan", 1000), ("arm", {}, 7000)], 7001,
     "armed", [], None, False),
    ("real fires after a rehearsal", [REHEARSAL, press("Lan", 1000), ("arm", {}, 7000), press("Minh", 8000)],
     13_000, "fired", ["Minh"], ms(13_000), False),
    ("reset when idle does nothing", [("reset", None, 0)], 1, "idle", [], None, False),
]


@pytest.mark.parametrize(("steps", "at", "state", "keys", "fire_at", "rehearsal"),
                         [pytest.param(*flow[1:], id=flow[0]) for flow in FLOWS])
def test_flow(steps: list[Step], at: float, state: str, keys: list[str], fire_at: float | None,
              rehearsal: bool) -> None:
    view = script(steps).view(at)
    assert (view["state"], view["keys_pressed"], view["fire_at_ms"], view["rehearsal"]) == (
        state, keys, fire_at, rehearsal)


def test_view_fields() -> None:
    assert Run().view(0) == {"state": "idle", "countdown_ms": None, "keys_required": None, "keys_pressed": [],
                             "fire_at_ms": None, "rehearsal": False, "armed_ms": None, "pressed": []}
    view = script([("arm", {"countdown_ms": 10_000, "keys_required": 2}, 5), press("  Trần   Lan ", 7)]).view(8)
    assert view == {"state": "armed", "countdown_ms": 10_000, "keys_required": 2, "keys_pressed": ["Trần Lan"],
                    "fire_at_ms": None, "rehearsal": False, "armed_ms": ms(5),
                    "pressed": [{"key": "Trần Lan", "at_ms": ms(7)}]}


# -- refusals ------------------------------------------------------------------------------------

FIRED = [ARM, press("Lan", 1000)]  # fires at 6000
REFUSALS: list[tuple[str, list[Step], Step, str]] = [
    ("press when idle", [], press("Lan", 0), "launch_not_armed"),
    ("press after abort", [ARM, ("abort", None, 1)], press("Lan", 2), "launch_not_armed"),
    ("the same key twice", [ARM2, press("Lan", 1)], press("Lan", 2), "key_already_pressed"),
    ("the same key, other case and marks", [ARM2, press("Nguyễn Văn Lan", 1)], press("nguyen van  LAN", 2),
     "key_already_pressed"),
    ("press in countdown", FIRED, press("Minh", 2000), "launch_countdown"),
    ("press after the fire", FIRED, press("Minh", 6000), "launch_already_fired"),
    ("arm when armed", [ARM], ("arm", {}, 1), "launch_already_armed"),
    ("arm in countdown", FIRED, ("arm", {}, 5999), "launch_already_armed"),
    ("arm in a rehearsal countdown", [REHEARSAL, press("Lan", 1000)], ("arm", {}, 2000),
     "launch_already_armed"),
    ("arm after the real fire", FIRED, ("arm", {}, 6000), "launch_already_fired"),
    ("arm a rehearsal after the real fire", FIRED, ("arm", {"rehearsal": True}, 9000),
     "launch_already_fired"),
    ("abort after the fire", FIRED, ("abort", None, 6000), "launch_already_fired"),
    ("abort a fired rehearsal", [REHEARSAL, press("Lan", 1000)], ("abort", None, 6001),
     "launch_already_fired"),
    ("abort when idle", [], ("abort", None, 0), "launch_not_armed"),
    ("abort twice", [ARM, ("abort", None, 1)], ("abort", None, 2), "launch_not_armed"),
    ("reset a real launch that fired", FIRED, ("reset", None, 7000), "launch_already_fired"),
    ("reset while armed", [ARM], ("reset", None, 1), "launch_already_armed"),
    ("reset a rehearsal in countdown", [REHEARSAL, press("Lan", 1000)], ("reset", None, 2000),
     "launch_already_armed"),
]


@pytest.mark.parametrize(("before", "step", "code"), [pytest.param(*r[1:], id=r[0]) for r in REFUSALS])
def test_refusal(before: list[Step], step: Step, code: str) -> None:
    run = script(before)
    op, arg, at = step
    view, seq = run.view(at), run.state.seq
    with pytest.raises(Conflict) as err:
        decide(run.state, op, arg, ms(at))
    assert (err.value.code, err.value.status) == (code, 409)
    assert (run.view(at), run.state.seq) == (view, seq)


BAD_ARMS: list[tuple[Any, str]] = [
    ({"countdown_ms": 2999}, "invalid_countdown"),
    ({"countdown_ms": 60_001}, "invalid_countdown"),
    ({"countdown_ms": "5000"}, "invalid_countdown"),
    ({"countdown_ms": True}, "invalid_countdown"),
    ({"countdown_ms": 5000.5}, "invalid_countdown"),
    ({"countdown_ms": None}, "invalid_countdown"),
    ({"keys_required": 0}, "invalid_keys"),
    ({"keys_required": 11}, "invalid_keys"),
    ({"keys_required": "2"}, "invalid_keys"),
    ({"rehearsal": "yes"}, "validation_error"),
    ([], "validation_error"),
    (None, "validation_error"),
]


@pytest.mark.parametrize(("body", "code"), BAD_ARMS)
def test_arm_validation(body: Any, code: str) -> None:
    with pytest.raises(BadRequest) as err:
        ln.decide_arm(Run().state, body, ms(0), "op")
    assert (err.value.code, err.value.status) == (code, 400)


@pytest.mark.parametrize(("body", "countdown", "keys"), [
    ({"countdown_ms": 3000, "keys_required": 1}, 3000, 1),
    ({"countdown_ms": 60_000.0, "keys_required": 10}, 60_000, 10),
    ({}, 5000, 1),
])
def test_arm_bounds(body: dict[str, Any], countdown: int, keys: int) -> None:
    (fact,) = ln.decide_arm(Run().state, body, ms(0), "op").facts
    assert (fact.countdown_ms, fact.keys_required, fact.rehearsal, fact.attempt) == (countdown, keys, False, 1)


@pytest.mark.parametrize("body", [{}, {"key": ""}, {"key": "   "}, {"key": "x" * 101}, {"key": 5}, None])
def test_press_validation(body: Any) -> None:
    run = script([ARM])
    with pytest.raises(BadRequest) as err:
        ln.decide_press(run.state, body, ms(1), "op")
    assert err.value.code == "invalid_key"


# -- races: the fold re-checks at the fact's own time ---------------------------------------------


def test_abort_that_lost_the_race_with_the_fire_is_a_no_op() -> None:
    run = script([ARM])
    completing = ln.decide_press(run.state, {"key": "Lan"}, ms(1000), "op1")  # fires at 6000
    # Another process has not seen the press yet: for it the launch is armed.
    stale_abort = ln.decide_abort(run.state, ms(6500), "op2")
    run.do(completing)
    run.do(stale_abort)
    assert run.view(6500)["state"] == "fired"
    assert ln.launch_of(run.state).current is not None
    assert ln.launch_of(run.state).current.aborted_ms is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("abort_at", "state"), [(5999.999, "aborted"), (6000, "fired"), (6001, "fired")])
def test_abort_fold_boundary(abort_at: float, state: str) -> None:
    run = script(FIRED)
    run.add(f.LaunchAborted(at_ms=ms(abort_at), actor="op", attempt=1))
    assert run.view(7000)["state"] == state


def test_two_last_keys_at_once_count_down_once() -> None:
    run = script([ARM2, press("Lan", 1000)])
    a = ln.decide_press(run.state, {"key": "Minh"}, ms(2000), "op1")
    b = ln.decide_press(run.state, {"key": "Hùng"}, ms(2001), "op2")
    run.do(a)
    run.do(b)
    view = run.view(2002)
    assert (view["keys_pressed"], view["fire_at_ms"]) == (["Lan", "Minh"], ms(7000))


def test_the_same_key_twice_at_once_counts_once() -> None:
    run = script([ARM2])
    a = ln.decide_press(run.state, {"key": "Lan"}, ms(10), "op1")
    b = ln.decide_press(run.state, {"key": "lan"}, ms(11), "op2")
    run.do(a)
    run.do(b)
    assert run.view(20)["keys_pressed"] == ["Lan"]


def test_two_arms_at_once_arm_once() -> None:
    run = Run()
    a = ln.decide_arm(run.state, {"countdown_ms": 3000}, ms(0), "op1")
    b = ln.decide_arm(run.state, {"countdown_ms": 9000}, ms(1), "op2")
    run.do(a)
    run.do(b)
    assert run.view(2)["countdown_ms"] == 3000
    assert ln.launch_of(run.state).attempts == 1


def test_press_for_an_earlier_attempt_is_ignored() -> None:
    run = script([ARM])
    stale = ln.decide_press(run.state, {"key": "Lan"}, ms(10), "op1")
    run.step("abort", None, 11)
    run.step("arm", {"keys_required": 2}, 12)
    run.do(stale)
    view = run.view(20)
    assert (view["state"], view["keys_pressed"]) == ("armed", [])


def test_a_real_launch_fires_once_even_when_an_arm_lost_the_race() -> None:
    run = script(FIRED)
    run.add(f.LaunchArmed(at_ms=ms(9000), attempt=2, countdown_ms=5000, keys_required=1))
    run.add(f.LaunchReset(at_ms=ms(9000), attempt=1))
    assert run.view(9001)["state"] == "fired"
    assert ln.launch_of(run.state).attempts == 1


# -- firing telemetry (launch.fired) ----------------------------------------------------------------


def report(run: Run, code: str, msg_id: str, fired: Any = 6001.0, offset: Any = -3.5, rtt: Any = 40.0,
           at: float = 6100) -> Decision:
    return run.do(ln.decide_fired_report(run.state, code, msg_id, fired, offset, rtt, ms(at)))


@pytest.mark.parametrize("steps", [[], [ARM], [ARM, ("abort", None, 10)], [*FIRED, ("abort", None, 5000)]])
def test_fired_report_needs_a_fired_launch(steps: list[Step]) -> None:
    with pytest.raises(Conflict) as err:
        report(script(steps), "A", "m1")
    assert err.value.code == "launch_not_fired"


@pytest.mark.parametrize(("fired", "offset", "rtt"), [
    ("6001", 0, 1), (math.nan, 0, 1), (math.inf, 0, 1), (True, 0, 1), (6001, None, 1), (6001, 0, -1),
    (6001, 0, "x"),
])
def test_fired_report_validation(fired: Any, offset: Any, rtt: Any) -> None:
    with pytest.raises(BadRequest) as err:
        report(script(FIRED), "A", "m1", fired, offset, rtt)
    assert err.value.code == "validation_error"


def test_fired_report_unknown_point() -> None:
    with pytest.raises(NotFound) as err:
        report(script(FIRED), "ZZ", "m1")
    assert err.value.code == "point_not_found"


def test_fired_report_is_idempotent_by_msg_id() -> None:
    run = script(FIRED)
    first = report(run, "A", "m1", fired=ms(6000.5), rtt=40)
    assert len(first.facts) == 1 and first.ack == {}
    again = report(run, "A", "m1", fired=ms(9999))
    assert (again.facts, again.ack) == ([], {})
    run.add(first.facts[0])  # the same fact twice in the journal (a retry raced itself)
    other_id = report(run, "A", "m2", fired=ms(9999))  # first report of a point wins
    assert other_id.facts == []
    assert ln.launch_of(run.state).current.fired["A"].fired_ms == ms(6000.5)  # type: ignore[union-attr]
    assert run.state.points["A"].applied == {"m1": {}}


def test_fired_stats() -> None:
    run = script(FIRED)
    assert ln.fired_stats(run.state) == {"count": 0, "spread_ms": None, "missing": 3, "worst_bound_ms": None,
                                         "fire_at_ms": ms(6000)}
    report(run, "A", "m1", fired=ms(6000.5), rtt=40, at=5990)  # a report in the countdown is accepted
    report(run, "B", "m1", fired=ms(6003), rtt=100)
    assert ln.fired_stats(run.state) == {"count": 2, "spread_ms": 2.5, "missing": 1, "worst_bound_ms": 50.0,
                                         "fire_at_ms": ms(6000)}
    assert ln.fired_missing(run.state) == ["C"]


@pytest.mark.parametrize("steps", [[], [ARM], [ARM, ("abort", None, 1)]])
def test_fired_stats_when_nothing_fired(steps: list[Step]) -> None:
    run = script(steps)
    assert ln.fired_stats(run.state) == {"count": 0, "spread_ms": None, "missing": 0, "worst_bound_ms": None,
                                         "fire_at_ms": None}
    assert ln.fired_missing(run.state) == []


def test_report_for_a_reset_rehearsal_records_the_id_only() -> None:
    run = script([REHEARSAL, press("Lan", 1000)])
    late = ln.decide_fired_report(run.state, "A", "m1", ms(6000), 0, 10, ms(6100))
    run.step("reset", None, 7000)
    run.do(late)
    assert run.state.points["A"].applied == {"m1": {}}
    assert ln.launch_of(run.state).history[0].fired == {}


# -- the report -----------------------------------------------------------------------------------


def full_day() -> Run:
    run = script([
        ("arm", {"rehearsal": True, "keys_required": 2}, 0), press("Lan", 100), press("Minh", 200),
    ])  # rehearsal fires at 5200
    report(run, "A", "r1", fired=ms(5201), rtt=30, at=5300)
    run.step("reset", None, 10_000)
    run.step("arm", {"countdown_ms": 10_000}, 20_000)
    run.step("abort", None, 21_000)
    run.step("arm", {"countdown_ms": 10_000, "keys_required": 2}, 30_000)
    run.step("press", "Lan", 31_000)
    run.step("press", "Minh", 32_000)  # fires at 42 000
    report(run, "A", "f1", fired=ms(42_001), rtt=20, at=42_100)
    report(run, "B", "f1", fired=ms(41_999), rtt=60, at=42_100)
    return run


def test_launch_report() -> None:
    out = ln.launch_report(full_day().state)
    real = out["launch"]
    assert (real["attempt"], real["state"], real["rehearsal"]) == (3, "fired", False)
    assert real["keys"] == [{"key": "Lan", "at_ms": ms(31_000)}, {"key": "Minh", "at_ms": ms(32_000)}]
    assert (real["armed_ms"], real["fire_at_ms"]) == (ms(30_000), ms(42_000))
    assert real["fired"] == {"count": 2, "spread_ms": 2.0, "missing": 1, "worst_bound_ms": 30.0,
                             "fire_at_ms": ms(42_000)}
    assert real["missing"] == ["C"]
    assert [r["code"] for r in real["reports"]] == ["A", "B"]
    assert [(a["attempt"], a["aborted_ms"]) for a in out["aborted"]] == [(2, ms(21_000))]
    (rehearsal,) = out["rehearsals"]
    assert (rehearsal["attempt"], rehearsal["state"], rehearsal["reset_ms"]) == (1, "fired", ms(10_000))
    assert rehearsal["fired"]["count"] == 1 and rehearsal["fired"]["fire_at_ms"] == ms(5200)
    assert ln.launch_report(full_day().state, ms(41_000))["launch"]["state"] == "countdown"


def test_launch_report_before_any_launch() -> None:
    assert ln.launch_report(Run().state) == {"launch": None, "aborted": [], "rehearsals": []}


# -- replay and snapshots ---------------------------------------------------------------------------


@pytest.mark.parametrize("at", [0, 5000, 25_000, 41_999, 42_000, 50_000])
def test_replay_is_deterministic(at: float) -> None:
    run = full_day()
    once, twice = run.replay(), run.replay()
    assert ln.launch_view(once, ms(at)) == ln.launch_view(twice, ms(at)) == run.view(at)
    assert ln.fired_stats(once) == ln.fired_stats(twice) == ln.fired_stats(run.state)
    assert ln.launch_report(once) == ln.launch_report(twice) == ln.launch_report(run.state)


@pytest.mark.parametrize("cut", [4, 5, 7, 9, 11, 13, 14, 100])
def test_snapshot_round_trip(cut: int) -> None:
    full = full_day()
    run = Run()
    for fact in full.facts[4:cut]:
        run.add(fact)
    data = json.loads(json.dumps(st.snapshot(run.state)))
    restored = st.restore(data)
    assert st.snapshot(restored) == data
    assert ln.launch_view(restored, ms(41_000)) == run.view(41_000)
    assert ln.launch_report(restored) == ln.launch_report(run.state)
    for fact in full.facts[cut:]:
        st.apply(restored, fact, restored.seq + 1)
        run.add(fact)
    assert ln.launch_report(restored) == ln.launch_report(run.state)
    assert ln.fired_stats(restored) == ln.fired_stats(run.state)
    # the msg ids of launch.fired survive in the points, so a retry is answered, not applied
    assert {c: p.applied for c, p in restored.points.items()} == {c: p.applied for c, p in run.state.points.items()}


@pytest.mark.parametrize("fact", [
    f.LaunchArmed(at_ms=1.0, actor="op", attempt=1, countdown_ms=5000, keys_required=2),
    f.LaunchArmed(at_ms=1.0, attempt=2, countdown_ms=3000, keys_required=1, rehearsal=True),
    f.LaunchKeyPressed(at_ms=2.5, actor="op", attempt=1, key="Nguyễn Văn Lan"),
    f.LaunchAborted(at_ms=3.0, attempt=1),
    f.LaunchReset(at_ms=4.0, actor="op", attempt=1),
    f.LaunchFiredReported(at_ms=5.0, code="A", msg_id="m1", attempt=1, fired_ms=6000.25, offset_ms=-3.5,
                          rtt_ms=42.0),
])
def test_facts_survive_the_journal_encoding(fact: Any) -> None:
    assert f.parse_fact(f.dump_fact(fact)) == fact


# -- firing reports in batches (launch.fired_batch) ---------------------------------------------------


def fired_fact(code: str, msg_id: str, fired: float, at: float, attempt: int = 1, rtt: float = 20.0) -> Any:
    return f.LaunchFiredReported(at_ms=ms(at), code=code, msg_id=msg_id, attempt=attempt, fired_ms=ms(fired),
                                 offset_ms=-2.5, rtt_ms=rtt)


A1 = fired_fact("A", "a1", 6000.5, 6100, rtt=40)
A2 = fired_fact("A", "a2", 6900.0, 6200)  # a second report of A, new id: acked, dropped
B1 = fired_fact("B", "b1", 5999.0, 6150, rtt=10)
C1 = fired_fact("C", "c1", 6003.0, 6300)
ZZ = fired_fact("ZZ", "z1", 6001.0, 6100)  # a point deleted since
OLD = fired_fact("C", "c0", 6001.0, 6100, attempt=7)  # decided for another attempt


@pytest.mark.parametrize(("steps", "reports", "cuts"), [
    ("fired", [A1, B1, C1], [1]),
    ("fired", [A1, B1, C1], [3]),
    ("fired", [A1, A2, B1, C1], [2]),
    ("fired", [A1, A1, B1], [1, 2]),  # a retry raced itself, inside one batch and across two
    ("fired", [B1, A1, A1, B1, C1], [5]),
    ("fired", [ZZ, OLD, A1, C1], [2]),
    ("fired", [OLD, C1], [1]),  # a report of another attempt records its id only
    ("aborted", [A1, B1], [2]),
    ("idle", [A1], [1]),
    ("fired", [], [0]),
])
def test_batches_fold_like_single_reports(steps: str, reports: list[Any], cuts: list[int]) -> None:
    """Folding the reports as batches (split at ``cuts``) gives the same state,
    report and stats as folding them one per fact, and the same ids recorded."""
    prefix = {"fired": FIRED, "aborted": [ARM, ("abort", None, 10)], "idle": []}[steps]
    singles, batched = script(prefix), script(prefix)
    for r in reports:
        singles.add(r)
    edges = [0, *cuts, len(reports)]
    for lo, hi in itertools.pairwise(edges):
        batched.add(ln.batch_reports(reports[lo:hi], ms(7000 + hi)))
    assert ln.launch_report(batched.state) == ln.launch_report(singles.state)
    assert ln.fired_stats(batched.state) == ln.fired_stats(singles.state)
    assert {c: p.applied for c, p in batched.state.points.items()} == \
        {c: p.applied for c, p in singles.state.points.items()}
    # and both survive the journal's encoding and a replay from scratch
    replayed = st.fold_facts([(i + 1, f.parse_fact_trusted(f.dump_fact(x))) for i, x in enumerate(batched.facts)])
    assert ln.launch_report(replayed) == ln.launch_report(singles.state)


def test_batch_keeps_each_report_exact() -> None:
    run = script(FIRED)
    run.add(ln.batch_reports([A1, B1], ms(9999)))
    reports = {r["code"]: r for r in ln.launch_report(run.state)["launch"]["reports"]}
    assert reports["A"] == {"code": "A", "fired_ms": ms(6000.5), "offset_ms": -2.5, "rtt_ms": 40.0, "at_ms": ms(6100)}
    assert reports["B"]["at_ms"] == ms(6150)  # each report's own time, not the batch's
    assert ln.fired_stats(run.state) == {"count": 2, "spread_ms": 1.5, "missing": 1, "worst_bound_ms": 20.0,
                                         "fire_at_ms": ms(6000)}
    # a retry of a batched id is answered from the fold, not decided again
    again = ln.decide_fired_report(run.state, "A", "a1", ms(1), 0, 1, ms(10_000))
    assert (again.facts, again.ack) == ([], {})


# -- a point's own fired time (the point view's fired_ms) ------------------------------------------


def test_fired_ms_is_the_points_report_and_null_after_a_reset() -> None:
    """Catches a point view that never shows its report (the console map's
    flash), or keeps showing it after the rehearsal was put away."""
    run = script([REHEARSAL, press("Lan", 1000)])
    assert ln.fired_ms(run.state, "A") is None
    report(run, "A", "r1", fired=ms(6001))
    assert ln.fired_ms(run.state, "A") == ms(6001)
    assert ln.fired_ms(run.state, "B") is None
    from server.core.points import point_view
    assert point_view(run.state, run.state.points["A"])["fired_ms"] == ms(6001)
    run.step("reset", None, 9000)
    assert ln.fired_ms(run.state, "A") is None
    assert ln.fired_codes_of_reset(run.state) == ["A"]
