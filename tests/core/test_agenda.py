"""The agenda state machine (server/core/agenda.py): transitions, refusals,
timing with pauses, races between processes, replay and snapshots."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.core import agenda as ag
from server.core import facts as f
from server.core import fold as st
from server.core.errors import BadRequest, Conflict, LaunchdayError
from server.core.points import Decision
from tests.core.ceremony_run import Run as BaseRun
from tests.core.ceremony_run import ms

ITEMS: list[dict[str, Any]] = [
    {"title": "Khai mạc", "speaker": "Chủ tịch UBND tỉnh", "location": "A", "planned_s": 60},
    {"title": "Phát biểu chỉ đạo", "speaker": "", "location": None, "planned_s": 120},
    {"title": "Phát động phong trào", "speaker": "Bí thư", "location": "B", "planned_s": 60},
]



class Run(BaseRun):
    def set(self, items: list[dict[str, Any]] = ITEMS, at: float = -10) -> Decision:
        return self.do(ag.decide_set_agenda(self.state, {"items": items}, ms(at), "op"))

    def act(self, action: str, at: float) -> Decision:
        return self.do(ag.decide_agenda_action(self.state, action, ms(at), "op"))

    def view(self, at: float) -> dict[str, Any]:
        return ag.agenda_view(self.state, ms(at))

    def replay(self) -> st.EventState:
        """A fresh state from the journal, through the journal's JSON encoding."""
        return st.fold_facts([(i + 1, journaled(x)) for i, x in enumerate(self.facts)])


def journaled(fact: Any) -> Any:
    """The fact as the journal gives it back (its JSON encoding, decoded)."""
    return f.parse_fact(f.dump_fact(fact))


def started(actions: list[str], *, items: bool = True) -> Run:
    run = Run()
    if items:
        run.set()
    for i, action in enumerate(actions):
        run.act(action, i + 1)
    return run


# -- transitions ------------------------------------------------------------------

TRANSITIONS = [
    (["start"], "running", 0),
    (["start", "next"], "running", 1),
    (["start", "next", "next"], "running", 2),
    (["start", "next", "prev"], "running", 0),
    (["start", "pause"], "paused", 0),
    (["start", "pause", "resume"], "running", 0),
    (["start", "pause", "next"], "running", 1),
    (["start", "next", "pause", "prev"], "running", 0),
    (["start", "finish"], "finished", None),
    (["start", "pause", "finish"], "finished", None),
    (["start", "next", "next", "finish"], "finished", None),
]


@pytest.mark.parametrize(("actions", "state", "current"), TRANSITIONS)
def test_transition(actions: list[str], state: str, current: int | None) -> None:
    run = started(actions)
    view = run.view(len(actions) + 1)
    assert (view["state"], view["current"]) == (state, current)
    assert len(run.facts) == 1 + 3 + 1 + len(actions)  # created, points, set, one fact per action
    entered = [i + 1 for i, a in enumerate(actions) if a in ("start", "next", "prev")]
    assert view["item_started_ms"] == (ms(entered[-1]) if current is not None else None)


def test_view_has_exactly_the_protocol_fields_plus_timing() -> None:
    view = Run().view(0)
    assert view == {"state": "not_started", "current": None, "item_started_ms": None, "items": [],
                    "offset_s": 0.0, "paused_ms": 0.0, "current_elapsed_s": None}
    run = started(["start"])
    assert set(run.view(2)["items"][0]) == {"title", "speaker", "location", "planned_s", "actual_start_ms",
                                            "actual_end_ms", "elapsed_s", "over", "location_name"}


# -- refusals ------------------------------------------------------------------------

REFUSALS = [
    (False, [], "start", "agenda_empty"),
    (True, [], "next", "agenda_not_started"),
    (True, [], "prev", "agenda_not_started"),
    (True, [], "pause", "agenda_not_started"),
    (True, [], "resume", "agenda_not_started"),
    (True, [], "finish", "agenda_not_started"),
    (True, ["start"], "start", "agenda_already_started"),
    (True, ["start", "pause"], "start", "agenda_already_started"),
    (True, ["start", "next", "next"], "next", "agenda_at_end"),
    (True, ["start"], "prev", "agenda_at_start"),
    (True, ["start", "next", "prev"], "prev", "agenda_at_start"),
    (True, ["start", "pause"], "pause", "agenda_paused"),
    (True, ["start"], "resume", "agenda_not_paused"),
    (True, ["start", "pause", "resume"], "resume", "agenda_not_paused"),
    *[(True, ["start", "finish"], action, "agenda_finished") for action in ag.ACTIONS],
]


@pytest.mark.parametrize(("items", "before", "action", "code"), REFUSALS)
def test_refusal(items: bool, before: list[str], action: str, code: str) -> None:
    run = started(before, items=items)
    before_view, seq = run.view(50), run.state.seq
    with pytest.raises(Conflict) as err:
        ag.decide_agenda_action(run.state, action, ms(50), "op")
    assert err.value.code == code
    assert err.value.status == 409
    assert (run.view(50), run.state.seq) == (before_view, seq)  # deciding changed nothing


@pytest.mark.parametrize("action", ["jump", "", "START", "reset"])
def test_unknown_action(action: str) -> None:
    with pytest.raises(BadRequest) as err:
        ag.decide_agenda_action(started(["start"]).state, action, ms(5), "op")
    assert err.value.code == "unknown_action"


# -- setting the items ------------------------------------------------------------------


def test_set_cleans_and_is_idempotent() -> None:
    run = Run()
    # A field the agenda object adds when read is known and ignored; "extra" is refused (unknown_field).
    with pytest.raises(BadRequest) as err:
        run.set([{"title": "Khai mạc", "planned_s": 60, "extra": 1}])
    assert err.value.code == "unknown_field"
    decision = run.set([{"title": "  Khai   mạc ", "planned_s": 60.0, "location": "", "over": False}])
    (fact,) = decision.facts
    assert fact.items == (f.AgendaItemSpec(title="Khai mạc", speaker="", location=None, planned_s=60),)
    assert run.set([{"title": "Khai mạc", "speaker": None, "location": None, "planned_s": 60}]).facts == []
    assert run.view(0)["items"][0]["title"] == "Khai mạc"


@pytest.mark.parametrize("before", [["start"], ["start", "pause"], ["start", "next"]])
def test_set_refused_while_running(before: list[str]) -> None:
    with pytest.raises(Conflict) as err:
        started(before).set(ITEMS[:1], at=20)
    assert err.value.code == "agenda_running"


def test_set_after_finish_resets() -> None:
    run = started(["start", "next", "finish"])
    run.set(ITEMS[:2], at=20)
    view = run.view(30)
    assert view["state"] == "not_started" and view["current"] is None and len(view["items"]) == 2
    assert all(i["actual_start_ms"] is None and i["elapsed_s"] == 0 for i in view["items"])
    run.act("start", 40)
    assert run.view(41)["state"] == "running"


def _item(**changes: Any) -> dict[str, Any]:
    return {**ITEMS[0], **changes}


INVALID: list[tuple[Any, list[tuple[int | None, str | None]]]] = [
    ([], [(None, None)]),
    ({}, [(None, "items")]),
    ({"items": []}, [(None, "items")]),
    ({"items": "x"}, [(None, "items")]),
    ({"items": [_item()] * 101}, [(None, "items")]),
    ({"items": ["x"]}, [(0, None)]),
    ({"items": [_item(title="")]}, [(0, "title")]),
    ({"items": [_item(title="   ")]}, [(0, "title")]),
    ({"items": [{"planned_s": 1}]}, [(0, "title")]),
    ({"items": [_item(title="x" * 301)]}, [(0, "title")]),
    ({"items": [_item(speaker="x" * 201)]}, [(0, "speaker")]),
    ({"items": [_item(speaker=["x"])]}, [(0, "speaker")]),
    ({"items": [_item(location="ZZZ")]}, [(0, "location")]),
    ({"items": [_item(location={"code": "A"})]}, [(0, "location")]),
    ({"items": [_item(planned_s=-1)]}, [(0, "planned_s")]),
    ({"items": [_item(planned_s=86_401)]}, [(0, "planned_s")]),
    ({"items": [_item(planned_s=1.5)]}, [(0, "planned_s")]),
    ({"items": [_item(planned_s="60")]}, [(0, "planned_s")]),
    ({"items": [_item(planned_s=True)]}, [(0, "planned_s")]),
    ({"items": [{"title": "x"}]}, [(0, "planned_s")]),
    ({"items": [_item(), _item(title="", planned_s=-5)]}, [(1, "title"), (1, "planned_s")]),
]


@pytest.mark.parametrize(("body", "problems"), INVALID)
def test_set_validation(body: Any, problems: list[tuple[int | None, str | None]]) -> None:
    run = Run()
    with pytest.raises(BadRequest) as err:
        ag.decide_set_agenda(run.state, body, ms(0), "op")
    assert err.value.code == "validation_error"
    assert [(d["item"], d["field"]) for d in err.value.details] == problems
    assert "details" in err.value.to_body()["error"]


@pytest.mark.parametrize(("planned", "stored"), [(0, 0), (86_400, 86_400), (90.0, 90)])
def test_set_planned_bounds(planned: Any, stored: int) -> None:
    (fact,) = Run().set([_item(planned_s=planned)]).facts
    assert fact.items[0].planned_s == stored


# -- timing: elapsed, pauses, offset --------------------------------------------------------


def timed_run() -> Run:
    """Items planned 60 s, 120 s, 60 s; a 60 s pause; a prev that re-enters item 0."""
    run = Run()
    run.set()
    run.act("start", 0)
    run.act("pause", 30)
    run.act("resume", 90)
    run.act("next", 130)
    run.act("prev", 200)
    run.act("next", 210)
    run.act("finish", 300)
    return run


# (after how many of the timed actions, view at s, current, current_elapsed_s, offset_s, paused_ms)
TIMING = [
    (1, 20, 0, 20.0, 0.0, 0.0),
    (2, 80, 0, 30.0, 0.0, 50_000.0),  # paused: the timer stands still
    (3, 100, 0, 40.0, 0.0, 60_000.0),
    (3, 125, 0, 65.0, 5.0, 60_000.0),  # over its 60 s: the current item counts
    (4, 130, 1, 0.0, 10.0, 60_000.0),
    (5, 205, 0, 75.0, 15.0, 60_000.0),  # back on item 0: item 1's 70 s is its own budget
    (6, 210, 1, 70.0, 20.0, 60_000.0),  # item 1 resumes with its 70 s
    (6, 260, 1, 120.0, 20.0, 60_000.0),
    (6, 270, 1, 130.0, 30.0, 60_000.0),
    (7, 400, None, None, 60.0, 60_000.0),  # finished: (80 - 60) + (160 - 120); item 2 skipped
]


@pytest.mark.parametrize(("steps", "at", "current", "elapsed", "offset", "paused"), TIMING)
def test_timing(steps: int, at: float, current: int | None, elapsed: float | None, offset: float,
                paused: float) -> None:
    full = timed_run()
    run = Run()
    for fact in full.facts[4 : 4 + 1 + steps]:  # after created and points: the set, then the steps
        run.add(fact)
    view = run.view(at)
    assert view["current"] == current
    assert view["current_elapsed_s"] == elapsed
    assert view["offset_s"] == offset
    assert view["paused_ms"] == paused


def test_actual_times_kept_for_the_report() -> None:
    run = timed_run()
    items = run.view(400)["items"]
    assert [(i["actual_start_ms"], i["actual_end_ms"]) for i in items] == [
        (ms(0), ms(210)),  # first start kept, last end
        (ms(130), ms(300)),
        (None, None),
    ]
    assert [i["elapsed_s"] for i in items] == [80.0, 160.0, 0.0]
    assert [i["over"] for i in items] == [True, True, False]
    report = ag.agenda_report(run.state)
    assert report["state"] == "finished"
    assert (report["started_ms"], report["finished_ms"]) == (ms(0), ms(300))
    assert [(i["planned_s"], i["actual_s"], i["offset_s"]) for i in report["items"]] == [
        (60, 80.0, 20.0), (120, 160.0, 40.0), (60, None, None)]
    assert (report["planned_total_s"], report["actual_total_s"]) == (240, 240.0)
    assert (report["offset_s"], report["paused_s"]) == (60.0, 60.0)


def test_re_entered_item_is_open_again() -> None:
    run = timed_run()
    mid = Run()
    for fact in run.facts[4:10]:  # set, start, pause, resume, next, prev
        mid.add(fact)
    item0 = mid.view(205)["items"][0]
    assert item0["actual_start_ms"] == ms(0) and item0["actual_end_ms"] is None


def test_pause_time_is_excluded_from_the_item_left() -> None:
    run = started([])
    run.act("start", 0)
    run.act("pause", 30)
    run.act("next", 50)
    view = run.view(60)
    assert view["items"][0]["elapsed_s"] == 30.0
    assert (view["state"], view["current_elapsed_s"], view["paused_ms"]) == ("running", 10.0, 20_000.0)


def test_report_while_running_uses_now_or_last_fact() -> None:
    run = started([])
    run.act("start", 0)
    assert ag.agenda_report(run.state, ms(90))["items"][0]["actual_s"] == 90.0
    assert ag.agenda_report(run.state)["items"][0]["actual_s"] == 0.0
    assert ag.agenda_report(run.state, ms(90))["offset_s"] == 30.0


def test_clock_skew_never_gives_negative_durations() -> None:
    run = started([])
    run.act("start", 10)
    run.act("pause", 20)
    run.add(f.AgendaStepped(at_ms=ms(19.5), action="resume", current=0))  # another process's clock
    run.add(f.AgendaStepped(at_ms=ms(9), action="next", current=0))
    view = run.view(30)
    assert view["paused_ms"] == 0.0
    assert view["items"][0]["elapsed_s"] == 0.0


# -- races: a fact that lost is a no-op -------------------------------------------------------


def test_two_nexts_at_once_advance_once() -> None:
    run = started(["start"])
    a = ag.decide_agenda_action(run.state, "next", ms(10), "op1")
    b = ag.decide_agenda_action(run.state, "next", ms(10.01), "op2")
    run.do(a)
    run.do(b)
    assert run.view(11)["current"] == 1
    assert run.view(11)["item_started_ms"] == ms(10)


def test_two_pauses_at_once_keep_the_first() -> None:
    run = started(["start"])
    a = ag.decide_agenda_action(run.state, "pause", ms(10), "op1")
    b = ag.decide_agenda_action(run.state, "pause", ms(12), "op2")
    run.do(a)
    run.do(b)
    run.act("resume", 20)
    assert run.view(20)["paused_ms"] == 10_000.0


def test_set_that_lost_to_start_is_ignored() -> None:
    run = started([])
    late = ag.decide_set_agenda(run.state, {"items": ITEMS[:1]}, ms(5), "op1")
    run.act("start", 4)
    run.do(late)
    view = run.view(6)
    assert view["state"] == "running" and len(view["items"]) == 3


# -- replay and snapshots ----------------------------------------------------------------------


@pytest.mark.parametrize("at", [0, 80, 125, 205, 270, 400])
def test_replay_is_deterministic(at: float) -> None:
    run = timed_run()
    n = sum(1 for x in run.facts if x.at_ms <= ms(at))
    prefix = Run()
    for fact in run.facts[4:n]:
        prefix.add(fact)
    once = prefix.replay()
    twice = prefix.replay()
    assert ag.agenda_view(once, ms(at)) == ag.agenda_view(twice, ms(at)) == prefix.view(at)
    assert ag.agenda_report(once) == ag.agenda_report(twice) == ag.agenda_report(prefix.state)


@pytest.mark.parametrize("steps", [0, 1, 2, 4, 7])
def test_snapshot_round_trip(steps: int) -> None:
    full = timed_run()
    run = Run()
    for fact in full.facts[4 : 5 + steps]:
        run.add(fact)
    data = json.loads(json.dumps(st.snapshot(run.state)))
    restored = st.restore(data)
    assert ag.agenda_view(restored, ms(250)) == run.view(250)
    assert st.snapshot(restored) == data
    # and the restored state goes on folding exactly like the original
    for fact in full.facts[5 + steps :]:
        st.apply(restored, fact, restored.seq + 1)
        run.add(fact)
    assert ag.agenda_view(restored, ms(500)) == run.view(500)


def test_snapshot_without_agenda() -> None:
    run = Run()
    data = st.snapshot(run.state)
    assert data["agenda"] is None
    assert ag.agenda_view(st.restore(data), ms(0))["state"] == "not_started"


@pytest.mark.parametrize("fact", [
    f.AgendaSet(at_ms=1.5, actor="op", items=(f.AgendaItemSpec(title="a", location=None, planned_s=1),
                                              f.AgendaItemSpec(title="b", speaker="c", location="A", planned_s=2))),
    f.AgendaStepped(at_ms=2.0, action="start"),
    f.AgendaStepped(at_ms=2.0, actor="op", action="next", current=3),
])
def test_facts_survive_the_journal_encoding(fact: Any) -> None:
    assert f.parse_fact(f.dump_fact(fact)) == fact


def test_errors_are_coded() -> None:
    with pytest.raises(LaunchdayError) as err:
        ag.decide_agenda_action(Run().state, "start", ms(0), "op")
    assert err.value.to_body()["error"]["code"] == "agenda_empty"
