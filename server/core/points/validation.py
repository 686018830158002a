"""A point's fields checked and cleaned, and the tree they make (no loops).

Pure: the errors come back as row errors (:func:`server.core.labels.row_error`)
for the caller to raise or to list per import row.
"""

from __future__ import annotations

import math
from typing import Any

from server.core import facts as f
from server.core.labels import row_error
from server.core.state import EventState
from server.core.text import clean

POINT_FIELDS = ("code", "name", "level", "parent", "chair", "phone", "expected", "lat", "lon")
# Optional coordinates (docs/protocol.md#import): a number in range, or empty for none.
COORDINATES = {"lat": 90.0, "lon": 180.0}
MAX_COUNT = 1_000_000
MAX_NOTE = 500


def validate_fields(raw: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Clean and check point fields. Returns (clean values, [row error]), each
    error made by :func:`server.core.labels.row_error` (column, code, params,
    message in English and Vietnamese).

    ``partial`` (a PATCH) checks only the fields given.
    """
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name in POINT_FIELDS:
        if name not in raw:
            if not partial:
                out[name] = None if name in ("parent", *COORDINATES) else (0 if name == "expected" else "")
            continue
        value = raw[name]
        if name in COORDINATES:
            coordinate, ok = _coordinate(value, COORDINATES[name])
            if ok:
                out[name] = coordinate
            else:
                errors.append(row_error(name, "bad_coordinate", value=clean(value), limit=int(COORDINATES[name])))
        elif name == "expected":
            number = _whole_number(value)
            if number is None:
                errors.append(row_error(name, "not_whole_number", value=clean(value)))
            else:
                out[name] = number
        elif name == "parent":
            out[name] = clean(value) or None
        elif name == "level":
            level = clean(value).lower()
            if not level:
                errors.append(row_error(name, "required"))
            elif level not in f.LEVELS:
                errors.append(row_error(name, "unknown_level", value=clean(value), choices=", ".join(f.LEVELS)))
            else:
                out[name] = level
        else:
            if value is not None and not isinstance(value, (str, int, float)):
                errors.append(row_error(name, "not_text"))
                continue
            out[name] = clean(value)
    if not partial or "code" in raw:
        code = out.get("code", "")
        if not code:
            errors.append(row_error("code", "required"))
        elif len(code) > 64 or any(c in code for c in "/?#%") or code != code.strip():
            errors.append(row_error("code", "bad_code"))
    if (not partial or "name" in raw) and not out.get("name"):
        errors.append(row_error("name", "required"))
    for name in ("name", "chair", "phone"):
        if len(out.get(name) or "") > 200:
            errors.append(row_error(name, "too_long"))
    return out, errors


def _coordinate(value: Any, limit: float) -> tuple[float | None, bool]:
    """A latitude or longitude: (the number, True), (None, True) for an empty
    cell or null, (None, False) for anything else or a number out of range."""
    if value is None:
        return None, True
    if isinstance(value, bool):
        return None, False
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        if not isinstance(value, str):
            return None, False
        text = clean(value).replace(" ", "")
        if text == "":
            return None, True
        try:
            number = float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
        except ValueError:
            return None, False
    if not math.isfinite(number) or not -limit <= number <= limit:
        return None, False
    return number, True


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value <= MAX_COUNT else None
    text = clean(value).replace(" ", "")
    if text == "":
        return 0
    if text.isascii() and text.isdigit() and int(text) <= MAX_COUNT:
        return int(text)
    return None


def would_cycle(state: EventState, code: str, parent: str | None, extra: dict[str, str | None] | None = None) -> bool:
    """True if making ``parent`` the parent of ``code`` closes a loop."""
    parents = extra or {}
    seen = {code}
    cur = parent
    while cur is not None:
        if cur in seen:
            return True
        seen.add(cur)
        if cur in parents:
            cur = parents[cur]
        elif cur in state.points:
            cur = state.points[cur].parent
        else:
            return False
    return False
