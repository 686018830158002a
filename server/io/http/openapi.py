"""``GET /api/openapi.json``: the REST API as an OpenAPI 3.1 document,
generated from pydantic models and the route table below, never written by
hand.

The models describe the bodies the handlers of ``rest.py`` take and give
(``event_view``, ``point_view``, ``incident_view``, the totals, the coded
error); ``tests/io/http/test_openapi.py`` checks that every operation here is a
route of the application, and runs schemathesis against a live server so
that every answer must match its model. The ceremony, report and link
routes are documented in docs/protocol.md and not here yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.core.facts import Level, Role
from server.io.http.auth import ROLE_OF_KEY, json_response

# -- models -------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorDetail(_Model):
    code: str = Field(description="stable, snake_case (docs/protocol.md#errors)")
    message: str
    details: Any = None
    retry_after_ms: int | None = Field(None, description="with 429 rate_limited: when to try again")


class Error(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok", "failing"]
    reason: str | None = None


class Login(BaseModel):
    token: str = Field(description="an organizer token; the answer sets the session cookie")


class DeskScope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(description="the event's id")
    point: str = Field(description="the desk's unit: this point and its whole subtree")


class MeScope(_Model):
    event: str
    point: str
    point_name: str | None = None
    event_name: str | None = None


class Me(BaseModel):
    name: str
    role: Role
    scope: MeScope | None = Field(None, description="null for an unscoped token; a desk's event and unit")


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    scope: DeskScope | None = Field(None, description="a desk (docs/protocol.md#desks); not with the admin role")


class TokenIssued(BaseModel):
    token: str = Field(description="shown only here; only its hash is stored")
    id: str
    name: str
    role: Role
    issued_ms: float | None = None
    login_url: str | None = Field(None, description="/console/#token=…: logs a browser in (shown only here)")
    qr_svg: str | None = Field(None, description="the log-in link's QR code, an inline SVG")


class TokenView(BaseModel):
    id: str
    name: str
    role: Role
    issued_ms: float
    revoked: bool
    last_used_ms: float | None = Field(None, description="in memory, per process, since it started")
    scope: DeskScope | None = None


class DesksCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    level: Level = Field(description="one desk per point of this level that has no live desk")
    role: Literal["operator", "viewer"] = "operator"


class DeskView(_Model):
    id: str
    name: str
    role: Role
    point: str
    point_name: str | None
    points: int = 0
    checked_in: int = 0
    attendees: int = 0
    expected: int = 0
    incidents_open: int = 0
    revoked: bool
    last_used_ms: float | None = None


class DesksCreated(_Model):
    created: list[dict[str, Any]] = Field(description="each with its token and login_url, shown only here")
    existing: list[dict[str, Any]] = Field(description="units that already had a live desk: none created")


class AuditPage(BaseModel):
    items: list[dict[str, Any]]
    seq: int
    more: bool


class EventCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    starts_at: str = Field(description="ISO 8601 with an offset, e.g. 2025-05-08T08:00:00+07:00")
    report_deadline: str
    timezone: str = "Asia/Ho_Chi_Minh"
    group_level: Level | None = Field(None, description="the level totals, reports and lists group by; null: the default")


class EventView(BaseModel):
    id: str
    name: str
    starts_at: str
    report_deadline: str
    timezone: str
    created_ms: float
    group_level: str | None = Field(description="as set; null: the default")
    group_level_effective: str | None = Field(description="the level in use (as set, or the default)")


class EventPatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=300)
    starts_at: str | None = Field(None, description="ISO 8601 with an offset")
    report_deadline: str | None = None
    timezone: str | None = None
    group_level: Level | None = Field(None, description="the level totals, reports and lists group by; null: the default")


class KeyHolderCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. Chủ tịch UBND tỉnh; the name pressed as the key")


class KeyHolderView(BaseModel):
    id: str
    name: str
    added_ms: float
    added_by: str | None
    revoked_ms: float | None
    revoked: bool


class KeyHolderIssued(KeyHolderView):
    token: str = Field(description="shown only here; only its hash is stored")
    url: str = Field(description="the holder's page /k/<token>")
    qr_svg: str


class LaunchObject(_Model):
    state: Literal["idle", "armed", "countdown", "fired", "aborted"]
    keys_pressed: list[str] = []


class AgendaItemIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    speaker: str = ""
    location: str | None = Field(None, description="a point's code, or null")
    planned_s: int = Field(ge=0)


class AgendaPut(BaseModel):
    items: list[AgendaItemIn]


class AgendaObject(_Model):
    state: Literal["not_started", "running", "paused", "finished"]
    current: int | None
    item_started_ms: float | None
    items: list[dict[str, Any]]


class LaunchArm(BaseModel):
    countdown_ms: int = Field(5000, ge=3000, le=60000)
    keys_required: int = Field(1, ge=1, le=10)
    rehearsal: bool = False


class LaunchPress(BaseModel):
    key: str = Field(min_length=1, max_length=100, description="the name of the person pressing")


class KeyHolderMe(BaseModel):
    id: str
    name: str
    event: dict[str, Any]
    launch: dict[str, Any]


class PointCreate(_Model):
    code: str
    name: str
    level: Level
    parent: str | None = None
    chair: str | None = None
    phone: str | None = None
    expected: int | None = Field(None, ge=0)
    lat: float | None = Field(None, ge=-90, le=90, description="latitude, decimal degrees; null: none")
    lon: float | None = Field(None, ge=-180, le=180, description="longitude, decimal degrees; null: none")


class PointPatch(_Model):
    name: str | None = None
    level: Level | None = None
    parent: str | None = None
    chair: str | None = None
    phone: str | None = None
    expected: int | None = Field(None, ge=0)
    lat: float | None = Field(None, ge=-90, le=90, description="latitude, decimal degrees; null: none")
    lon: float | None = Field(None, ge=-180, le=180, description="longitude, decimal degrees; null: none")


class PointView(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    district: str | None
    group: str | None = Field(description="the point's group at the event's group level")
    group_name: str | None
    chair: str | None
    phone: str | None
    expected: int | None
    lat: float | None = Field(None, description="optional coordinates (docs/protocol.md#import)")
    lon: float | None = None
    status: Literal["pending", "checked_in", "incident"]
    checked_in: bool
    attendees: int
    checked_in_ms: float | None
    updated_ms: float | None
    online: bool
    last_seen_ms: float | None
    rtt_ms: float | None
    offset_ms: float | None
    secure: bool | None = Field(None, description="the point page's secure context (HTTPS), as it last said; "
                                "null: not said")
    incidents_open: int
    too_many_connections: bool = Field(description="an upgrade was refused for too many sockets: rotate the link")
    token: str | None = Field(None, description="admins only")
    fired_ms: float | None = Field(None, description="when its screen fired in the current launch; null: not reported")


class Counts(_Model):
    points: int
    checked_in: int
    online: int
    attendees: int
    expected: int


class Totals(Counts):
    as_of_ms: float
    incidents_open: int
    by_level: dict[str, Counts]
    by_district: Any
    group_level: str | None
    by_group: Any


class IncidentView(BaseModel):
    id: str
    point: str
    point_name: str
    chair: str | None
    phone: str | None
    district: str | None
    group: str | None
    kind: str
    note: str
    opened_ms: float
    resolved_ms: float | None
    resolved_by: str | None
    open: bool


class ImportSummary(_Model):
    created: int
    updated: int
    errors: list[Any]


class Notice(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    district: str | None = None
    group: str | None = Field(None, description="a group's code: only its points")


class NoticeSent(BaseModel):
    text: str
    district: str | None
    group: str | None
    at_ms: float


# -- the route table ------------------------------------------------------------------

EID = {"name": "eid", "in": "path", "required": True, "schema": {"type": "string"}}
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
KID = {"name": "kid", "in": "path", "required": True, "schema": {"type": "string"}}
AGENDA_ACTION = {"name": "action", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": ["start", "next", "prev", "pause", "resume", "finish"]}}

# (method, path, summary, request body model, {status: response model or None}, extra params);
# the role comes from the route table (server/io/http/routes.py).
Op = tuple[str, str, str, Any, dict[int, Any], list[dict[str, Any]]]
OPERATIONS: list[Op] = [
    ("get", "/healthz", "Health: 503 when the journal cannot write", None, {200: Health, 503: Health}, []),
    ("post", "/api/session", "Log in: a session cookie for an organizer token", Login, {200: Me}, []),
    ("delete", "/api/session", "Log out: the session ends on the server", None, {204: None}, []),
    ("get", "/api/me", "Who the credentials belong to", None, {200: Me}, []),
    ("post", "/api/tokens", "Issue an organizer token", TokenCreate, {201: TokenIssued}, []),
    ("get", "/api/tokens", "Organizer tokens", None, {200: list[TokenView]}, []),
    ("get", "/api/events/{eid}/desks", "The event's desks, each with its unit's progress (not for a desk)", None,
     {200: list[DeskView]}, [EID]),
    ("post", "/api/events/{eid}/desks", "One desk per unit at a level (?format=json|csv|html: the log-in sheet)",
     DesksCreate, {201: DesksCreated, 200: DesksCreated}, [EID]),
    ("delete", "/api/tokens/{tid}", "Revoke a token and its sessions", None, {204: None},
     [{"name": "tid", "in": "path", "required": True, "schema": {"type": "string"}}]),
    ("post", "/api/events", "Create an event", EventCreate, {201: EventView}, []),
    ("get", "/api/events", "Events", None, {200: list[EventView]}, []),
    ("get", "/api/events/{eid}", "One event", None, {200: EventView}, [EID]),
    ("patch", "/api/events/{eid}", "Edit an event (name, times, time zone, group level)", EventPatch, {200: EventView},
     [EID]),
    ("delete", "/api/events/{eid}", "Delete an event (refused while its ceremony is under way)", None,
     {204: None}, [EID]),
    ("get", "/api/events/{eid}/keyholders", "The launch's key holders", None,
     {200: list[KeyHolderView]}, [EID]),
    ("post", "/api/events/{eid}/keyholders", "Add a key holder (their link shown once)",
     KeyHolderCreate, {201: KeyHolderIssued}, [EID]),
    ("delete", "/api/events/{eid}/keyholders/{kid}", "Revoke a key holder's link", None,
     {204: None}, [EID, KID]),
    ("get", "/api/keyholder", "A key holder's own page data", None, {200: KeyHolderMe}, []),
    ("post", "/api/keyholder/press", "A key holder presses their own key", None,
     {200: LaunchObject}, []),
    ("get", "/api/tokens/audit", "Organizer tokens issued and revoked", None, {200: AuditPage}, []),
    ("post", "/api/events/{eid}/points/import", "Import points (CSV or XLSX, at most 5 MB)",
     "import", {200: ImportSummary}, [EID]),
    ("get", "/api/events/{eid}/points", "Points, filtered", None, {200: list[PointView]},
     [EID] + [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
              for q in ("level", "parent", "status", "q", "district", "group")]),
    ("post", "/api/events/{eid}/points", "Create a point", PointCreate, {201: PointView}, [EID]),
    ("get", "/api/events/{eid}/points/{code}", "One point", None, {200: PointView}, [EID, CODE]),
    ("patch", "/api/events/{eid}/points/{code}", "Edit a point", PointPatch, {200: PointView}, [EID, CODE]),
    ("delete", "/api/events/{eid}/points/{code}", "Delete a point", None, {204: None}, [EID, CODE]),
    ("post", "/api/events/{eid}/points/{code}/token", "Rotate a point's token", None, {200: PointView},
     [EID, CODE]),
    ("get", "/api/events/{eid}/totals", "Live totals", None, {200: Totals}, [EID]),
    ("get", "/api/events/{eid}/incidents", "Incidents", None, {200: list[IncidentView]},
     [EID, {"name": "open", "in": "query", "required": False, "schema": {"type": "string"}}]),
    ("post", "/api/events/{eid}/incidents/{iid}/resolve", "Resolve an incident", None,
     {200: IncidentView}, [EID, {"name": "iid", "in": "path", "required": True, "schema": {"type": "string"}}]),
    ("post", "/api/events/{eid}/notices", "Send a notice to the points", Notice, {201: NoticeSent},
     [EID]),
    ("get", "/api/events/{eid}/agenda", "The agenda and its timings", None, {200: AgendaObject}, [EID]),
    ("put", "/api/events/{eid}/agenda", "Set the agenda's items (refused while it runs)", AgendaPut,
     {200: AgendaObject}, [EID]),
    ("post", "/api/events/{eid}/agenda/{action}", "Step the agenda", None, {200: AgendaObject},
     [EID, AGENDA_ACTION]),
    ("get", "/api/events/{eid}/launch", "The launch, its firing figures and who has not reported",
     None, {200: LaunchObject}, [EID]),
    ("post", "/api/events/{eid}/launch/arm", "Arm the launch", LaunchArm, {200: LaunchObject}, [EID]),
    ("post", "/api/events/{eid}/launch/press", "Press a key", LaunchPress, {200: LaunchObject}, [EID]),
    ("post", "/api/events/{eid}/launch/abort", "Abort before the fire time", None,
     {200: LaunchObject}, [EID]),
    ("post", "/api/events/{eid}/launch/reset", "Back to idle after a rehearsal or an abort", None,
     {200: LaunchObject}, [EID]),
    ("get", "/api/admin-units/registry.csv",
     "The import sheet of a province (or the country) from the official administrative units", None,
     {200: "csv"}, [{"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
                    for q in ("province", "all")]),
]

# Every refusal an operation can give, all with the coded error body.
_REFUSALS = {
    400: "bad input (a coded error)", 401: "no or unknown credentials", 403: "too small a role, or a foreign Origin",
    404: "no such event, point, incident or token", 409: "the state does not allow it",
    413: "the body is over its limit (too_large)",
    429: "too many failed authentications from this address (Retry-After)",
    503: "the journal cannot write (unavailable)",
}


def _ref(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    origin = getattr(model, "__origin__", None)
    if origin is list:
        return {"type": "array", "items": _ref(model.__args__[0], schemas)}
    name = model.__name__
    if name not in schemas:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub, body in schema.pop("$defs", {}).items():
            schemas.setdefault(sub, body)
        schemas[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def build(roles: Callable[[str, str], str]) -> dict[str, Any]:
    """The document; ``roles(method, path)`` is the route table's role of an operation."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    error = {"application/json": {"schema": _ref(Error, schemas)}}
    for method, path, summary, body, answers, params in OPERATIONS:
        role = roles(method, path)
        op: dict[str, Any] = {"summary": summary, "operationId": f"{method}_{path}", "responses": {}}
        if params:
            op["parameters"] = params
        if role == "keyholder":
            op["security"] = [{"bearer": []}]
            op["description"] = "A key holder's own token (its /k/<token> link); nothing else can call it."
        elif role != "public":
            op["security"] = [{"bearer": []}, {"session": []}]
            op["description"] = f"Needs the {role} role (viewer ⊂ operator ⊂ admin)."
        if body == "import":
            op["requestBody"] = {"required": True, "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "contentMediaType": "application/octet-stream"}}}}}}
        elif body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body, schemas)}}}
        for status, model in answers.items():
            answer: dict[str, Any] = {"description": "OK" if status < 300 else summary}
            if model == "csv":
                answer["content"] = {"text/csv": {"schema": {"type": "string"}}}
            elif model is not None:
                answer["content"] = {"application/json": {"schema": _ref(model, schemas)}}
            op["responses"][str(status)] = answer
        for status, why in _REFUSALS.items():
            if str(status) in op["responses"]:
                continue
            if status in (401, 403) and path == "/healthz":
                continue
            op["responses"][str(status)] = {"description": why, "content": error}
        op["responses"]["429"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "launchday", "version": "1",
                 "description": "The organizers' REST API (docs/protocol.md#rest). Limits: docs/protocol.md#limits."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "launchday_session"},
            },
        },
    }


_DOC: dict[str, Any] | None = None


async def handle(request: web.Request) -> web.Response:
    global _DOC
    if _DOC is None:
        _DOC = build(request.app[ROLE_OF_KEY])
    return json_response(_DOC)

