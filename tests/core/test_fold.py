"""The fold table: complete, explicit, and loud about what it does not know."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from server.core import facts as f
from server.core import fold
from server.core.state import new_state

T = 1_746_666_000_000.0


def created() -> f.EventCreated:
    return f.EventCreated(at_ms=T, event_id="ev-1", name="Lễ phát động", starts_at="2025-05-08T08:00:00+07:00",
                          report_deadline="2025-05-08T07:30:00+07:00", timezone="Asia/Ho_Chi_Minh")


def test_every_fact_type_of_the_union_has_exactly_one_place() -> None:
    types = fold.fact_types()
    assert "launch.armed" in types and "point.checked_in" in types
    assert types == set(fold.FOLDS) | fold.ORG_FACTS
    assert not set(fold.FOLDS) & fold.ORG_FACTS


def test_a_fact_type_missing_from_the_table_fails_the_import_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(fold.FOLDS, "launch.armed")
    with pytest.raises(RuntimeError, match=r"launch\.armed"):
        fold._check_complete()


def test_an_unknown_fact_type_is_an_error_and_changes_nothing() -> None:
    state = fold.fold_facts([(1, created())])

    class Future:
        type = "launch.teleported"

    with pytest.raises(fold.UnknownFact, match=r"launch\.teleported"):
        fold.apply(state, Future(), 2)
    assert state.seq == 1


def test_an_org_fact_in_an_event_stream_is_unknown_there() -> None:
    state = fold.fold_facts([(1, created())])
    issued = f.OrganizerTokenIssued(at_ms=T, token_hash="ab" * 32, name="Tổ thư ký", role="operator")
    with pytest.raises(fold.UnknownFact):
        fold.apply(state, issued, 2)


def test_event_created_for_another_event_is_refused() -> None:
    state = new_state(created())
    other = created().model_copy(update={"event_id": "ev-2"})
    with pytest.raises(fold.UnknownFact):
        fold.apply(state, other, 2)


def test_a_snapshot_with_a_part_this_process_does_not_know_is_refused() -> None:
    data = fold.snapshot(fold.fold_facts([(1, created())]))
    data["teleporter"] = {"on": True}
    with pytest.raises(fold.UnknownFact, match="teleporter"):
        fold.restore(data)


def test_a_process_that_imports_only_the_fold_folds_the_launch_and_snapshots_it() -> None:
    """The review's reproduction: folding ``launch.armed`` in a process that
    never imported server.core.launch lost the launch, and the snapshot made
    the loss permanent. With the explicit table it cannot happen."""
    armed = f.LaunchArmed(at_ms=T + 1, actor="op", attempt=1, countdown_ms=5000, keys_required=1)
    script = textwrap.dedent("""
        import json, sys
        from server.core import fold
        from server.core.facts import parse_fact
        facts = [parse_fact(line) for line in sys.stdin.read().splitlines()]
        state = fold.fold_facts(list(enumerate(facts, start=1)))
        snap = fold.snapshot(state)
        assert "server.core.launch" in sys.modules  # imported by the table itself
        print(json.dumps(snap["launch"]))
    """)
    lines = "\n".join([f.dump_fact(created()), f.dump_fact(armed)])
    out = subprocess.run([sys.executable, "-c", script], input=lines, capture_output=True, text=True,
                         check=True, timeout=60)
    launch = json.loads(out.stdout)
    assert launch["current"]["number"] == 1
    assert launch["current"]["countdown_ms"] == 5000
