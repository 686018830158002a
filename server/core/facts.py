"""The fact types: everything that must survive, as it is written to the journal.

A fact records what happened, with the server time it happened at (``at_ms``)
and, for organizer actions, who did it (``actor``, for the audit log). Facts
are folded into state by :func:`server.core.fold.apply`; they are never
edited or deleted. Adding a fact type or an optional field is compatible;
renaming one is not (old journals must still replay).
"""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

LEVELS = (
    "province",
    "department",
    "district",
    "commune",
    "village",
    "school",
    "market",
    "enterprise",
    "other",
)
Level = Literal[
    "province",
    "department",
    "district",
    "commune",
    "village",
    "school",
    "market",
    "enterprise",
    "other",
]
IncidentKind = Literal["audio", "video", "power", "network", "other"]
INCIDENT_KINDS = ("audio", "video", "power", "network", "other")


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)  # schemas built on first use

    at_ms: float
    actor: str | None = None


class EventCreated(_Fact):
    type: Literal["event.created"] = "event.created"
    event_id: str
    name: str
    starts_at: str
    report_deadline: str
    timezone: str
    group_level: str | None = None  # docs/protocol.md#grouping; absent in older journals


class EventDeleted(_Fact):
    """The event is gone from every list and its links stop working; its
    journal stays (history is never edited), so a restart knows it is gone."""

    type: Literal["event.deleted"] = "event.deleted"


class EventEdited(_Fact):
    """An event's name, times, time zone or group level changed; only the
    fields given are set. ``group_level`` "" sets it back to the default."""

    type: Literal["event.edited"] = "event.edited"
    name: str | None = None
    starts_at: str | None = None
    report_deadline: str | None = None
    timezone: str | None = None
    group_level: str | None = None


class PointUpserted(_Fact):
    """A point created or edited (by import, by the form, by the API)."""

    type: Literal["point.upserted"] = "point.upserted"
    code: str
    name: str
    level: Level
    parent: str | None
    chair: str
    phone: str
    expected: int
    token: str
    lat: float | None = None  # docs/protocol.md#import; absent in older journals
    lon: float | None = None


class PointDeleted(_Fact):
    type: Literal["point.deleted"] = "point.deleted"
    code: str


class TokenRotated(_Fact):
    type: Literal["point.token_rotated"] = "point.token_rotated"
    code: str
    token: str


class CheckedIn(_Fact):
    type: Literal["point.checked_in"] = "point.checked_in"
    code: str
    msg_id: str
    attendees: int


class AttendeesCounted(_Fact):
    type: Literal["point.attendees"] = "point.attendees"
    code: str
    msg_id: str
    count: int


class IncidentOpened(_Fact):
    type: Literal["incident.opened"] = "incident.opened"
    code: str
    msg_id: str
    incident: str
    kind: IncidentKind
    note: str


class IncidentResolved(_Fact):
    """Closed by the point (``msg_id`` set) or by an organizer (``actor`` set)."""

    type: Literal["incident.resolved"] = "incident.resolved"
    code: str
    msg_id: str | None = None
    incident: str


class NoticeSent(_Fact):
    type: Literal["notice.sent"] = "notice.sent"
    text: str
    district: str | None = None
    group: str | None = None  # to the points of one group (docs/protocol.md#notices)
    point: str | None = None  # to a point and its whole subtree (a desk's notice)


Role = Literal["admin", "operator", "viewer"]
ROLES = ("viewer", "operator", "admin")  # each role can do what the ones before it can


class DeskScope(BaseModel):
    """What a desk's token may see: one point and its whole subtree, in one event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: str
    point: str


class OrganizerTokenIssued(_Fact):
    """An organizer token; only its hash is kept (the token is shown once).
    With ``scope``, a desk: a unit's own part of the morning (docs/protocol.md#desks)."""

    type: Literal["org.token_issued"] = "org.token_issued"
    token_hash: str
    name: str
    role: Role
    scope: DeskScope | None = None


class OrganizerTokenRevoked(_Fact):
    type: Literal["org.token_revoked"] = "org.token_revoked"
    token_hash: str


class SessionOpened(_Fact):
    """A browser logged in with an organizer token: the cookie carries a
    random session id; only its hash is kept, with the token it stands for
    (revoking the token ends the session) and when it expires."""

    type: Literal["org.session_opened"] = "org.session_opened"
    session_hash: str
    token_hash: str
    expires_ms: float


class SessionClosed(_Fact):
    """A session logged out."""

    type: Literal["org.session_closed"] = "org.session_closed"
    session_hash: str


# -- agenda (docs/protocol.md#agenda) -----------------------------------------

AgendaAction = Literal["start", "next", "prev", "pause", "resume", "finish"]


class AgendaItemSpec(BaseModel):
    """One planned item of the agenda, as the organizer set it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    speaker: str = ""
    # Defaults matter: dump_fact drops None fields, so they must parse back.
    location: str | None = None
    planned_s: int


class AgendaSet(_Fact):
    """The agenda's items replaced (only when not running); resets its progress."""

    type: Literal["agenda.set"] = "agenda.set"
    items: tuple[AgendaItemSpec, ...]


class AgendaStepped(_Fact):
    """An agenda action. ``current`` is the item the decider saw: a step decided
    on a state another process has since moved is a no-op when folded."""

    type: Literal["agenda.stepped"] = "agenda.stepped"
    action: AgendaAction
    current: int | None = None


# -- launch (docs/protocol.md#launch) -----------------------------------------
# ``attempt`` numbers each arming (1, 2, ...): a press, abort, reset or report
# decided for one attempt is a no-op when folded into another.


class LaunchArmed(_Fact):
    type: Literal["launch.armed"] = "launch.armed"
    attempt: int
    countdown_ms: int
    keys_required: int
    rehearsal: bool = False


class LaunchKeyPressed(_Fact):
    type: Literal["launch.key_pressed"] = "launch.key_pressed"
    attempt: int
    key: str


class LaunchAborted(_Fact):
    type: Literal["launch.aborted"] = "launch.aborted"
    attempt: int


class LaunchReset(_Fact):
    type: Literal["launch.reset"] = "launch.reset"
    attempt: int


class LaunchFiredReported(_Fact):
    """A point's ``launch.fired`` frame: when its screen fired, by its clock estimate."""

    type: Literal["launch.fired_reported"] = "launch.fired_reported"
    code: str
    msg_id: str
    attempt: int
    fired_ms: float
    offset_ms: float
    rtt_ms: float


# -- key holders (docs/protocol.md#key-holders) ----------------------------------


class KeyHolderAdded(_Fact):
    """A person who presses a launch key from their own page (``/k/<token>``).
    Only the token's hash is kept: the link is shown once, when it is made."""

    type: Literal["keyholder.added"] = "keyholder.added"
    keyholder_id: str
    name: str
    token_hash: str


class KeyHolderRevoked(_Fact):
    type: Literal["keyholder.revoked"] = "keyholder.revoked"
    keyholder_id: str
    name: str = ""  # for the audit log's summary


class FiredEntry(BaseModel):
    """One point's firing report inside a :class:`LaunchFiredBatch`: the fields
    of a ``launch.fired_reported`` fact, with ``at_ms`` the time the server
    read that point's frame (not the batch's time), so the report is exact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    msg_id: str
    attempt: int
    fired_ms: float
    offset_ms: float
    rtt_ms: float
    at_ms: float


class LaunchFiredBatch(_Fact):
    """Many points' ``launch.fired`` frames in one fact (one durable write).

    Firing reports are telemetry that arrive by the thousand within seconds of
    the fire; a batcher in the I/O shell (``server/io/ws/firing.py``) coalesces
    them. Folded entry by entry exactly as ``launch.fired_reported`` (which
    old journals still hold and still fold).
    """

    type: Literal["launch.fired_batch"] = "launch.fired_batch"
    reports: tuple[FiredEntry, ...]


# -- reports (docs/protocol.md#report-snapshots) ------------------------------


class ReportSnapshotTaken(_Fact):
    """The report as it stood at a moment, kept for good (the 07:30 report).

    ``automatic`` marks the one taken at the event's ``report_deadline``; the
    fold keeps only the first automatic snapshot, so two processes that both
    fire the deadline timer leave one.
    """

    type: Literal["report.snapshot_taken"] = "report.snapshot_taken"
    label: str
    taken_ms: float
    report: dict[str, Any]
    automatic: bool = False


Fact = Annotated[
    EventCreated
    | EventEdited
    | EventDeleted
    | PointUpserted
    | PointDeleted
    | TokenRotated
    | CheckedIn
    | AttendeesCounted
    | IncidentOpened
    | IncidentResolved
    | NoticeSent
    | OrganizerTokenIssued
    | OrganizerTokenRevoked
    | SessionOpened
    | SessionClosed
    | AgendaSet
    | AgendaStepped
    | LaunchArmed
    | LaunchKeyPressed
    | LaunchAborted
    | LaunchReset
    | LaunchFiredReported
    | LaunchFiredBatch
    | ReportSnapshotTaken
    | KeyHolderAdded
    | KeyHolderRevoked,
    Field(discriminator="type"),
]

@functools.cache
def _adapter() -> TypeAdapter[Any]:
    # Built on first use, not at import: with every model deferred too, the
    # server starts ~0.1 s sooner (a restart replays with parse_fact_trusted
    # and never needs this).
    return TypeAdapter(Fact)


def parse_fact(data: str | bytes) -> Any:
    """Decode one journaled fact (JSON) into its type."""
    return _adapter().validate_json(data)


# -- the trusted fast path ----------------------------------------------------
# The journal wrote these bodies itself with ``dump_fact`` from validated
# facts, so replaying them needs no validation: decode with orjson and build
# the model without running pydantic's validators (``model_construct`` does
# the same, ~3x slower). Nested models are built the same way. A body that is
# not a known fact type raises ``ValueError``; tests/core/test_facts.py checks
# that this path and ``parse_fact`` give equal objects for every fact type.

# Every member of the ``Fact`` union, taken from it: a fact type added there
# cannot be missing here (a restart would fail to read its own journal).
_FACT_CLASSES: tuple[type[_Fact], ...] = typing.get_args(typing.get_args(Fact)[0])


def _defaults(cls: type[BaseModel]) -> dict[str, Any]:
    return {name: info.default for name, info in cls.model_fields.items() if not info.is_required()}


_new = object.__new__
_set = object.__setattr__


class _Trusted:
    """How to build one model class from a decoded dict, without validation."""

    __slots__ = ("cls", "defaults", "n", "nested", "one")

    def __init__(self, cls: type[BaseModel], nested: tuple[str, _Trusted] | None = None,
                 one: tuple[str, _Trusted] | None = None) -> None:
        self.cls = cls
        self.defaults = _defaults(cls)
        self.n = len(cls.model_fields)  # looked up once: a class attribute lookup per fact cost ~1 µs
        self.nested = nested  # a field holding a tuple of models
        self.one = one  # a field holding one model, or None

    def build(self, values: dict[str, Any]) -> Any:
        if self.nested is not None:
            name, inner = self.nested
            values[name] = tuple([inner.build(v) for v in values[name]])
        if self.one is not None:
            name, inner = self.one
            if values.get(name) is not None:
                values[name] = inner.build(values[name])
        fields_set = set(values)
        if len(values) < self.n:
            values = {**self.defaults, **values}
        obj = _new(self.cls)
        _set(obj, "__dict__", values)
        _set(obj, "__pydantic_fields_set__", fields_set)
        _set(obj, "__pydantic_extra__", None)
        _set(obj, "__pydantic_private__", None)
        return obj


# fact type -> how to build it
_TRUSTED: dict[str, _Trusted] = {cls.model_fields["type"].default: _Trusted(cls) for cls in _FACT_CLASSES}
_TRUSTED["agenda.set"] = _Trusted(AgendaSet, ("items", _Trusted(AgendaItemSpec)))
_TRUSTED["launch.fired_batch"] = _Trusted(LaunchFiredBatch, ("reports", _Trusted(FiredEntry)))
_TRUSTED["org.token_issued"] = _Trusted(OrganizerTokenIssued, one=("scope", _Trusted(DeskScope)))
_BY_CLASS: dict[type[BaseModel], _Trusted] = {FiredEntry: _Trusted(FiredEntry)}


def construct_trusted(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """``cls`` with ``values`` (every field, already checked), built without validation."""
    return _Trusted(cls).build(values) if cls not in _BY_CLASS else _BY_CLASS[cls].build(values)


def parse_fact_trusted(data: str | bytes) -> Any:
    """Decode one fact that this journal wrote (``dump_fact``), without validation.

    For replay only: input from anyone else goes through :func:`parse_fact`.
    """
    values = orjson.loads(data)
    how = _TRUSTED.get(values["type"]) if type(values) is dict and "type" in values else None
    if how is None:
        raise ValueError(f"not a journaled fact: {str(data)[:80]!r}")
    return how.build(values)


def dump_fact(fact: Any) -> str:
    """Encode one fact for the journal."""
    return str(fact.model_dump_json())
