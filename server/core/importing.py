"""Validate an imported sheet of points, row by row (docs/protocol.md#import).

Valid rows are applied even when other rows fail; each failing row leaves one
error per bad column with its 1-based row number (the header is row 1). A row
that equals the point already stored yields no fact, so re-importing the same
file changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from server.core.errors import BadRequest
from server.core.points import POINT_FIELDS, _upsert, validate_fields
from server.core.state import EventState
from server.core.text import clean

REQUIRED_COLUMNS = ("code", "name", "level")
MAX_ROWS = 50_000


@dataclass(slots=True)
class ImportResult:
    facts: list[Any] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "errors": self.errors}


def header_map(header: list[Any]) -> dict[int, str]:
    """Column index -> field name; raises ``import_invalid`` if a required column is missing."""
    columns: dict[int, str] = {}
    seen: set[str] = set()
    for i, cell in enumerate(header):
        name = clean(cell).lstrip("\ufeff").strip().lower()
        if name in POINT_FIELDS:
            if name in seen:
                raise BadRequest(f"column {name!r} appears twice in the header", code="import_invalid")
            seen.add(name)
            columns[i] = name
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise BadRequest(
            f"the header row lacks the column(s): {', '.join(missing)}",
            code="import_invalid",
            details={"missing": missing, "expected": list(POINT_FIELDS)},
        )
    return columns


def decide_import(
    state: EventState,
    table: list[list[Any]],
    now_ms: float,
    make_token: Callable[[], str],
    actor: str | None,
) -> ImportResult:
    """``table`` is the sheet as rows of cells, the header first."""
    if not table:
        raise BadRequest("the file is empty", code="import_invalid")
    if len(table) > MAX_ROWS + 1:
        raise BadRequest(f"at most {MAX_ROWS} rows per import", code="import_invalid")
    columns = header_map(table[0])
    result = ImportResult()

    # Pass 1: each row on its own; duplicates within the file.
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, cells in enumerate(table[1:], start=2):
        if all(clean(c) == "" for c in cells):
            continue  # blank lines in a spreadsheet are not rows
        raw = {name: cells[i] if i < len(cells) else "" for i, name in columns.items()}
        values, errors = validate_fields(raw, partial=True)
        code = values.get("code", "")
        if not code and not any(c == "code" for c, _ in errors):
            errors.append(("code", "code is required"))
        if code and code in rows:
            errors.append(("code", f"duplicate code {code!r}, first on row {rows[code][0]}"))
        if errors:
            result.errors.extend({"row": number, "column": c, "message": m} for c, m in errors)
            continue
        rows[code] = (number, values)

    # Pass 2: parents must exist in the event or in a valid row; no loops.
    parents = {code: values.get("parent") for code, (_, values) in rows.items()}
    bad: set[str] = set()
    changed = True
    while changed:  # a row whose parent row failed fails too
        changed = False
        for code, (number, values) in rows.items():
            parent = values.get("parent")
            if code in bad or parent is None:
                continue
            known = (parent in rows and parent not in bad) or (parent not in rows and parent in state.points)
            if not known:
                result.errors.append({"row": number, "column": "parent",
                                      "message": f"parent {parent!r} is not a point of this event or of this file"})
                bad.add(code)
                changed = True
    for code, (number, _) in rows.items():
        if code not in bad and _loops(code, parents, state):
            result.errors.append({"row": number, "column": "parent", "message": "parent loop"})
            bad.add(code)

    # Pass 3: facts, parents before children so each fold finds its district.
    order: list[str] = []
    placed: set[str] = set()

    def place(code: str) -> None:
        if code in placed:
            return
        placed.add(code)
        parent = parents.get(code)
        if parent in rows and parent not in bad:
            place(parent)
        order.append(code)

    for code in rows:
        if code not in bad:
            place(code)
    for code in order:
        _, values = rows[code]
        existing = state.points.get(code)
        fact = _upsert(existing, values, "" if existing else make_token(), now_ms, actor)
        if fact is None:
            continue
        result.facts.append(fact)
        if existing is None:
            result.created += 1
        else:
            result.updated += 1
    result.errors.sort(key=lambda e: (e["row"], e["column"]))
    return result


def _loops(code: str, parents: dict[str, str | None], state: EventState) -> bool:
    seen = {code}
    cur = parents.get(code)
    while cur is not None:
        if cur in seen:
            return True
        seen.add(cur)
        cur = parents[cur] if cur in parents else (state.points[cur].parent if cur in state.points else None)
    return False
