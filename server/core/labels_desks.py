"""The desks' words (docs/protocol.md#desks), as (Vietnamese, English) pairs:
the desk's name when a province gives units their desks in bulk, and the
desks' log-in sheet. The console's desk words are in ``CONSOLE`` here too,
merged into the console's catalog by server/core/labels.py."""

from __future__ import annotations

DESKS: dict[str, tuple[str, str]] = {
    "name": ("Bàn {name}", "Desk of {name}"),
    "sheet_title": ("Bàn giao theo đơn vị — {name}", "Desks by unit — {name}"),
    "sheet_summary": ("{n} bàn mới, in lúc {t}. Mỗi mã chỉ hiện một lần: cất giữ như chìa khóa.",
                      "{n} new desks, printed at {t}. Each code is shown once: keep it like a key."),
    "sheet_existing": ("{n} đơn vị đã có bàn từ trước (không tạo lại).",
                       "{n} units already had a desk (none created again)."),
    "card_unit": ("Đơn vị: {unit} ({code})", "Unit: {unit} ({code})"),
    "card_role": ("Quyền: {role}", "Role: {role}"),
    "qr_alt": ("Mã QR đăng nhập bàn {name}", "Log-in QR code of {name}"),
    "role_operator": ("Điều hành", "Operator"),
    "role_viewer": ("Theo dõi", "Viewer"),
    "csv_header": ("tên bàn,mã đơn vị,đơn vị,quyền,liên kết đăng nhập",
                   "desk,unit code,unit,role,log-in link"),
}

CONSOLE: dict[str, tuple[str, str]] = {
    # a desk's own console
    "desk.unit": ("Bàn {name}", "Desk: {name}"),
    "desk.unit_title": ("Bảng điều khiển của riêng đơn vị này", "This unit's own console"),
    "desk.shut_out": ("Bàn này đã bị thu hồi hoặc phiên đã hết. Đăng nhập lại bằng mã mới.",
                      "This desk was revoked or its session ended. Log in again with a new code."),
    # People: give one unit its desk, or every unit of a level
    "desk.title": ("Giao bàn cho đơn vị", "Give a unit its desk"),
    "desk.hint": ("Bàn của một đơn vị chỉ thấy và xử lý phần của đơn vị đó: điểm cầu, sự cố, thông báo, báo cáo. "
                  "Bàn không bấm nút phát động, không chạy chương trình, không nhập danh sách.",
                  "A unit's desk sees and handles only its unit: points, incidents, notices, reports. "
                  "It cannot press the launch, run the agenda or import."),
    "desk.point": ("Đơn vị", "Unit"),
    "desk.point_ph": ("Tìm đơn vị theo tên hoặc mã", "Find the unit by name or code"),
    "desk.name": ("Tên bàn", "Desk name"),
    "desk.name_ph": ("Để trống: “Bàn” và tên đơn vị", "Empty: “Desk of” and the unit's name"),
    "desk.default_name": ("Bàn {name}", "Desk of {name}"),
    "desk.give": ("Giao bàn cho …", "Give a desk to …"),
    "desk.give_for": ("Giao bàn cho {name}", "Give {name} its desk"),
    "desk.pick_first": ("Chọn một đơn vị trong danh sách.", "Pick a unit from the list."),
    "desk.link_title": ("Đăng nhập cho {name} — {unit}", "Log-in for {name} — {unit}"),
    "desk.link_hint": ("Quét mã QR bằng máy của đơn vị hoặc mở liên kết: máy vào thẳng bảng điều khiển "
                       "của riêng đơn vị.",
                       "Scan the QR code on the unit's device or open the link: it opens the unit's own console."),
    "desk.bulk_title": ("Giao bàn cho mọi đơn vị một cấp", "A desk for every unit of a level"),
    "desk.bulk_hint": ("Mỗi đơn vị ở cấp đã chọn nhận một bàn; đơn vị đã có bàn thì giữ nguyên. "
                       "Chạy lại không tạo trùng.",
                       "Each unit of the chosen level gets a desk; units that have one keep it. "
                       "Running it again creates nothing twice."),
    "desk.bulk_level": ("{level} ({n})", "{level} ({n})"),
    "desk.bulk_btn": ("Giao bàn cho mọi đơn vị cấp này", "A desk for every unit of this level"),
    "desk.bulk_done": ("Đã tạo {n} bàn mới; {m} đơn vị đã có bàn từ trước.",
                       "{n} new desks; {m} units already had one."),
    "desk.bulk_once": ("Các liên kết chỉ có trong hai tệp này và chỉ tải được một lần: tải và in ngay.",
                       "The links are only in these two files, and only this once: download and print them now."),
    "desk.bulk_csv": ("Tải danh sách (CSV)", "Download the list (CSV)"),
    "desk.bulk_sheet": ("Tải phiếu in mã QR", "Download the printable QR sheet"),
    # the province's Desks view
    "nav.desks": ("Bàn đơn vị", "Desks"),
    "desks.title": ("Các bàn đơn vị", "The units' desks"),
    "desks.hint": ("Xếp theo tiến độ: bàn chậm nhất ở trên. Tự cập nhật vài giây một lần.",
                   "By progress, the desks furthest behind first. Refreshed every few seconds."),
    "desks.desk": ("Bàn", "Desk"),
    "desks.unit": ("Đơn vị", "Unit"),
    "desks.progress": ("Điểm danh", "Checked in"),
    "desks.people": ("Người dự / dự kiến", "Attendees / expected"),
    "desks.active": ("Hoạt động lần cuối", "Last active"),
    "desks.none": ("Chưa có bàn nào. Giao bàn ở mục Người dùng.", "No desk yet: give desks in People."),
    "desks.gone": ("(đơn vị đã xóa)", "(unit deleted)"),
}
