"""The audit log: organizer actions from the journal, with summaries."""

from __future__ import annotations

from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.audit import AuditLog, limit_param, seq_param, summarize
from server.core.errors import BadRequest

from .conftest import ADMIN, NOW, TH_ROWS, Journal

A = "Nguyễn Văn An"


def point(code: str = "D1", actor: str | None = A, at: float = NOW, **over: Any) -> f.PointUpserted:
    fields: dict[str, Any] = {"at_ms": at, "actor": actor, "code": code, "name": "Huyện Triệu Sơn",
                              "level": "district", "parent": None, "chair": "Lê Văn A", "phone": "0910000001",
                              "expected": 100, "token": f"t-{code}"}
    fields.update(over)
    return f.PointUpserted(**fields)


# (case, fact, Vietnamese summary, English summary)
SUMMARIES = [
    ("event", f.EventCreated(at_ms=NOW, actor=A, event_id="e", name="Lễ phát động", starts_at="x",
                             report_deadline="y", timezone="Asia/Ho_Chi_Minh"),
     "Tạo sự kiện “Lễ phát động”", "Created the event “Lễ phát động”"),
    ("new point", point(), "Thêm điểm cầu D1 (Huyện Triệu Sơn)", "Added the point D1 (Huyện Triệu Sơn)"),
    ("delete", f.PointDeleted(at_ms=NOW, actor=A, code="C9"), "Xóa điểm cầu C9", "Deleted the point C9"),
    ("rotate", f.TokenRotated(at_ms=NOW, actor=A, code="C9", token="t"), "Đổi liên kết của điểm cầu C9",
     "Rotated the link of the point C9"),
    ("resolve", f.IncidentResolved(at_ms=NOW, actor=A, code="C9", incident="inc-1"),
     "Đóng sự cố inc-1 tại điểm cầu C9", "Resolved the incident inc-1 at the point C9"),
    ("notice to all", f.NoticeSent(at_ms=NOW, actor=A, text="Kiểm tra âm thanh"),
     "Gửi thông báo tới mọi điểm cầu: “Kiểm tra âm thanh”", "Sent a notice to every point: “Kiểm tra âm thanh”"),
    ("notice to a district", f.NoticeSent(at_ms=NOW, actor=A, text="Chú ý", district="D1"),
     "Gửi thông báo tới huyện D1: “Chú ý”", "Sent a notice to the district D1: “Chú ý”"),
    ("agenda set", f.AgendaSet(at_ms=NOW, actor=A, items=(f.AgendaItemSpec(title="Khai mạc", planned_s=60),)),
     "Đặt chương trình (1 mục)", "Set the agenda (1 item)"),
    ("agenda next", f.AgendaStepped(at_ms=NOW, actor=A, action="next", current=0),
     "Chuyển sang mục tiếp theo", "Moved to the next item"),
    ("agenda pause", f.AgendaStepped(at_ms=NOW, actor=A, action="pause", current=0),
     "Tạm dừng chương trình", "Paused the agenda"),
    ("arm", f.LaunchArmed(at_ms=NOW, actor=A, attempt=1, countdown_ms=10_000, keys_required=3),
     "Kích hoạt bấm nút: đếm ngược 10 giây, 3 người bấm", "Armed the launch: 10 s countdown, 3 keys"),
    ("arm a rehearsal", f.LaunchArmed(at_ms=NOW, actor=A, attempt=1, countdown_ms=3_500, keys_required=1,
                                      rehearsal=True),
     "Kích hoạt bấm nút (diễn tập): đếm ngược 3,5 giây, 1 người bấm",
     "Armed the launch (rehearsal): 3.5 s countdown, 1 key"),
    ("press", f.LaunchKeyPressed(at_ms=NOW, actor=A, attempt=1, key="Bí thư"), "Bấm nút: Bí thư",
     "Pressed a key: Bí thư"),
    ("abort", f.LaunchAborted(at_ms=NOW, actor=A, attempt=1), "Hủy bấm nút", "Aborted the launch"),
    ("reset", f.LaunchReset(at_ms=NOW, actor=A, attempt=1), "Đặt lại nút bấm", "Reset the launch"),
    ("snapshot", f.ReportSnapshotTaken(at_ms=NOW, actor=A, label="báo cáo lúc 07:15", taken_ms=NOW, report={}),
     "Chốt báo cáo “báo cáo lúc 07:15”", "Took the report “báo cáo lúc 07:15”"),
    ("automatic snapshot", f.ReportSnapshotTaken(at_ms=NOW, label="báo cáo lúc 07:30", taken_ms=NOW, report={},
                                                 automatic=True),
     "Chốt báo cáo “báo cáo lúc 07:30” (tự động)", "Took the report “báo cáo lúc 07:30” (automatic)"),
]


@pytest.mark.parametrize(("fact", "vi", "en"), [c[1:] for c in SUMMARIES], ids=[c[0] for c in SUMMARIES])
def test_summaries(fact: Any, vi: str, en: str) -> None:
    assert summarize(fact) == (vi, en)


# (case, fields changed, Vietnamese list)
EDITS = [
    ("phone", {"phone": "0999"}, "số điện thoại"),
    ("chair and phone", {"chair": "Bà Lan", "phone": "0999"}, "người phụ trách, số điện thoại"),
    ("expected", {"expected": 120}, "số người dự kiến"),
    ("parent and level", {"parent": "TH", "level": "commune"}, "cấp, đơn vị cấp trên"),
    ("nothing", {}, "không đổi"),
]


@pytest.mark.parametrize(("over", "listed"), [c[1:] for c in EDITS], ids=[c[0] for c in EDITS])
def test_an_edit_names_what_changed(over: dict[str, Any], listed: str) -> None:
    log = AuditLog().feed_all([(1, point()), (2, point(at=NOW + 1, **over))])
    assert log.entries[-1].summary == f"Sửa điểm cầu D1 (Huyện Triệu Sơn): {listed}"


def test_only_organizer_actions_are_listed() -> None:
    log = AuditLog().feed_all([
        (1, point()),
        (2, f.CheckedIn(at_ms=NOW, code="D1", msg_id="m", attendees=3)),  # a point's own action
        (3, f.IncidentResolved(at_ms=NOW, code="D1", msg_id="r", incident="i")),  # closed by the point
        (4, f.ReportSnapshotTaken(at_ms=NOW, label="l", taken_ms=NOW, report={})),  # by hand without actor: no
        (5, f.ReportSnapshotTaken(at_ms=NOW, label="l", taken_ms=NOW, report={}, automatic=True)),
    ])
    assert [(e.seq, e.type, e.actor) for e in log.entries] == [(1, "point.upserted", A),
                                                             (5, "report.snapshot_taken", None)]


# (case, facts: (code, actor, at offset, kind) , summaries newest first)
GROUPS = [
    ("an import of new points", [("a", A, 0, "up"), ("b", A, 0, "up"), ("c", A, 0, "up")], ["Thêm 3 điểm cầu"]),
    ("an import that adds and edits", [("D1", A, 0, "up"), ("x", A, 1, "up"), ("D1", A, 1, "up")],
     ["Nhập điểm cầu: thêm 1, sửa 1", "Thêm điểm cầu D1 (Huyện Triệu Sơn)"]),
    ("two actors are two entries", [("a", A, 0, "up"), ("b", "Bình", 0, "up")],
     ["Thêm điểm cầu b (Huyện Triệu Sơn)", "Thêm điểm cầu a (Huyện Triệu Sơn)"]),
    ("two instants are two entries", [("a", A, 0, "up"), ("b", A, 1, "up")],
     ["Thêm điểm cầu b (Huyện Triệu Sơn)", "Thêm điểm cầu a (Huyện Triệu Sơn)"]),
    ("deletes", [("a", A, 0, "del"), ("b", A, 0, "del")], ["Xóa 2 điểm cầu"]),
    ("rotations", [("a", A, 0, "rot"), ("b", A, 0, "rot")], ["Đổi liên kết của 2 điểm cầu"]),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in GROUPS], ids=[c[0] for c in GROUPS])
def test_grouping(spec: list[tuple[str, str, int, str]], expected: list[str]) -> None:
    facts: list[Any] = []
    for code, actor, dt, kind in spec:
        if kind == "up":
            facts.append(point(code, actor, NOW + dt, phone=f"09{len(facts)}"))
        elif kind == "del":
            facts.append(f.PointDeleted(at_ms=NOW + dt, actor=actor, code=code))
        else:
            facts.append(f.TokenRotated(at_ms=NOW + dt, actor=actor, code=code, token="t"))
    page = AuditLog().feed_all(list(enumerate(facts, 1))).page()
    assert [i["summary"] for i in page["items"]] == expected
    assert sum(i["count"] for i in page["items"]) == len(facts)


def test_thousands_in_the_vietnamese_form() -> None:
    facts = [(i, point(f"P{i}")) for i in range(1, 1019)]
    page = AuditLog().feed_all(facts).page()
    assert page["items"][0]["summary"] == "Thêm 1.018 điểm cầu"
    assert page["items"][0]["summary_en"] == "Added 1,018 points"
    assert (page["items"][0]["first_seq"], page["items"][0]["seq"]) == (1, 1018)


def test_paging_newest_first() -> None:
    log = AuditLog().feed_all([(i, f.NoticeSent(at_ms=NOW + i, actor=A, text=str(i))) for i in range(1, 8)])
    assert [i["seq"] for i in log.page(limit=3)["items"]] == [7, 6, 5]
    assert log.page(limit=3)["more"] is True
    assert [i["seq"] for i in log.page(before_seq=5, limit=3)["items"]] == [4, 3, 2]
    assert [i["seq"] for i in log.page(after_seq=5)["items"]] == [7, 6]
    assert log.page(after_seq=7) == {"items": [], "seq": 7, "more": False}
    assert log.page(before_seq=2, limit=3) == {"items": [log.entries[0].view()], "seq": 7, "more": False}


def test_a_real_journal(th: Journal) -> None:
    th.checkin("C1", 40)
    th.decide(pts.decide_patch(th.state, "C1", {"phone": "0911111111"}, NOW + 1, ADMIN))
    inc = th.incident("C2")
    th.decide(pts.decide_resolve_incident(th.state, inc, NOW + 2, ADMIN))
    items = AuditLog().feed_all(th.facts).page()["items"]
    assert [i["summary"] for i in items] == [
        f"Đóng sự cố {inc} tại điểm cầu C2",
        "Sửa điểm cầu C1 (Xã Dân Lực): số điện thoại",
        f"Thêm {len(TH_ROWS)} điểm cầu",
        "Tạo sự kiện “Lễ phát động phong trào thi đua”",
    ]
    assert {i["actor"] for i in items} == {ADMIN}


@pytest.mark.parametrize(("raw", "value"), [(None, 100), ("", 100), ("5", 5), ("0", 1), ("9999", 500),
                                            ("x", 100)])
def test_limit_param(raw: str | None, value: int) -> None:
    assert limit_param(raw) == value


def test_seq_param() -> None:
    assert seq_param(None) is None and seq_param("") is None and seq_param("42") == 42
    with pytest.raises(BadRequest):
        seq_param("-1")
