"""The outbox (checkin/outbox.py): supersede rule, per-connection resend, its file."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from checkin.outbox import Entry, Outbox, new_id_factory


def entry(entry_id: str, type_: str, **fields: Any) -> Entry:
    return Entry(entry_id, {"type": type_, "id": entry_id, **fields})


def test_newer_attendees_drop_only_never_written_ones() -> None:
    box = Outbox()
    box.add(entry("c", "checkin", attendees=1))
    written = entry("a1", "attendees", count=2)
    box.add(written)
    box.mark_sent(written, gen=1)
    box.add(entry("a2", "attendees", count=3))
    dropped = box.add(entry("a3", "attendees", count=4))
    assert [e.id for e in dropped] == ["a2"]
    assert [e.id for e in box] == ["c", "a1", "a3"]
    # Incidents are never superseded.
    box.add(entry("i1", "incident", kind="audio", note=""))
    assert box.add(entry("i2", "incident", kind="audio", note="")) == []


def test_unsent_is_per_connection_generation() -> None:
    box = Outbox()
    a, b = entry("a", "checkin", attendees=1), entry("b", "incident", kind="power")
    box.add(a)
    box.add(b)
    assert box.unsent(1) == [a, b]
    box.mark_sent(a, 1)
    assert box.unsent(1) == [b]
    assert box.unsent(2) == [a, b]  # a new connection resends everything unanswered
    assert box.pop("a") is a and box.pop("a") is None and len(box) == 1


def test_file_round_trip_and_corrupt_file_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "kiosk" / "outbox.json"
    box = Outbox(path)
    first = entry("x-1", "incident", kind="power", note="mất điện")
    box.add(first)
    box.mark_sent(first, 3)
    box.add(entry("x-2", "attendees", count=7))
    again = Outbox(path)
    assert again.load() == 2
    assert [(e.id, e.sent, e.message) for e in again] == [
        ("x-1", True, first.message),
        ("x-2", False, {"type": "attendees", "id": "x-2", "count": 7}),
    ]
    assert "mất điện" in path.read_text(encoding="utf-8")  # UTF-8, not \\u escapes
    path.write_text("{not json", encoding="utf-8")
    assert Outbox(path).load() == 0
    assert path.with_suffix(".json.corrupt").exists() and not path.exists()


def test_ids_are_short_unique_and_differ_between_lives() -> None:
    one = list(itertools.islice(new_id_factory(), 1000))
    two = list(itertools.islice(new_id_factory(), 1000))
    assert len(set(one) | set(two)) == 2000
    assert all(1 <= len(i) <= 64 for i in one)
