"""Client frames of /ws/point, parsed by pydantic (docs/protocol.md#websocket-frames).

Structure (types, the id's length) is checked here; the rules (a count must
be ≥ 0, attendees need a check-in first) are checked by the core, so they are
refused the same way over REST and WebSocket.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
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


def parse_client_frame(text: str) -> Any:
    """The typed frame, or a coded ``BadRequest`` naming what is wrong."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        kind = err["type"]
        if kind == "json_invalid":
            raise BadRequest("the frame is not valid JSON", code="invalid_json") from None
        if kind in ("union_tag_invalid", "union_tag_not_found", "model_attributes_type", "dict_type"):
            raise BadRequest("not a known message type", code="unknown_message") from None
        where = ".".join(str(p) for p in err["loc"][1:]) or "frame"
        raise BadRequest(f"{where}: {err['msg']}", code="validation_error") from None


def frame_id(text: str) -> str | None:
    """The id of a frame that failed to parse, if it has a usable one."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):  # 30,000 '[' pass the size limit and nest too deep
        return None
    if isinstance(obj, dict):
        mid = obj.get("id")
        if isinstance(mid, str) and 1 <= len(mid) <= 64:
            return mid
    return None
