"""Every core command fed random, huge, oddly typed and oddly encoded input
(hypothesis): never a crash, always a coded error or facts, and a refused
command changes nothing; after any run of commands the live state equals the
fold of its facts replayed through JSON, and its snapshot restores to it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import agenda as ag
from server.core import launch as ln
from server.core import org as orgs
from server.core import points as pts
from server.core.errors import LaunchdayError
from server.core.events import decide_create_event
from server.core.fold import snapshot
from server.core.limits import Buckets
from server.core.report import build_report
from server.core.report_snapshots import decide_snapshot
from tests.core.conftest import ADMIN, NOW, TH_TABLE, Journal, roundtrip, totals_of

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # big reprs

CODES = ["TH", "D1", "D2", "C1", "C2", "C3", "V1", "SGD", "LS"]

# Text that breaks naive code: empty, huge, lone surrogates, NUL, RTL marks,
# combining marks, Vietnamese decomposed, emoji, ids of 0, 64 and 65 characters.
odd_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["", " ", "\x00", "\ud800", "\u202e", "a\u0301", "Đ" * 65, "x" * 64, "x" * 65,
                     "🚀" * 20, "Thanh Hóa", "Thanh Hoa\u0301", "null", "[]", "{}", "<script>", "x" * 5000]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), odd_text)
anything = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(odd_text, inner, max_size=4)),
                        max_leaves=12)
codes = st.one_of(st.sampled_from(CODES), odd_text)
msg_ids = st.one_of(st.text(min_size=1, max_size=64), st.sampled_from(["m1", "m2", "x" * 64]))
counts = st.one_of(st.integers(min_value=-5, max_value=pts.MAX_COUNT + 5), scalars)
times = st.one_of(st.just(NOW), st.floats(min_value=NOW - 1e7, max_value=NOW + 1e7))


def body_with(keys: dict[str, Any], only_dicts: bool = False) -> st.SearchStrategy[Any]:
    """A dict with the command's own keys holding plausible or odd values, or
    anything at all (a dict, for commands typed to take one: their handler
    refuses any other body first)."""
    fixed = st.fixed_dictionaries({k: st.one_of(v, scalars) for k, v in keys.items()},
                                  optional={"x": anything})
    return st.one_of(fixed, st.dictionaries(odd_text, anything, max_size=4) if only_dicts else anything)


def _incident(j: Journal, pick: Any) -> Any:
    """An existing incident's id when ``pick`` is an int (state-independent draw), else ``pick`` itself."""
    if isinstance(pick, int) and not isinstance(pick, bool):
        ids = sorted(j.state.incidents)
        return ids[pick % len(ids)] if ids else "inc-none"
    return pick


incident_picks = st.one_of(st.integers(min_value=0, max_value=20), scalars)
point_body = body_with({"code": odd_text, "name": odd_text, "level": st.sampled_from(["commune", "village"]),
                        "parent": codes, "expected": counts}, only_dicts=True)
patch_body = body_with({"name": odd_text, "parent": codes, "expected": counts, "level": odd_text},
                       only_dicts=True)
import_table = st.lists(st.lists(scalars, max_size=8), max_size=6).map(lambda rows: [TH_TABLE[0], *rows])
agenda_body = body_with({"items": st.lists(body_with({"title": odd_text, "minutes": counts}), max_size=4)})
arm_body = body_with({"countdown_ms": counts, "keys_required": counts, "rehearsal": scalars})
actions = st.one_of(st.sampled_from(["start", "next", "prev", "pause", "resume", "finish"]), odd_text)

# name -> (its arguments, how to run it on a journal). The strategies do not
# depend on the state, so hypothesis can replay and shrink a run.
COMMANDS: dict[str, tuple[st.SearchStrategy[tuple[Any, ...]], Any]] = {
    "checkin": (st.tuples(codes, msg_ids, counts, times),
                lambda j, c, m, n, t: pts.decide_checkin(j.state, c, m, n, t)),
    "attendees": (st.tuples(codes, msg_ids, counts, times),
                  lambda j, c, m, n, t: pts.decide_attendees(j.state, c, m, n, t)),
    "incident": (st.tuples(codes, msg_ids, st.one_of(st.sampled_from(["audio", "video", "power"]), scalars),
                           anything),
                 lambda j, c, m, k, n: pts.decide_incident(j.state, c, m, k, n, NOW)),
    "incident.resolve": (st.tuples(codes, msg_ids, incident_picks),
                         lambda j, c, m, i: pts.decide_point_resolve(j.state, c, m, _incident(j, i), NOW)),
    "resolve (organizer)": (st.tuples(incident_picks),
                            lambda j, i: pts.decide_resolve_incident(j.state, _incident(j, i), NOW, ADMIN)),
    "create point": (st.tuples(point_body),
                     lambda j, b: pts.decide_create(j.state, b, NOW, j.make_token(), ADMIN)),
    "patch point": (st.tuples(codes, patch_body), lambda j, c, b: pts.decide_patch(j.state, c, b, NOW, ADMIN)),
    "delete point": (st.tuples(codes), lambda j, c: pts.decide_delete(j.state, c, NOW, ADMIN)),
    "rotate token": (st.tuples(codes), lambda j, c: pts.decide_rotate(j.state, c, j.make_token(), NOW, ADMIN)),
    "import": (st.tuples(import_table), lambda j, t: _import(j, t)),
    "launch.fired": (st.tuples(codes, msg_ids, scalars, scalars, scalars, times),
                     lambda j, c, m, a, b, r, t: ln.decide_fired_report(j.state, c, m, a, b, r, t)),
    "time.sync": (st.tuples(codes, scalars, scalars), lambda j, c, a, b: _sync(j, c, a, b)),
    "agenda set": (st.tuples(agenda_body), lambda j, b: ag.decide_set_agenda(j.state, b, NOW, ADMIN)),
    "agenda step": (st.tuples(actions, times), lambda j, a, t: ag.decide_agenda_action(j.state, a, t, ADMIN)),
    "arm": (st.tuples(arm_body, times), lambda j, b, t: ln.decide_arm(j.state, b, t, ADMIN)),
    "press": (st.tuples(body_with({"key": odd_text}), times), lambda j, b, t: ln.decide_press(j.state, b, t, ADMIN)),
    "abort": (st.tuples(times), lambda j, t: ln.decide_abort(j.state, t, ADMIN)),
    "reset": (st.tuples(times), lambda j, t: ln.decide_reset(j.state, t, ADMIN)),
    "report snapshot": (st.tuples(scalars),
                        lambda j, label: decide_snapshot(j.state, build_report(j.state, NOW), label, NOW, ADMIN)),
}


def _import(j: Journal, table: list[list[Any]]) -> pts.Decision:
    from server.core.importing import decide_import

    return pts.Decision(decide_import(j.state, table, NOW, j.make_token, ADMIN).facts)


def _sync(j: Journal, code: Any, offset: Any, rtt: Any) -> pts.Decision:
    pts.clock_synced(j.state, code, offset, rtt, NOW)  # presence: not a fact
    return pts.Decision([])


def _facts_of(result: Any) -> list[Any]:
    if isinstance(result, pts.Decision):
        return list(result.facts)
    return [result]  # a single fact (report snapshot)


def _durable(state: Any) -> str:
    # The agenda's and the launch's parts are created empty on first use (a
    # refused command may be that first use): an empty part is not a change.
    ln.launch_of(state)
    ag.agenda_of(state)
    return json.dumps(snapshot(state), sort_keys=True, default=str)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_any_sequence_of_commands_is_coded_and_folds_consistently(data: st.DataObject) -> None:
    j = Journal()
    j.import_table(TH_TABLE)
    for _ in range(data.draw(st.integers(min_value=1, max_value=20), label="steps")):
        name = data.draw(st.sampled_from(sorted(COMMANDS)), label="command")
        args_of, run = COMMANDS[name]
        args = data.draw(args_of, label=name)
        before = _durable(j.state)
        try:
            result = run(j, *args)
        except LaunchdayError as err:
            assert err.code and err.code == err.code.lower() and " " not in err.code
            assert 400 <= err.status < 500
            assert _durable(j.state) == before, f"{err.code} changed the state"
            continue
        j.fold(_facts_of(result))
    replayed = j.replay()
    assert _durable(replayed) == _durable(j.state)
    assert totals_of(replayed) == totals_of(j.state)
    assert _durable(roundtrip(j.state)) == _durable(j.state)


@settings(max_examples=200, deadline=None)
@given(body=anything, actor=odd_text)
def test_event_creation_refuses_with_a_code(body: Any, actor: str) -> None:
    try:
        fact = decide_create_event("ev-x", body, NOW, actor)
    except LaunchdayError as err:
        assert err.status == 400 and err.code
    else:
        assert fact.name and fact.event_id == "ev-x"


@settings(max_examples=200, deadline=None)
@given(body=anything, prefix=odd_text, session=odd_text, now=times)
def test_organizer_commands_refuse_with_a_code(body: Any, prefix: str, session: str, now: float) -> None:
    org = orgs.OrgState()
    try:
        issued = orgs.decide_issue(org, body, "tok", NOW, ADMIN)
    except LaunchdayError as err:
        assert err.status == 400
    else:
        orgs.apply_org(org, issued, 1)
    before = copy.deepcopy(org)
    try:
        orgs.decide_revoke(org, prefix, NOW, ADMIN)
    except LaunchdayError as err:
        assert err.status == 404
    assert org == before
    assert orgs.session_holder(org, session, now) is None
    assert orgs.decide_close_session(org, session, now) is None


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.floats(min_value=0, max_value=5_000), st.floats(min_value=0.1, max_value=5)),
                      max_size=50),
       rate=st.floats(min_value=0.1, max_value=100), burst=st.integers(min_value=1, max_value=50))
def test_a_bucket_never_allows_more_than_burst_plus_rate_times_elapsed(steps, rate, burst) -> None:
    b = Buckets(rate, burst)
    now, allowed = NOW, 0.0
    for dt, want in steps:
        cost = min(want, burst)  # more than a full bucket is never allowed
        now += dt
        wait = b.take("k", now, cost)
        if wait == 0:
            allowed += cost
        else:
            assert wait > 0
            # Waiting as told is enough (up to float rounding).
            assert b.wait_ms("k", now + wait + 0.01, cost) == 0
    assert allowed <= burst + rate * (now - NOW) / 1000 + 1e-6
