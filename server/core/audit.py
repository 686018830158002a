"""The audit log: every organizer action of an event, from its journal.

A fact with an ``actor`` is an organizer's action (docs/protocol.md#audit);
the automatic report snapshot at the deadline is listed too, with no actor.
Each entry says who, what and when, with a summary in Vietnamese (and one in
English) and the fact type.

An import appends a fact per point in one commit (same actor, type and
time): consecutive facts like that are one entry ("Thêm 1.018 điểm cầu"),
with ``count`` and the seq range. ``AuditLog`` is fed the journal
incrementally, like :class:`server.core.timeline.Timeline`, and remembers
what it needs to tell an edit from a creation and to name what changed.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.core import facts as f
from server.core.errors import BadRequest
from server.core.report_render import vi_number

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
# Facts of these types by one actor at one instant are grouped into one entry.
_GROUPED = frozenset({"point.upserted", "point.deleted", "point.token_rotated"})

_FIELD_VI = {"name": "tên", "level": "cấp", "parent": "đơn vị cấp trên", "chair": "người phụ trách",
             "phone": "số điện thoại", "expected": "số người dự kiến", "lat": "vĩ độ", "lon": "kinh độ"}
_FIELD_EN = {"name": "name", "level": "level", "parent": "parent", "chair": "chair", "phone": "phone",
             "expected": "expected", "lat": "latitude", "lon": "longitude"}
_POINT_FIELDS = tuple(_FIELD_VI)
_EVENT_VI = {"name": "tên", "starts_at": "giờ khai mạc", "report_deadline": "hạn chốt báo cáo",
             "timezone": "múi giờ"}
_ROLE_VI = {"admin": "quản trị", "operator": "điều hành", "viewer": "chỉ xem"}
_EVENT_EN = {"name": "name", "starts_at": "start", "report_deadline": "report deadline", "timezone": "time zone"}
_AGENDA_VI = {"start": "Bắt đầu chương trình", "next": "Chuyển sang mục tiếp theo", "prev": "Quay lại mục trước",
              "pause": "Tạm dừng chương trình", "resume": "Tiếp tục chương trình",
              "finish": "Kết thúc chương trình"}
_AGENDA_EN = {"start": "Started the agenda", "next": "Moved to the next item", "prev": "Went back an item",
              "pause": "Paused the agenda", "resume": "Resumed the agenda", "finish": "Finished the agenda"}


@dataclass(slots=True)
class Entry:
    seq: int
    first_seq: int
    at_ms: float
    actor: str | None
    type: str
    summary: str
    summary_en: str
    target: str | None = None  # the point code (single-point actions)
    count: int = 1
    created: int = 0  # point.upserted groups: new points among them
    codes: list[str] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {"seq": self.seq, "first_seq": self.first_seq, "at_ms": self.at_ms, "actor": self.actor,
                "type": self.type, "summary": self.summary, "summary_en": self.summary_en,
                "target": self.target, "count": self.count}


def _quote(text: str, limit: int = 80) -> str:
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


class AuditLog:
    """Organizer actions, fed fact by fact in journal order."""

    __slots__ = ("_points", "_tokens", "entries", "seq")

    def __init__(self) -> None:
        self.seq = 0
        self.entries: list[Entry] = []  # oldest first
        self._points: dict[str, dict[str, Any]] = {}  # code -> its fields, to name what an edit changed
        self._tokens: dict[str, dict[str, Any]] = {}  # token hash -> name, scope: to name what a revocation ended

    def feed(self, seq: int, fact: Any) -> None:
        if seq <= self.seq:
            return
        self.seq = seq
        before = (self._tokens.get(fact.token_hash) if isinstance(fact, f.OrganizerTokenRevoked)
                  else self._points.get(getattr(fact, "code", ""), None))
        self._track(fact)
        if fact.actor is None and not (isinstance(fact, f.ReportSnapshotTaken) and fact.automatic):
            return
        last = self.entries[-1] if self.entries else None
        if (fact.type in _GROUPED and last is not None and last.type == fact.type and last.actor == fact.actor
                and last.at_ms == fact.at_ms and last.seq == seq - 1):
            last.seq = seq
            last.count += 1
            last.created += 1 if fact.type == "point.upserted" and before is None else 0
            last.codes.append(fact.code)
            last.target = None
            last.summary, last.summary_en = _group_summary(last)
            return
        vi, en = summarize(fact, before)
        entry = Entry(seq=seq, first_seq=seq, at_ms=fact.at_ms, actor=fact.actor, type=fact.type, summary=vi,
                      summary_en=en, target=getattr(fact, "code", None) or _desk_point(fact, before))
        if fact.type in _GROUPED:
            entry.codes = [fact.code]
            entry.created = 1 if fact.type == "point.upserted" and before is None else 0
        self.entries.append(entry)

    def feed_all(self, entries: list[tuple[int, Any]]) -> AuditLog:
        for seq, fact in entries:
            self.feed(seq, fact)
        return self

    def _track(self, fact: Any) -> None:
        if isinstance(fact, f.OrganizerTokenIssued):
            self._tokens[fact.token_hash] = {"name": fact.name, "scope": fact.scope}
        elif isinstance(fact, f.PointUpserted):
            self._points[fact.code] = {n: getattr(fact, n) for n in _POINT_FIELDS}
        elif isinstance(fact, f.PointDeleted):
            self._points.pop(fact.code, None)

    def page(self, after_seq: int = 0, before_seq: int | None = None,
             limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """Newest first: entries after ``after_seq`` (to poll for new ones) and
        before ``before_seq`` (to page back), at most ``limit``."""
        found: list[dict[str, Any]] = []
        more = False
        for entry in reversed(self.entries):
            if entry.seq <= after_seq:
                break
            if before_seq is not None and entry.seq >= before_seq:
                continue
            if len(found) == limit:
                more = True
                break
            found.append(entry.view())
        return {"items": found, "seq": self.seq, "more": more}


def _with_scope(vi: str, en: str, scope: Any) -> tuple[str, str]:
    """A desk's token (docs/protocol.md#desks): its unit and event named in the summary."""
    if scope is None:
        return vi, en
    return (f"{vi}, bàn của đơn vị {scope.point} (sự kiện {scope.event})",
            f"{en}, the desk of the unit {scope.point} (event {scope.event})")


def _desk_point(fact: Any, before: dict[str, Any] | None) -> str | None:
    """The unit of a desk's token issued or revoked: the entry's target."""
    scope = getattr(fact, "scope", None) if isinstance(fact, f.OrganizerTokenIssued) else (
        before["scope"] if isinstance(fact, f.OrganizerTokenRevoked) and before else None)
    return scope.point if scope is not None else None


def _group_summary(e: Entry) -> tuple[str, str]:
    n = e.count
    if e.type == "point.deleted":
        return f"Xóa {vi_number(n)} điểm cầu", f"Deleted {n:,} points"
    if e.type == "point.token_rotated":
        return (f"Đổi liên kết của {vi_number(n)} điểm cầu", f"Rotated the links of {n:,} points")
    edited = n - e.created
    if not edited:
        return f"Thêm {vi_number(n)} điểm cầu", f"Added {n:,} points"
    if not e.created:
        return f"Sửa {vi_number(n)} điểm cầu", f"Edited {n:,} points"
    return (f"Nhập điểm cầu: thêm {vi_number(e.created)}, sửa {vi_number(edited)}",
            f"Imported points: {e.created:,} added, {edited:,} edited")


def summarize(fact: Any, before: dict[str, Any] | None = None) -> tuple[str, str]:
    """(Vietnamese, English) one-line summaries of one fact. ``before`` is the
    point's fields before a ``point.upserted`` (None: a new point)."""
    code = getattr(fact, "code", "")
    if isinstance(fact, f.EventCreated):
        return f"Tạo sự kiện {_quote(fact.name)}", f"Created the event {_quote(fact.name)}"
    if isinstance(fact, f.EventEdited):
        changed = [k for k in _EVENT_VI if getattr(fact, k) is not None]
        return (f"Sửa sự kiện: {', '.join(_EVENT_VI[k] for k in changed)}",
                f"Edited the event: {', '.join(_EVENT_EN[k] for k in changed)}")
    if isinstance(fact, f.EventDeleted):
        return "Xóa sự kiện", "Deleted the event"
    if isinstance(fact, f.KeyHolderAdded):
        return f"Thêm người bấm nút {_quote(fact.name)}", f"Added the key holder {_quote(fact.name)}"
    if isinstance(fact, f.KeyHolderRevoked):
        who = _quote(fact.name) if fact.name else fact.keyholder_id
        return f"Thu hồi liên kết người bấm nút {who}", f"Revoked the key holder {who}"
    if isinstance(fact, f.OrganizerTokenIssued):
        vi, en = (f"Cấp mã truy cập cho {_quote(fact.name)} ({_ROLE_VI.get(fact.role, fact.role)})",
                  f"Issued an access token to {_quote(fact.name)} ({fact.role})")
        return _with_scope(vi, en, fact.scope)
    if isinstance(fact, f.OrganizerTokenRevoked):
        tid = fact.token_hash[:12]
        if before is None:
            return f"Thu hồi mã truy cập {tid}", f"Revoked the access token {tid}"
        return _with_scope(f"Thu hồi mã truy cập {tid} của {_quote(before['name'])}",
                           f"Revoked the access token {tid} of {_quote(before['name'])}", before["scope"])
    if isinstance(fact, f.PointUpserted):
        if before is None:
            return f"Thêm điểm cầu {code} ({fact.name})", f"Added the point {code} ({fact.name})"
        changed = [n for n in _POINT_FIELDS if before.get(n) != getattr(fact, n)]
        vi = ", ".join(_FIELD_VI[n] for n in changed) or "không đổi"
        en = ", ".join(_FIELD_EN[n] for n in changed) or "no change"
        return f"Sửa điểm cầu {code} ({fact.name}): {vi}", f"Edited the point {code} ({fact.name}): {en}"
    if isinstance(fact, f.PointDeleted):
        return f"Xóa điểm cầu {code}", f"Deleted the point {code}"
    if isinstance(fact, f.TokenRotated):
        return f"Đổi liên kết của điểm cầu {code}", f"Rotated the link of the point {code}"
    if isinstance(fact, f.IncidentResolved):
        return (f"Đóng sự cố {fact.incident} tại điểm cầu {code}",
                f"Resolved the incident {fact.incident} at the point {code}")
    if isinstance(fact, f.NoticeSent):
        where_vi = f" tới huyện {fact.district}" if fact.district else " tới mọi điểm cầu"
        where_en = f" to the district {fact.district}" if fact.district else " to every point"
        return f"Gửi thông báo{where_vi}: {_quote(fact.text)}", f"Sent a notice{where_en}: {_quote(fact.text)}"
    if isinstance(fact, f.AgendaSet):
        n = len(fact.items)
        return f"Đặt chương trình ({vi_number(n)} mục)", f"Set the agenda ({n} item{'' if n == 1 else 's'})"
    if isinstance(fact, f.AgendaStepped):
        return _AGENDA_VI.get(fact.action, fact.action), _AGENDA_EN.get(fact.action, fact.action)
    if isinstance(fact, f.LaunchArmed):
        s = fact.countdown_ms / 1000
        kind_vi, kind_en = (" (diễn tập)", " (rehearsal)") if fact.rehearsal else ("", "")
        return (f"Kích hoạt bấm nút{kind_vi}: đếm ngược {vi_number(s, 0 if s.is_integer() else 1)} giây, "
                f"{vi_number(fact.keys_required)} người bấm",
                f"Armed the launch{kind_en}: {s:g} s countdown, {fact.keys_required} "
                f"key{'' if fact.keys_required == 1 else 's'}")
    if isinstance(fact, f.LaunchKeyPressed):
        return f"Bấm nút: {fact.key}", f"Pressed a key: {fact.key}"
    if isinstance(fact, f.LaunchAborted):
        return "Hủy bấm nút", "Aborted the launch"
    if isinstance(fact, f.LaunchReset):
        return "Đặt lại nút bấm", "Reset the launch"
    if isinstance(fact, f.ReportSnapshotTaken):
        how_vi, how_en = (" (tự động)", " (automatic)") if fact.automatic else ("", "")
        return f"Chốt báo cáo {_quote(fact.label)}{how_vi}", f"Took the report {_quote(fact.label)}{how_en}"
    if isinstance(fact, f.CheckedIn):
        return f"Điểm danh điểm cầu {code}", f"Checked in the point {code}"
    if isinstance(fact, f.AttendeesCounted):
        return f"Cập nhật số người tại {code}", f"Updated the count at {code}"
    if isinstance(fact, f.IncidentOpened):
        return f"Báo sự cố tại {code}", f"Reported an incident at {code}"
    return fact.type, fact.type


def limit_param(raw: str | None) -> int:
    """The ``limit`` query parameter: 1 to 500 (default 100); bad values clamp."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, int(raw)))


def seq_param(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest("after_seq and before_seq must be whole numbers", code="validation_error")
    return int(raw)
