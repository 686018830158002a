"""The fact types: everything that must survive, as it is written to the journal.

A fact records what happened, with the server time it happened at (``at_ms``)
and, for organizer actions, who did it (``actor``, for the audit log). Facts
are folded into state by :func:`server.core.state.apply`; they are never
edited or deleted. Adding a fact type or an optional field is compatible;
renaming one is not (old journals must still replay).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
    model_config = ConfigDict(frozen=True, extra="forbid")

    at_ms: float
    actor: str | None = None


class EventCreated(_Fact):
    type: Literal["event.created"] = "event.created"
    event_id: str
    name: str
    starts_at: str
    report_deadline: str
    timezone: str


class EventEdited(_Fact):
    """An event's name, times or time zone changed; only the fields given are set."""

    type: Literal["event.edited"] = "event.edited"
    name: str | None = None
    starts_at: str | None = None
    report_deadline: str | None = None
    timezone: str | None = None


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


Role = Literal["admin", "operator", "viewer"]
ROLES = ("viewer", "operator", "admin")  # each role can do what the ones before it can


class OrganizerTokenIssued(_Fact):
    """An organizer token; only its hash is kept (the token is shown once)."""

    type: Literal["org.token_issued"] = "org.token_issued"
    token_hash: str
    name: str
    role: Role


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
    | ReportSnapshotTaken
    | KeyHolderAdded
    | KeyHolderRevoked,
    Field(discriminator="type"),
]

_FACT = TypeAdapter(Fact)
_FACTS = TypeAdapter(list[Fact])


def parse_fact(data: str | bytes) -> Any:
    """Decode one journaled fact (JSON) into its type."""
    return _FACT.validate_json(data)


def dump_fact(fact: Any) -> str:
    """Encode one fact for the journal."""
    return str(fact.model_dump_json())
