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

CONSOLE: dict[str, tuple[str, str]] = {}
