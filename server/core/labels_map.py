"""The console's words for its map tab (console/web/js/map.js) and the Points
tab's download of the official administrative units: (Vietnamese, English)
under the keys the console's code uses. server/core/labels.py merges them
into the console's catalog; kept apart so that no module grows past about
500 lines.
"""

from __future__ import annotations

MAP: dict[str, tuple[str, str]] = {
    "nav.map": ("Bản đồ", "Map"),
    "map.search": ("Tìm đơn vị hoặc điểm cầu (không cần dấu)", "Find a unit or point (accents optional)"),
    "map.mode_auto": ("Tự chọn cách hiển thị", "Layout: automatic"),
    "map.mode_cells": ("Mỗi điểm cầu một ô", "One cell per point"),
    "map.mode_groups": ("Mỗi đơn vị một ô", "One cell per unit"),
    "map.mode_dots": ("Theo tọa độ", "By coordinates"),
    "map.back": ("‹ Mọi đơn vị", "‹ Every unit"),
    "map.units": ("{n} đơn vị ({level})", "{n} units ({level})"),
    "map.off": ("Chưa kết nối", "Not connected"),
    "map.on": ("Trực tuyến", "Online"),
    "map.in": ("Đã điểm danh", "Checked in"),
    "map.inc": ("Có sự cố", "Open incident"),
    "map.fired": ("Đã phát động", "Fired"),
    "map.share": ("{checked} / {total} đã điểm danh ({pct})", "{checked} / {total} checked in ({pct})"),
    "map.zoom_hint": ("Bấm để xem từng điểm cầu", "Click to see each point"),
    "map.no_coords": ("{n} điểm cầu chưa có tọa độ (cột lat, lon)", "{n} points without coordinates (lat, lon columns)"),
    "map.none": ("Không có đơn vị nào khớp.", "No unit matches."),
    "points.registry": ("Tải danh sách theo danh mục hành chính", "Download the list from the official administrative units"),
    "points.registry_ph": ("Tỉnh, thành phố (ví dụ: Thanh Hóa)", "Province (e.g. Thanh Hóa)"),
    "points.registry_candidates": ("Gợi ý: {names}", "Did you mean: {names}"),
}
