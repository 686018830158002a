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
from server.core.labels import row_error
from server.core.points.decisions import _upsert
from server.core.points.validation import POINT_FIELDS, validate_fields
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
                raise BadRequest(f"column {name!r} appears twice in the header", code="import_invalid",
                                 details={"message_vi": f"Cột “{name}” xuất hiện hai lần ở dòng tiêu đề."})
            seen.add(name)
            columns[i] = name
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise BadRequest(
            f"the header row lacks the column(s): {', '.join(missing)}",
            code="import_invalid",
            details={"missing": missing, "expected": list(POINT_FIELDS),
                     "message_vi": f"Dòng tiêu đề thiếu cột: {', '.join(missing)}."},
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
        raise BadRequest("the file is empty", code="import_invalid", details={"message_vi": "Tệp trống."})
    if len(table) > MAX_ROWS + 1:
        raise BadRequest(f"at most {MAX_ROWS} rows per import", code="import_invalid",
                         details={"message_vi": f"Mỗi lần nhập tối đa {MAX_ROWS:,} dòng.".replace(",", ".")})
    columns = header_map(table[0])
    result = ImportResult()

    # Pass 1: each row on its own; duplicates within the file.
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    failed: dict[str, int] = {}  # code -> the first row that names it and fails pass 1
    for number, cells in enumerate(table[1:], start=2):
        if all(clean(c) == "" for c in cells):
            continue  # blank lines in a spreadsheet are not rows
        raw = {name: cells[i] if i < len(cells) else "" for i, name in columns.items()}
        values, errors = validate_fields(raw, partial=True)
        code = values.get("code", "")
        if not code and not any(e["column"] == "code" for e in errors):
            errors.append(row_error("code", "required"))
        if code and code in rows:
            errors.append(row_error("code", "duplicate_code", value=code, first_row=rows[code][0]))
        if errors:
            result.errors.extend({"row": number, **e} for e in errors)
            if code and code not in rows:
                failed.setdefault(code, number)
            continue
        rows[code] = (number, values)

    # Pass 2: parents must exist in the event or in a valid row; no loops.
    # Iterative walks with memos, linear in the rows (a 50,000-deep chain
    # neither recurses nor rescans the file once per level).
    parents = {code: values.get("parent") for code, (_, values) in rows.items()}
    bad = _check_parents(rows, parents, failed, state, result.errors)

    # Pass 3: facts, parents before children so each fold finds its district.
    order: list[str] = []
    placed: set[str] = set(bad)
    for start in rows:
        chain: list[str] = []
        cur: str | None = start
        while cur is not None and cur in rows and cur not in placed:
            placed.add(cur)
            chain.append(cur)
            cur = parents[cur]
        order.extend(reversed(chain))
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


def _check_parents(rows: dict[str, tuple[int, dict[str, Any]]], parents: dict[str, str | None],
                   failed: dict[str, int], state: EventState, errors: list[dict[str, Any]]) -> set[str]:
    """Add the parent errors of the valid rows; return the codes that fail."""

    def up(code: str) -> str | None:
        """The parent ``code`` will have after the import (a row overrides the stored point)."""
        if code in parents:
            return parents[code]
        point = state.points.get(code)
        return point.parent if point is not None else None

    # Loops: the parent links form a functional graph; one walk per unvisited
    # node marks whether following the parents ever comes back on itself.
    loops: dict[str, str | None] = {}  # code -> a code on the loop it reaches, or None
    for start in rows:
        path: list[str] = []
        on_path: dict[str, int] = {}
        cur: str | None = start
        found: str | None = None
        while cur is not None and cur not in loops:
            if cur in on_path:
                found = cur
                break
            on_path[cur] = len(path)
            path.append(cur)
            if cur not in parents and cur not in state.points:
                break  # an unknown code ends the walk (reported below)
            cur = up(cur)
        else:
            if cur is not None:
                found = loops[cur]
        for code in path:
            loops[code] = found

    bad: set[str] = set()
    for code, (number, _) in rows.items():
        if loops[code] is not None:
            errors.append({"row": number, **row_error("parent", "parent_loop", value=code, parent=loops[code])})
            bad.add(code)

    # Unknown parents, and rows below a failing row: walk up the rows only,
    # memoising each row's verdict.
    verdict: dict[str, bool] = {code: False for code in bad}
    for start in rows:
        path = []
        cur = start
        ok = True
        while cur is not None and cur in rows and cur not in verdict:
            path.append(cur)
            parent = parents[cur]
            if parent is not None and parent not in rows and parent not in state.points:
                number = rows[cur][0]
                if parent in failed:
                    errors.append({"row": number, **row_error("parent", "parent_row_invalid", parent=parent,
                                                              parent_row=failed[parent])})
                else:
                    errors.append({"row": number, **row_error("parent", "parent_unknown", parent=parent)})
                verdict[cur] = False
                bad.add(cur)
                path.pop()
                cur = None
                ok = False
                break
            cur = parent
        if cur is not None and cur in verdict:
            ok = verdict[cur]
        # Walking back down: each row fails if the row above it failed.
        for code in reversed(path):
            if not ok:
                parent = parents[code]
                assert parent is not None
                errors.append({"row": rows[code][0], **row_error("parent", "parent_row_invalid", parent=parent,
                                                                  parent_row=rows[parent][0])})
                bad.add(code)
            verdict[code] = ok
    return bad
