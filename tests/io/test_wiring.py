"""The wiring tables (server/io/wiring.py): complete against their unions,
and a missing entry is refused."""

from __future__ import annotations

import dataclasses

import pytest

from server.core import fold
from server.io import wiring
from server.io.ws import frames

TABLES = [f.name for f in dataclasses.fields(wiring.Wiring) if f.name != "committers"]


def test_the_served_wiring_is_complete() -> None:
    assert wiring.check(wiring.WIRING) is wiring.WIRING
    assert set(wiring.WIRING.effects) == set(fold.FOLDS)
    assert set(wiring.WIRING.deciders) == frames.MUTATING


@pytest.mark.parametrize("table", TABLES)
def test_removing_any_entry_of_any_table_is_refused(table: str) -> None:
    """Catches a table that lost an entry (a fact with no effect decided, a
    frame type nobody decides, a view missing from the welcome): every
    process refuses to start, instead of behaving differently in silence."""
    entries = dict(getattr(wiring.WIRING, table))
    assert entries, table
    for key in entries:
        fewer = {k: v for k, v in entries.items() if k != key}
        broken = dataclasses.replace(wiring.WIRING, **{table: fewer})
        with pytest.raises(RuntimeError, match="wiring out of step"):
            wiring.check(broken)


@pytest.mark.parametrize("table", TABLES)
def test_an_unknown_entry_is_refused(table: str) -> None:
    more = {**getattr(wiring.WIRING, table), "no.such.thing": None}
    with pytest.raises(RuntimeError, match="unknown"):
        wiring.check(dataclasses.replace(wiring.WIRING, **{table: more}))


def test_a_committer_for_a_kind_nobody_decides_is_refused() -> None:
    more = {**wiring.WIRING.committers, "no.such.frame": wiring.WIRING.committers["launch.fired"]}
    with pytest.raises(RuntimeError, match="COMMITTERS"):
        wiring.check(dataclasses.replace(wiring.WIRING, committers=more))
