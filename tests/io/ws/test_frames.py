"""Client frame parsing (server/io/ws/frames.py): orjson decoding, the fast path
for hot frames equal to pydantic's, coded errors, frame_id that never raises."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from server.core.errors import BadRequest
from server.io.ws import frames

VALID = [
    {"type": "time.ping", "t0": 1764000000123.5},
    {"type": "time.ping", "t0": 17, "extra": [1, 2]},
    {"type": "checkin", "id": "c-1", "attendees": 40},
    {"type": "checkin", "id": "x" * 64, "attendees": "40"},  # the core refuses a string count, not the parser
    {"type": "attendees", "id": "a-1", "count": 41},
    {"type": "launch.fired", "id": "f-1", "fired_ms": 1764000000123.25, "offset_ms": -4999.5, "rtt_ms": 1},
    {"type": "launch.fired", "id": "f-2", "fired_ms": 5},
    {"type": "launch.fired", "id": "f-3", "fired_ms": 5, "offset_ms": None, "rtt_ms": 2.5},
    {"type": "time.sync", "offset_ms": 1.5, "rtt_ms": 3},
    {"type": "time.sync", "offset_ms": 1.5, "rtt_ms": 3, "secure": False},
    {"type": "incident", "id": "i-1", "kind": "audio", "note": "mất tiếng"},
    {"type": "incident.resolve", "id": "r-1", "incident": "inc-1"},
]


def _snapshot(frame: Any) -> tuple[Any, ...]:
    return (type(frame), frame.model_fields_set, frame.__dict__)


@pytest.mark.parametrize("obj", VALID, ids=lambda o: o["type"])
def test_fast_path_equals_pydantic(obj: dict[str, Any]) -> None:
    text = orjson.dumps(obj).decode()
    got = frames.parse_client_frame(text)
    want = frames._ADAPTER.validate_json(text)
    assert got == want
    assert _snapshot(got) == _snapshot(want)
    assert frames.parse_client_frame(text.encode()) == want


@pytest.mark.parametrize(("text", "code"), [
    ("not json", "invalid_json"),
    ("[" * 30_000, "invalid_json"),  # orjson: depth limit, a decode error (json: RecursionError)
    ('{"type": "attendees", "id": "x", "count": ' + "[" * 30_000, "invalid_json"),
    ("[1]", "unknown_message"),
    ("null", "unknown_message"),
    ('{"type": "nope"}', "unknown_message"),
    ('{"id": "x"}', "unknown_message"),
    ('{"type": "time.ping", "t0": true}', "validation_error"),
    ('{"type": "time.ping", "t0": "1"}', "validation_error"),
    ('{"type": "time.ping"}', "validation_error"),
    ('{"type": "attendees", "id": "", "count": 1}', "validation_error"),
    ('{"type": "attendees", "id": "' + "x" * 65 + '", "count": 1}', "validation_error"),
    ('{"type": "attendees", "id": 7, "count": 1}', "validation_error"),
    ('{"type": "checkin", "id": "c"}', "validation_error"),
    ('{"type": "launch.fired", "id": "f", "fired_ms": false}', "validation_error"),
    ('{"type": "launch.fired", "id": "f", "fired_ms": 1, "rtt_ms": "2"}', "validation_error"),
])
def test_refusals_are_coded(text: str, code: str) -> None:
    with pytest.raises(BadRequest) as err:
        frames.parse_client_frame(text)
    assert err.value.code == code


@pytest.mark.parametrize(("text", "want"), [
    ('{"type": "attendees", "id": "m-1", "count": -1}', "m-1"),
    ('{"id": "m-1", "count": ' + "[" * 30_000, None),
    ("[" * 30_000, None),
    ('{"id": ' + "[" * 30_000 + "]" * 30_000 + "}", None),
    ('{"id": ""}', None),
    ('{"id": 5}', None),
    ("\udcff", None),  # a lone surrogate: orjson cannot even encode it
    ("", None),
])
def test_frame_id_never_raises(text: str, want: str | None) -> None:
    assert frames.frame_id(text) == want


def test_time_sync_secure_is_an_optional_strict_boolean() -> None:
    """Catches: a page's "secure" dropped by the parser, or a non-boolean taken as one."""
    assert frames.parse_client_frame('{"type":"time.sync","offset_ms":1,"rtt_ms":2,"secure":true}').secure is True
    assert frames.parse_client_frame('{"type":"time.sync","offset_ms":1,"rtt_ms":2}').secure is None
    for bad in ('"yes"', "1", "[]"):
        with pytest.raises(BadRequest) as info:
            frames.parse_client_frame(f'{{"type":"time.sync","offset_ms":1,"rtt_ms":2,"secure":{bad}}}')
        assert info.value.code == "validation_error" and "secure" in str(info.value)
