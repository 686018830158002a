"""Client frames of /ws/point, parsed by pydantic (docs/protocol.md#websocket-frames).

Structure (types, the id's length) is checked here; the rules (a count must
be ≥ 0, attendees need a check-in first) are checked by the core, so they are
refused the same way over REST and WebSocket.

Decoding is orjson's: it refuses nesting deeper than 1,024 levels with a
decode error (``invalid_json``), where the standard library raised
``RecursionError``. The frames that come by the thousand (``time.ping``,
``checkin``, ``attendees``, ``launch.fired``) have a fast path that checks
the same strict types by hand and builds the model without pydantic; any
frame the fast path does not accept goes through pydantic, which names what
is wrong. tests/io/ws/test_frames.py checks that both give the same objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from server.core.errors import BadRequest

MsgId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
Number = StrictInt | StrictFloat


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TimePing(_Msg):
    type: Literal["time.ping"]
    t0: Number


class TimeSync(_Msg):
    type: Literal["time.sync"]
    offset_ms: Number
    rtt_ms: Number
    secure: StrictBool | None = None  # the page's isSecureContext; absent = unknown (docs/protocol.md)


class CheckIn(_Msg):
    type: Literal["checkin"]
    id: MsgId
    attendees: Any


class Attendees(_Msg):
    type: Literal["attendees"]
    id: MsgId
    count: Any


class OpenIncident(_Msg):
    type: Literal["incident"]
    id: MsgId
    kind: Any
    note: Any = ""


class ResolveIncident(_Msg):
    type: Literal["incident.resolve"]
    id: MsgId
    incident: Any


class LaunchFired(_Msg):
    type: Literal["launch.fired"]
    id: MsgId
    fired_ms: Number
    offset_ms: Number | None = None
    rtt_ms: Number | None = None


ClientFrame = Annotated[
    TimePing | TimeSync | CheckIn | Attendees | OpenIncident | ResolveIncident | LaunchFired,
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(ClientFrame)
MUTATING = frozenset({"checkin", "attendees", "incident", "incident.resolve", "launch.fired"})


def _number(v: Any) -> bool:
    return type(v) is int or type(v) is float  # StrictInt | StrictFloat: not bool, not str


def _optional_number(v: Any) -> bool:
    return v is None or type(v) is int or type(v) is float


def _msg_id(v: Any) -> bool:
    return type(v) is str and 1 <= len(v) <= 64


# type -> (model, its fields, does the frame pass as is)
_FAST: dict[str, tuple[type[_Msg], tuple[str, ...], Callable[[dict[str, Any]], bool]]] = {
    "time.ping": (TimePing, ("type", "t0"), lambda o: _number(o.get("t0"))),
    "checkin": (CheckIn, ("type", "id", "attendees"), lambda o: _msg_id(o.get("id")) and "attendees" in o),
    "attendees": (Attendees, ("type", "id", "count"), lambda o: _msg_id(o.get("id")) and "count" in o),
    "launch.fired": (LaunchFired, ("type", "id", "fired_ms", "offset_ms", "rtt_ms"),
                     lambda o: _msg_id(o.get("id")) and _number(o.get("fired_ms"))
                     and _optional_number(o.get("offset_ms")) and _optional_number(o.get("rtt_ms"))),
}
_LAUNCH_FIRED_DEFAULTS = {"offset_ms": None, "rtt_ms": None}
_new = object.__new__
_set = object.__setattr__


def _fast(obj: dict[str, Any]) -> Any:
    """The model of a hot frame that is valid as it stands, else None."""
    kind = obj.get("type")
    found = _FAST.get(kind) if isinstance(kind, str) else None  # a list or dict is not hashable
    if found is None:
        return None
    cls, fields, ok = found
    if not ok(obj):
        return None
    values = {k: obj[k] for k in fields if k in obj}
    fields_set = set(values)
    if cls is LaunchFired:
        values = {**_LAUNCH_FIRED_DEFAULTS, **values}
    frame = _new(cls)
    _set(frame, "__dict__", values)
    _set(frame, "__pydantic_fields_set__", fields_set)
    _set(frame, "__pydantic_extra__", None)
    _set(frame, "__pydantic_private__", None)
    return frame


def parse_client_frame(text: str | bytes) -> Any:
    """The typed frame, or a coded ``BadRequest`` naming what is wrong."""
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:  # includes nesting past orjson's depth limit
        raise BadRequest("the frame is not valid JSON", code="invalid_json") from None
    if type(obj) is dict:
        frame = _fast(obj)
        if frame is not None:
            return frame
    try:
        return _ADAPTER.validate_python(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = err["type"]
        if kind in ("union_tag_invalid", "union_tag_not_found", "model_attributes_type", "dict_type",
                    "model_type"):
            raise BadRequest("not a known message type", code="unknown_message") from None
        where = ".".join(str(p) for p in err["loc"][1:]) or "frame"
        raise BadRequest(f"{where}: {err['msg']}", code="validation_error") from None


def frame_id(text: str | bytes) -> str | None:
    """The id of a frame that failed to parse, if it has a usable one. Never raises."""
    try:
        obj = orjson.loads(text)
    except (ValueError, TypeError):  # orjson.JSONDecodeError is a ValueError
        return None
    if isinstance(obj, dict):
        mid = obj.get("id")
        if isinstance(mid, str) and 1 <= len(mid) <= 64:
            return mid
    return None
