"""Importing a sheet of points: header, dirty rows, NFC, idempotent re-import,
parents before children."""

from __future__ import annotations

import itertools
import unicodedata
from typing import Any

import pytest

from server.core import facts as f
from server.core import points as pts
from server.core.errors import BadRequest
from server.core.importing import MAX_ROWS, decide_import, header_map
from server.core.state import EventState

from .conftest import ADMIN, HEADER, NOW, TH_ROWS, TH_TABLE, TH_TREE, Journal, token_maker

ROOT = ["TH", "Tỉnh Thanh Hóa", "province", "", "", "", "200"]
D1 = ["D1", "Huyện Triệu Sơn", "district", "TH", "", "", "100"]


def row(code: str, name: str = "Xã X", level: str = "commune", parent: str = "D1", expected: Any = "10",
        chair: str = "", phone: str = "") -> list[Any]:
    return [code, name, level, parent, chair, phone, expected]


def decide(state: EventState, table: list[list[Any]]) -> Any:
    return decide_import(state, table, NOW, token_maker(), ADMIN)


def where(result: Any) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in result.errors]


# -- a clean import ----------------------------------------------------------------


def test_the_tree_imports(th: Journal) -> None:
    state = th.state
    assert set(state.points) == set(TH_TREE)
    for code, (level, district, expected) in TH_TREE.items():
        point = state.points[code]
        assert (point.level, state.live.district_of[code], point.expected) == (level, district, expected)
    assert state.points["V1"].parent == "C1"
    assert state.points["TH"].parent is None
    assert state.points["D1"].chair == "Lê Văn A"
    assert len(state.live.by_token) == len(TH_TREE)  # a distinct token for each point


def test_import_result_summary(journal: Journal) -> None:
    result = journal.import_table(TH_TABLE)
    assert result.summary() == {"created": len(TH_ROWS), "updated": 0, "errors": []}
    assert all(isinstance(fact, f.PointUpserted) and fact.actor == ADMIN for fact in result.facts)
    assert all(fact.at_ms == NOW for fact in result.facts)


# -- dirty rows -----------------------------------------------------------------------

# (data rows after the header, [(row, column)] errors, created, a message fragment or None)
DIRTY: dict[str, tuple[list[list[Any]], list[tuple[int, str]], int, str | None]] = {
    "unknown level": ([ROOT, D1, row("X1", level="hamlet")], [(4, "level")], 2, "unknown level"),
    "empty level": ([ROOT, D1, row("X1", level="")], [(4, "level")], 2, "level is required"),
    "expected abc": ([ROOT, D1, row("X1", expected="abc")], [(4, "expected")], 2, "whole number"),
    "expected -1": ([ROOT, D1, row("X1", expected="-1")], [(4, "expected")], 2, "'-1'"),
    "expected 1.5": ([ROOT, D1, row("X1", expected="1.5")], [(4, "expected")], 2, "'1.5'"),
    "expected too big": ([ROOT, D1, row("X1", expected="1000001")], [(4, "expected")], 2, None),
    "expected float cell 1.5": ([ROOT, D1, row("X1", expected=1.5)], [(4, "expected")], 2, None),
    "expected bool cell": ([ROOT, D1, row("X1", expected=True)], [(4, "expected")], 2, None),
    "missing parent": ([ROOT, D1, row("X1", parent="D9")], [(4, "parent")], 2, "'D9'"),
    "duplicate code": (
        [ROOT, D1, row("X1"), row("X1", name="Xã Khác")], [(5, "code")], 3, "first on row 4"),
    "duplicate of the first row": ([ROOT, ROOT], [(3, "code")], 1, "first on row 2"),
    "missing name": ([ROOT, D1, row("X1", name="")], [(4, "name")], 2, "name is required"),
    "blank name": ([ROOT, D1, row("X1", name="   ")], [(4, "name")], 2, "name is required"),
    "missing code": ([ROOT, D1, row("")], [(4, "code")], 2, "code is required"),
    "bad code": ([ROOT, D1, row("X/1")], [(4, "code")], 2, None),
    "parent loop": (
        [ROOT, row("A", parent="B"), row("B", parent="A")], [(3, "parent"), (4, "parent")], 1, "parent loop"),
    "self parent": ([ROOT, row("A", parent="A")], [(3, "parent")], 1, "parent loop"),
    "three loop": (
        [row("A", parent="C"), row("B", parent="A"), row("C", parent="B")],
        [(2, "parent"), (3, "parent"), (4, "parent")], 0, "parent loop"),
    "child of a failed row": (
        [ROOT, row("D5", level="county", parent="TH"), row("X1", parent="D5")],
        [(3, "level"), (4, "parent")], 1, None),
    "grandchild of a failed row": (
        [ROOT, row("D5", name="", parent="TH"), row("X1", parent="D5"), row("V", level="village", parent="X1")],
        [(3, "name"), (4, "parent"), (5, "parent")], 1, None),
    "child of a looping row": (
        [ROOT, row("A", parent="B"), row("B", parent="A"), row("X1", parent="A")],
        [(3, "parent"), (4, "parent"), (5, "parent")], 1, None),
    "two errors in one row": ([ROOT, row("X1", name="", level="hamlet")], [(3, "level"), (3, "name")], 1, None),
    "all bad": ([row(""), row("Y", level="zzz")], [(2, "code"), (3, "level")], 0, None),
}


@pytest.mark.parametrize("case", list(DIRTY))
def test_dirty_rows(journal: Journal, case: str) -> None:
    rows, errors, created, fragment = DIRTY[case]
    result = journal.import_table([HEADER, *rows])
    assert where(result) == errors
    assert result.created == created
    assert result.updated == 0
    assert len(journal.state.points) == created
    if fragment is not None:
        assert any(fragment in e["message"] for e in result.errors), result.errors
    # Every error is a plain JSON-able dict of the protocol's shape.
    for e in result.errors:
        assert set(e) == {"row", "column", "message", "code", "params", "message_vi"}
        assert isinstance(e["row"], int) and e["row"] >= 2


def test_valid_rows_are_applied_when_others_fail(journal: Journal) -> None:
    result = journal.import_table([HEADER, ROOT, row("BAD", level="?"), D1, row("X1"), row("X2", expected="-")])
    assert where(result) == [(3, "level"), (6, "expected")]
    assert set(journal.state.points) == {"TH", "D1", "X1"}
    assert journal.state.live.district_of["X1"] == "D1"


def test_duplicate_keeps_the_first_row(journal: Journal) -> None:
    journal.import_table([HEADER, ROOT, D1, row("X1", name="Xã Đầu"), row("X1", name="Xã Sau")])
    assert journal.state.points["X1"].name == "Xã Đầu"


def test_the_first_data_row_is_row_2(journal: Journal) -> None:
    result = journal.import_table([HEADER, row("X1", level="nope")])
    assert result.errors[0]["row"] == 2


@pytest.mark.parametrize(
    "blank",
    [[], [""], ["", "", "", "", "", "", ""], [None, None], ["  ", "\t", ""], ["", "", "", "", "", "", "", ""]],
    ids=["empty-list", "one-cell", "all-empty", "nones", "whitespace", "longer"],
)
def test_blank_lines_are_skipped_but_counted(journal: Journal, blank: list[Any]) -> None:
    result = journal.import_table([HEADER, blank, ROOT, blank, blank, D1, row("X1", level="?")])
    assert result.created == 2
    assert where(result) == [(7, "level")]


def test_short_rows_take_empty_cells(journal: Journal) -> None:
    result = journal.import_table([HEADER, ["TH", "Tỉnh", "province"], ["D1", "Huyện", "district", "TH"]])
    assert result.errors == []
    point = journal.state.points["D1"]
    assert (point.parent, point.chair, point.phone, point.expected) == ("TH", "", "", 0)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("", 0), ("0", 0), ("50", 50), (" 50 ", 50), ("1 000", 1000), (50, 50), (50.0, 50), (0, 0),
     ("1000000", 1_000_000), (None, 0)],
)
def test_expected_cells(journal: Journal, cell: Any, value: int) -> None:
    result = journal.import_table([HEADER, ["P", "Điểm", "other", "", "", "", cell]])
    assert result.errors == []
    assert journal.state.points["P"].expected == value


@pytest.mark.parametrize(
    ("cell", "level"),
    [("commune", "commune"), ("Commune", "commune"), (" VILLAGE ", "village"), ("market", "market"),
     ("enterprise", "enterprise"), ("other", "other")],
)
def test_level_cells(journal: Journal, cell: str, level: str) -> None:
    journal.import_table([HEADER, ["P", "Điểm", cell, "", "", "", ""]])
    assert journal.state.points["P"].level == level


def test_number_cells_for_codes_and_phones_become_text(journal: Journal) -> None:
    result = journal.import_table([HEADER, [101, "Điểm 101", "other", None, "Chủ tịch", 912345678, 5]])
    assert result.errors == []
    point = journal.state.points["101"]
    assert (point.phone, point.parent) == ("912345678", None)


# -- the header -----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["code", "name", "level"])
def test_a_header_missing_a_required_column_is_import_invalid(journal: Journal, missing: str) -> None:
    header = [c for c in HEADER if c != missing]
    with pytest.raises(BadRequest) as info:
        decide(journal.state, [header, ["x"] * len(header)])
    assert info.value.code == "import_invalid"
    assert info.value.details["missing"] == [missing]
    assert missing in info.value.message


@pytest.mark.parametrize(
    "table",
    [
        pytest.param([], id="empty-file"),
        pytest.param([["code", "name", "level", "code"]], id="duplicate-column"),
        pytest.param([["Code", "Name", "LEVEL", " code "]], id="duplicate-column-spelled-differently"),
        pytest.param([["a", "b", "c"], ["1", "2", "3"]], id="no-known-column"),
        pytest.param([[]], id="empty-header"),
    ],
)
def test_bad_files_are_import_invalid(journal: Journal, table: list[list[Any]]) -> None:
    with pytest.raises(BadRequest) as info:
        decide(journal.state, table)
    assert info.value.code == "import_invalid"


def test_too_many_rows_is_import_invalid(journal: Journal) -> None:
    table = [HEADER, *([ROOT] * (MAX_ROWS + 1))]
    with pytest.raises(BadRequest) as info:
        decide(journal.state, table)
    assert info.value.code == "import_invalid"


def test_header_only_imports_nothing(journal: Journal) -> None:
    result = journal.import_table([HEADER])
    assert result.summary() == {"created": 0, "updated": 0, "errors": []}


def _permuted(order: tuple[int, ...]) -> list[list[Any]]:
    return [[line[i] for i in order] for line in TH_TABLE]


@pytest.mark.parametrize(
    "order",
    [tuple(range(7)), (6, 5, 4, 3, 2, 1, 0), (2, 0, 1, 6, 3, 5, 4), (3, 1, 0, 2, 4, 6, 5)],
)
def test_header_in_any_order(order: tuple[int, ...]) -> None:
    baseline = Journal()
    baseline.import_table(TH_TABLE)
    other = Journal()
    result = other.import_table(_permuted(order))
    assert result.errors == []
    assert {c: _fields(p) for c, p in other.state.points.items()} == {
        c: _fields(p) for c, p in baseline.state.points.items()
    }


def _fields(point: Any) -> tuple[Any, ...]:
    return tuple(getattr(point, n) for n in pts.POINT_FIELDS if n not in ("lat", "lon"))


@pytest.mark.parametrize(
    "first",
    ["\ufeffcode", "\ufeff code", "\ufeffCODE", " Code ", "CODE"],
)
def test_header_spelling_and_bom(journal: Journal, first: str) -> None:
    result = journal.import_table([[first, *HEADER[1:]], ROOT])
    assert result.errors == []
    assert "TH" in journal.state.points


def test_unknown_columns_are_ignored(journal: Journal) -> None:
    result = journal.import_table([["stt", *HEADER, "ghi chú"], ["1", *ROOT, "bỏ qua"]])
    assert result.errors == []
    assert journal.state.points["TH"].expected == 200


def test_header_map() -> None:
    assert header_map(["\ufeffCode", "x", "Name", "level"]) == {0: "code", 2: "name", 3: "level"}


def test_rows_of_a_sheet_without_optional_columns_keep_stored_values(th: Journal) -> None:
    result = th.import_table([["code", "name", "level"], ["C1", "Xã Dân Lực", "commune"]])
    assert result.facts == []
    point = th.state.points["C1"]
    assert (point.parent, point.chair, point.phone, point.expected) == ("D1", "Nguyễn Văn C", "0920000001", 50)


# -- text ------------------------------------------------------------------------------


def test_decomposed_text_is_stored_nfc(journal: Journal) -> None:
    name = unicodedata.normalize("NFD", "Huyện Hoằng Hóa")
    chair = unicodedata.normalize("NFD", "Lê Thị Hồng")
    assert name != "Huyện Hoằng Hóa"
    journal.import_table([HEADER, ["HH", name, "district", "", chair, "", ""]])
    point = journal.state.points["HH"]
    assert point.name == "Huyện Hoằng Hóa"
    assert point.chair == "Lê Thị Hồng"
    assert unicodedata.is_normalized("NFC", point.name)
    assert {p.code for p in journal.state.points.values() if pts.matches(journal.state, p, q="hoang hoa")} == {"HH"}


@pytest.mark.parametrize(
    ("cells", "stored"),
    [
        (["  D1 ", " Huyện  Triệu Sơn ", " district ", " TH ", " Lê Văn A ", " 0910000001 ", " 100 "],
         ("D1", "Huyện Triệu Sơn", "district", "TH", "Lê Văn A", "0910000001", 100)),
        (["D1", "Huyện\tTriệu\nSơn", "district", "TH", "", "", ""],
         ("D1", "Huyện Triệu Sơn", "district", "TH", "", "", 0)),
    ],
)
def test_cells_are_trimmed(journal: Journal, cells: list[Any], stored: tuple[Any, ...]) -> None:
    result = journal.import_table([HEADER, ROOT, cells])
    assert result.errors == []
    assert _fields(journal.state.points["D1"]) == stored


# -- re-import ---------------------------------------------------------------------------


def test_reimporting_the_same_table_changes_nothing(th: Journal) -> None:
    tokens = {c: p.token for c, p in th.state.points.items()}
    seq = th.state.seq
    result = th.import_table(TH_TABLE)
    assert result.summary() == {"created": 0, "updated": 0, "errors": []}
    assert result.facts == []
    assert th.state.seq == seq
    assert {c: p.token for c, p in th.state.points.items()} == tokens


def test_reimporting_the_same_text_in_another_form_changes_nothing(th: Journal) -> None:
    def dirty(cell: Any) -> Any:
        return f"  {unicodedata.normalize('NFD', cell)} " if isinstance(cell, str) else cell

    table = [HEADER, *[[dirty(c) for c in line] for line in reversed(TH_ROWS)]]
    result = th.import_table(table)
    assert result.summary() == {"created": 0, "updated": 0, "errors": []}


@pytest.mark.parametrize(
    ("code", "column", "value", "check"),
    [
        ("C1", "phone", "0999999999", ("phone", "0999999999")),
        ("C1", "expected", "55", ("expected", 55)),
        ("V1", "name", "Thôn Yên Thịnh Mới", ("name", "Thôn Yên Thịnh Mới")),
        ("C2", "parent", "D2", ("parent", "D2")),
        ("SGD", "level", "other", ("level", "other")),
        ("LS", "chair", "", ("chair", "")),
    ],
)
def test_changing_one_cell_yields_one_update(th: Journal, code: str, column: str, value: str,
                                             check: tuple[str, Any]) -> None:
    token = th.state.points[code].token
    table = [list(line) for line in TH_TABLE]
    index = HEADER.index(column)
    for line in table[1:]:
        if line[0] == code:
            line[index] = value
    result = th.import_table(table)
    assert result.summary() == {"created": 0, "updated": 1, "errors": []}
    [fact] = result.facts
    assert fact.code == code
    assert fact.token == token  # an update keeps the point's token
    assert getattr(th.state.points[code], check[0]) == check[1]


def test_a_new_row_in_a_reimport_is_created_under_an_existing_parent(th: Journal) -> None:
    result = th.import_table([*TH_TABLE, row("C9", name="Xã Mới", parent="D2")])
    assert result.summary() == {"created": 1, "updated": 0, "errors": []}
    assert th.state.live.district_of["C9"] == "D2"


def test_a_row_may_name_a_parent_stored_before(th: Journal) -> None:
    result = th.import_table([HEADER, row("V2", level="village", parent="C3")])
    assert result.created == 1
    assert th.state.live.district_of["V2"] == "D2"


def test_a_reimport_cannot_close_a_loop_with_stored_points(th: Journal) -> None:
    result = th.import_table([HEADER, ["D1", "Huyện Triệu Sơn", "district", "V1", "", "", "100"]])
    assert where(result) == [(2, "parent")]
    assert "loop" in result.errors[0]["message"]
    assert th.state.points["D1"].parent == "TH"


def test_a_failing_parent_row_falls_back_to_the_stored_parent(th: Journal) -> None:
    """The parent's row is broken but the parent is already a point: the child is fine."""
    result = th.import_table([HEADER, ["D1", "", "district", "TH", "", "", ""], row("C9", parent="D1")])
    assert where(result) == [(2, "name")]
    assert result.created == 1
    assert th.state.live.district_of["C9"] == "D1"


# -- order ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_children_before_parents_still_import(seed: int) -> None:
    rows = list(TH_ROWS)
    if seed == 0:
        rows.reverse()
    else:
        perms = itertools.islice(itertools.permutations(rows), seed * 997, None)
        rows = list(next(perms))
    journal = Journal()
    result = journal.import_table([HEADER, *rows])
    assert result.errors == []
    assert result.created == len(TH_ROWS)
    seen: set[str] = set()
    for fact in result.facts:  # parents come out first
        assert fact.parent is None or fact.parent in seen, (fact.code, fact.parent, seen)
        seen.add(fact.code)
    for code, (_, district, _) in TH_TREE.items():
        assert journal.state.live.district_of[code] == district
    incremental = journal.state.live.totals.to_dict(NOW, journal.state.district_name)
    journal.state.rebuild()
    assert journal.state.live.totals.to_dict(NOW, journal.state.district_name) == incremental


def test_errors_are_sorted_by_row(journal: Journal) -> None:
    result = journal.import_table([HEADER, row("A", parent="ZZ"), row("B", level="?"), row("C", parent="YY")])
    assert [e["row"] for e in result.errors] == [2, 3, 4]


def test_import_is_pure_until_folded(th: Journal) -> None:
    before = dict(th.state.points)
    result = decide(th.state, [HEADER, row("C9", parent="D1")])
    assert len(result.facts) == 1
    assert th.state.points == before


def test_tokens_are_made_only_for_new_points(th: Journal) -> None:
    calls: list[str] = []

    def make() -> str:
        calls.append("x")
        return f"new-{len(calls)}"

    table = [list(line) for line in TH_TABLE] + [row("C9", parent="D1"), row("C8", parent="D2")]
    table[4][6] = "99"  # C1 changes
    result = decide_import(th.state, table, NOW, make, ADMIN)
    assert (result.created, result.updated) == (2, 1)
    assert len(calls) == 2


# Regression: "²".isdigit() is true but int("²") fails; it used to crash the import.
@pytest.mark.parametrize("cell", ["²", "5²", "¹⁰", "５０"])  # and fullwidth digits
def test_superscript_digits_are_a_row_error_not_a_crash(journal: Journal, cell: str) -> None:
    result = journal.import_table([HEADER, ROOT, ["P", "Điểm", "other", "", "", "", cell]])
    assert where(result) == [(3, "expected")]
    assert result.created == 1


# -- coded errors, in Vietnamese and English -----------------------------------------

CODES = {
    "unknown level": ("unknown_level", "Cấp “hamlet” không hợp lệ"),
    "empty level": ("required", "Thiếu cấp"),
    "expected abc": ("not_whole_number", "Số người dự kiến phải là số nguyên"),
    "missing parent": ("parent_unknown", "Đơn vị cấp trên “D9” không có"),
    "duplicate code": ("duplicate_code", "Mã “X1” bị trùng, đã có ở dòng 4"),
    "missing name": ("required", "Thiếu tên"),
    "bad code": ("bad_code", "Mã tối đa 64 ký tự"),
    "parent loop": ("parent_loop", "Vòng lặp cấp trên"),
    "child of a failed row": ("parent_row_invalid", "Đơn vị cấp trên “D5” (dòng 3) có lỗi"),
}


@pytest.mark.parametrize("case", list(CODES))
def test_row_errors_are_coded_and_in_vietnamese(journal: Journal, case: str) -> None:
    rows, errors, _, _ = DIRTY[case]
    code, vi = CODES[case]
    result = journal.import_table([HEADER, *rows])
    last = next(e for e in result.errors if e["row"] == errors[-1][0] and e["column"] == errors[-1][1])
    assert last["code"] == code
    assert last["message_vi"].startswith(vi), last
    assert last["message"] != last["message_vi"]  # English stays in `message` (the contract's field)


# -- deep trees never recurse ------------------------------------------------------------


def chain(depth: int, top_parent: str = "", top_level: str = "province") -> list[list[Any]]:
    """N0 (under ``top_parent``) <- N1 <- ... <- N<depth>, each the parent of the next."""
    return [row("N0", level=top_level, parent=top_parent)] + [
        row(f"N{i}", level="other", parent=f"N{i - 1}") for i in range(1, depth + 1)]


@pytest.mark.parametrize("order", ["parents first", "children first"])
def test_a_2000_deep_chain_imports(journal: Journal, order: str) -> None:
    rows = chain(2000)
    if order == "children first":
        rows.reverse()  # placing parents before children used to recurse 2,000 deep
    result = journal.import_table([HEADER, *rows])
    assert result.errors == []
    assert result.created == 2001
    assert journal.state.points["N2000"].parent == "N1999"
    assert journal.state.live.totals.to_dict(NOW, str)["points"] == 2001


def test_a_2000_deep_chain_under_a_broken_row_fails_row_by_row(journal: Journal) -> None:
    rows = chain(2000, top_level="hamlet")[::-1]
    result = journal.import_table([HEADER, *rows])
    assert result.created == 0 and journal.state.points == {}
    by_row = {e["row"]: e for e in result.errors}
    assert len(result.errors) == 2001
    assert by_row[2002]["code"] == "unknown_level"  # N0, last in the file
    assert by_row[2]["code"] == "parent_row_invalid"  # N2000, first in the file
    assert by_row[2]["params"] == {"parent": "N1999", "parent_row": 3}


def test_a_2000_deep_loop_is_a_row_error(journal: Journal) -> None:
    rows = chain(2000, top_parent="N2000", top_level="other")
    result = journal.import_table([HEADER, ROOT, *rows, row("X", parent="N5")])
    assert result.created == 1  # only ROOT
    assert len(result.errors) == 2002
    assert {e["code"] for e in result.errors} == {"parent_loop"}


def test_a_49000_deep_chain_folds_in_linear_time(journal: Journal) -> None:
    """Each new point takes its district from its parent (no walk to the root),
    and a rebuild resolves each point once: this import and the rebuild take
    about a second; walking up per point made them minutes (over the timeout)."""
    rows = chain(48_999, top_level="other")
    rows.insert(25_000, row("D", level="district", parent="N24999"))
    rows[25_001][3] = "D"  # N25000 hangs under the district
    result = journal.import_table([HEADER, *rows])
    assert result.errors == [] and result.created == 49_001
    district_of = journal.state.live.district_of
    assert district_of["N48999"] == district_of["N25000"] == district_of["D"] == "D"
    assert district_of["N24999"] is None and district_of["N0"] is None
    before = dict(district_of)
    journal.state.rebuild()  # what a restore or a change of the tree's shape does
    assert journal.state.live.district_of == before
    for code in ("N0", "N24999", "D", "N25000", "N48999"):
        assert journal.state.find_district(code) == before[code]


# -- optional coordinates ----------------------------------------------------------------


def test_lat_lon_columns_import_and_bad_ones_are_row_errors(journal: Journal) -> None:
    """Catches coordinates ignored by the import, or an out-of-range one stored
    instead of failing its row with the coded error."""
    header = [*HEADER, "lat", "lon"]
    result = journal.import_table([header, [*ROOT, "19.807", "105.776"], [*D1, "", ""],
                                   [*row("X1"), "91", "105"], [*row("X2"), "19,5", "east"],
                                   [*row("X3"), "-12.5", "-180"]])
    assert [(e["row"], e["column"], e["code"]) for e in result.errors] == [
        (4, "lat", "bad_coordinate"), (5, "lon", "bad_coordinate")]
    assert result.errors[0]["params"] == {"value": "91", "limit": 90}
    assert result.errors[0]["message_vi"].startswith("Vĩ độ phải là số từ -90 đến 90")
    points = journal.state.points
    assert (points["TH"].lat, points["TH"].lon) == (19.807, 105.776)
    assert (points["D1"].lat, points["D1"].lon) == (None, None)
    assert (points["X3"].lat, points["X3"].lon) == (-12.5, -180.0)
    assert "X1" not in points and "X2" not in points
    again = journal.import_table([header, [*ROOT, "19.807", "105.776"]])
    assert (again.created, again.updated, again.errors) == (0, 0, [])  # the same row: no fact
