"""The point frame parser fed random, huge, deeply nested, non-UTF-8 and
oddly typed frames (hypothesis): a typed frame or a coded ``BadRequest``,
never anything else; the id of a refused frame is found without raising."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.core.errors import BadRequest
from server.io.ws import frames

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")

CODES = {"invalid_json", "unknown_message", "validation_error"}
TYPES = ["time.ping", "time.sync", "checkin", "attendees", "incident", "incident.resolve", "launch.fired"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
                    st.floats(allow_nan=False), st.text(max_size=70))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
ids = st.one_of(st.just(""), st.text(min_size=64, max_size=65), st.text(max_size=10), scalars)
shaped = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(TYPES), scalars)},
    optional={"id": ids, "t0": values, "attendees": values, "count": values, "kind": values, "note": values,
              "incident": values, "fired_ms": values, "offset_ms": values, "rtt_ms": values},
).map(json.dumps)
raw_text = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),  # non-UTF-8 bytes as lone surrogates
    st.integers(min_value=1, max_value=60_000).map(lambda n: "[" * n),
    st.integers(min_value=1, max_value=20_000).map(lambda n: '{"id":"x","a":' * n),
    st.sampled_from(['"\\ud800"', '{"type":"checkin","id":"\\ud800","attendees":1}', "\x00", "\ufeff{}", "1e999",
                     '{"type":"checkin","id":"a","attendees":1e400}', '{"type":"time.ping","t0":NaN}']),
)


def check(text: str) -> None:
    try:
        frame = frames.parse_client_frame(text)
    except BadRequest as err:
        assert err.code in CODES, err.code
        mid = frames.frame_id(text)
        assert mid is None or (isinstance(mid, str) and 1 <= len(mid) <= 64)
    else:
        assert frame.type in TYPES
        if frame.type in frames.MUTATING:
            assert isinstance(frame.id, str) and 1 <= len(frame.id) <= 64


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(shaped, raw_text))
@example(text="[" * 30_000)
@example(text='{"type":"checkin","id":"' + "x" * 65 + '","attendees":1}')
@example(text='{"type":"checkin","id":"","attendees":1}')
def test_any_frame_is_typed_or_a_coded_error(text: str) -> None:
    check(text)


@pytest.mark.parametrize("value", [[], {}, 1, "x", None, [[[]]], {"type": ["checkin"]}])
def test_non_objects_and_odd_types_are_unknown_messages(value: Any) -> None:
    with pytest.raises(BadRequest) as info:
        frames.parse_client_frame(json.dumps(value))
    assert info.value.code in ("unknown_message", "validation_error")
