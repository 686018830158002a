"""The words people read, in one place, in Vietnamese and English: level
names, statuses, incident kinds, launch states and the launch itself (the
shared words, here), and each surface's own words (kept as data in
:mod:`server.core.labels_ui`: the console, the point page and the hall, the
key holder's page, the printed report and the link sheet).

Every surface takes its words from here so they cannot drift apart: the
reports (report_render, report_xlsx) and the link sheet import this module;
the point page, the hall, the key holder's page and the console load
:func:`labels_js` (served as ``/static/labels.js`` and
``/static/checkin/labels.js``) and read their dictionaries from it. The
whole catalog, by language, is :func:`catalog`. tests/core/test_labels.py
checks every surface, and that every word is in both languages.

The launch is *phát động* ("bấm nút phát động phong trào", the province's own
word for launching a movement), never *khởi động* (starting a machine).

Also here: the import's row errors, each with a stable ``code``, its
``params``, and a message in both languages (:func:`row_error`).
"""

from __future__ import annotations

import json
from typing import Any

from server.core import labels_desks, labels_map, labels_print, labels_ui

LANGS = ("vi", "en")


def _by_lang(table: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """(vi, en) pairs by key -> {lang: {key: text}}."""
    return {lang: {key: pair[i] for key, pair in table.items()} for i, lang in enumerate(LANGS)}


# Each surface's own words (server/core/labels_ui.py), by language.
# The console's words: its own, the map tab's and the registry download's, the desks'.
CONSOLE = _by_lang({**labels_ui.CONSOLE, **labels_map.MAP, **labels_desks.CONSOLE})
CHECKIN = _by_lang(labels_ui.CHECKIN)
KEYHOLDER = _by_lang(labels_ui.KEYHOLDER)
REPORT = _by_lang(labels_print.REPORT)
LINKS = _by_lang(labels_print.LINKS)
DESKS = _by_lang(labels_desks.DESKS)

LAUNCH_WORD = {"vi": "phát động", "en": "launch"}
LAUNCH_TITLE = {"vi": "Nghi thức bấm nút phát động", "en": "Launch"}

LEVELS: dict[str, dict[str, str]] = {
    "vi": {
        "province": "Tỉnh",
        "department": "Sở, ban, ngành",
        "district": "Huyện, thị xã, thành phố",
        "commune": "Xã, phường, đặc khu",
        "village": "Thôn, bản, khu phố",
        "school": "Trường học",
        "market": "Chợ",
        "enterprise": "Doanh nghiệp",
        "other": "Khác",
    },
    "en": {
        "province": "Province",
        "department": "Department",
        "district": "District",
        "commune": "Commune, ward, special zone",
        "village": "Village",
        "school": "School",
        "market": "Market",
        "enterprise": "Enterprise",
        "other": "Other",
    },
}

# A point's status, as filtered on in GET /points and shown in the console.
STATUSES: dict[str, dict[str, str]] = {
    "vi": {"pending": "Chưa điểm danh", "checked_in": "Đã điểm danh", "online": "Trực tuyến",
           "offline": "Ngoại tuyến", "incident": "Có sự cố"},
    "en": {"pending": "Not checked in", "checked_in": "Checked in", "online": "Online",
           "offline": "Offline", "incident": "Problem"},
}

INCIDENT_KINDS: dict[str, dict[str, str]] = {
    "vi": {"audio": "Mất tiếng", "video": "Mất hình", "power": "Mất điện", "network": "Mất mạng", "other": "Khác"},
    "en": {"audio": "No sound", "video": "No picture", "power": "Power cut", "network": "Network down",
           "other": "Other"},
}

LAUNCH_STATES: dict[str, dict[str, str]] = {
    "vi": {"idle": "Chưa kích hoạt", "armed": "Sẵn sàng phát động", "countdown": "Đếm ngược phát động",
           "fired": "Đã phát động", "aborted": "Đã hủy"},
    "en": {"idle": "Not armed", "armed": "Ready to launch", "countdown": "Launch countdown",
           "fired": "Launched", "aborted": "Aborted"},
}

AGENDA_STATES: dict[str, dict[str, str]] = {
    "vi": {"not_started": "Chưa bắt đầu", "running": "Đang diễn ra", "paused": "Tạm dừng",
           "finished": "Đã kết thúc"},
    "en": {"not_started": "Not started", "running": "Running", "paused": "Paused", "finished": "Finished"},
}

# The report's figures about the launch (HTML and XLSX say the same).
LAUNCH_FIGURES: dict[str, dict[str, str]] = {
    "vi": {"fire_at": "Thời điểm phát động", "fired_count": "Điểm cầu báo đã phát động",
           "sheet": "Bấm nút phát động"},
    "en": {"fire_at": "Launch time", "fired_count": "Points reporting the launch", "sheet": "Launch"},
}


def level_name(level: str, lang: str = "vi") -> str:
    return LEVELS[lang].get(level, level)


def kind_name(kind: str, lang: str = "vi") -> str:
    return INCIDENT_KINDS[lang].get(kind, kind)


def launch_state_name(state: str, lang: str = "vi") -> str:
    return LAUNCH_STATES[lang].get(state, state)


def all_labels() -> dict[str, dict[str, Any]]:
    """The labels the browser surfaces use, by language: the shared words and
    each page's own (the point page loads them on a phone, within its
    first-load budget: the module is gzipped on the wire)."""
    return {
        lang: {
            "launch_word": LAUNCH_WORD[lang],
            "launch_title": LAUNCH_TITLE[lang],
            "levels": LEVELS[lang],
            "statuses": STATUSES[lang],
            "kinds": INCIDENT_KINDS[lang],
            "launch_states": LAUNCH_STATES[lang],
            "launch_figures": LAUNCH_FIGURES[lang],
            "agenda_states": AGENDA_STATES[lang],
            "console": CONSOLE[lang],
            "checkin": CHECKIN[lang],
            "keyholder": KEYHOLDER[lang],
        }
        for lang in LANGS
    }


def catalog() -> dict[str, dict[str, Any]]:
    """Every word, by language: what the pages load (:func:`all_labels`), the
    printed report and link sheet, and the import's row errors and columns."""
    pages = all_labels()
    return {
        lang: {
            **pages[lang],
            "report": REPORT[lang],
            "links": LINKS[lang],
            "desks": DESKS[lang],
            "row_errors": {code: texts[lang] for code, texts in ROW_ERRORS.items() if lang in texts},
            "columns": COLUMNS_VI if lang == "vi" else {name: name for name in COLUMNS_VI},
        }
        for lang in LANGS
    }


def labels_js() -> str:
    """The labels as an ES module: ``export const LABELS = {"vi": {...}, "en": {...}};``."""
    body = json.dumps(all_labels(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)  # the page's weight
    return f"// Generated from server/core/labels.py: edit the words there.\nexport const LABELS = {body};\n"


# -- import row errors ------------------------------------------------------------

# code -> {lang: template}; the templates take the error's params by name.
ROW_ERRORS: dict[str, dict[str, str]] = {
    "required": {
        "en": "{column} is required",
        "vi": "Thiếu {column_vi} (bắt buộc)",
    },
    "not_whole_number": {
        "en": "expected must be a whole number ≥ 0, got {value!r}",
        "vi": "Số người dự kiến phải là số nguyên từ 0 đến 1.000.000, không phải “{value}”",
    },
    "unknown_level": {
        "en": "unknown level {value!r}; one of {choices}",
        "vi": "Cấp “{value}” không hợp lệ; dùng một trong: {choices}",
    },
    "not_text": {
        "en": "{column} must be text",
        "vi": "{column_vi} phải là chữ",
    },
    "bad_coordinate": {
        "en": "{column} must be a number from -{limit} to {limit}, got {value!r}",
        "vi": "{column_vi} phải là số từ -{limit} đến {limit}, không phải “{value}”",
    },
    "bad_code": {
        "en": "code must be at most 64 characters without / ? # %",
        "vi": "Mã tối đa 64 ký tự, không chứa / ? # %",
    },
    "too_long": {
        "en": "{column} is longer than 200 characters",
        "vi": "{column_vi} dài quá 200 ký tự",
    },
    "duplicate_code": {
        "en": "duplicate code {value!r}, first on row {first_row}",
        "vi": "Mã “{value}” bị trùng, đã có ở dòng {first_row}",
    },
    "parent_unknown": {
        "en": "parent {parent!r} is not a point of this event or of this file",
        "vi": "Đơn vị cấp trên “{parent}” không có trong sự kiện này hay trong tệp",
    },
    "parent_row_invalid": {
        "en": "parent {parent!r} is not a point of this event or of this file: its row {parent_row} has errors",
        "vi": "Đơn vị cấp trên “{parent}” (dòng {parent_row}) có lỗi nên dòng này chưa nhập được",
    },
    "parent_loop": {
        "en": "parent loop: the parents above {value!r} go round in a loop through {parent!r}",
        "vi": "Vòng lặp cấp trên: các đơn vị cấp trên của “{value}” quay vòng qua “{parent}”",
    },
}

# The import's columns (the header keeps the contract's English names).
COLUMNS_VI = {"code": "mã", "name": "tên", "level": "cấp", "parent": "đơn vị cấp trên", "chair": "người phụ trách",
              "phone": "số điện thoại", "expected": "số người dự kiến", "lat": "vĩ độ", "lon": "kinh độ"}


def row_error(column: str, code: str, **params: Any) -> dict[str, Any]:
    """One error of a row: ``column``, a stable ``code``, its ``params``, the
    English ``message`` (the contract's field) and ``message_vi``."""
    fill = {"column": column, "column_vi": COLUMNS_VI.get(column, column), **params}
    vi = ROW_ERRORS[code]["vi"].replace("!r}", "}").format(**fill)
    return {"column": column, "code": code, "params": params,
            "message": ROW_ERRORS[code]["en"].format(**fill), "message_vi": vi[:1].upper() + vi[1:]}
