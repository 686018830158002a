"""The official list of administrative units (1 July 2025): counts, known GSO
codes and names, province matching, and the import sheet made from it (fed to
the importer)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from importlib import resources

import pytest

from server.core import admin_units as au
from server.core.errors import BadRequest
from server.core.importing import decide_import

from .conftest import ADMIN, NOW, Journal, token_maker


@pytest.fixture(scope="module")
def data() -> au.AdminUnits:
    return au.load()


# -- the list --------------------------------------------------------------------


def test_counts_of_the_reform(data: au.AdminUnits) -> None:
    assert len(data.provinces) == 34
    assert len(data.units) == 3321
    assert Counter(u.type for u in data.units) == {"xã": 2621, "phường": 687, "đặc khu": 13}
    assert Counter(p.type for p in data.provinces) == {"tỉnh": 28, "thành phố": 6}
    assert {u.province for u in data.units} == {p.code for p in data.provinces}


def test_thanh_hoa_has_166_units(data: au.AdminUnits) -> None:
    units = data.units_of("38")
    assert len(units) == 166
    assert Counter(u.type for u in units) == {"xã": 147, "phường": 19}


def test_codes_are_unique_and_of_the_official_shape(data: au.AdminUnits) -> None:
    codes = [p.code for p in data.provinces] + [u.code for u in data.units]
    assert len(set(codes)) == len(codes)
    assert all(len(p.code) == 2 and p.code.isdigit() for p in data.provinces)
    assert all(len(u.code) == 5 and u.code.isdigit() for u in data.units)
    assert all(u.name.startswith(u.type.capitalize() + " ") for u in data.units)


@pytest.mark.parametrize(("code", "name"), [
    ("01", "Thành phố Hà Nội"),
    ("38", "Tỉnh Thanh Hóa"),
    ("46", "Thành phố Huế"),
    ("79", "Thành phố Hồ Chí Minh"),
    ("96", "Tỉnh Cà Mau"),
])
def test_known_province_codes(data: au.AdminUnits, code: str, name: str) -> None:
    assert data.province(code).name == name


@pytest.mark.parametrize(("code", "name", "kind", "province"), [
    ("00004", "Phường Ba Đình", "phường", "01"),
    ("00070", "Phường Hoàn Kiếm", "phường", "01"),
    # GSO's code; the draft list (and a package's 2025 releases) had 00073.
    ("00082", "Phường Cửa Nam", "phường", "01"),
    ("00226", "Phường Văn Miếu - Quốc Tử Giám", "phường", "01"),
    ("14797", "Phường Hạc Thành", "phường", "38"),
    ("15865", "Xã Hoằng Hóa", "xã", "38"),
    ("26732", "Đặc khu Côn Đảo", "đặc khu", "79"),
    ("31078", "Đặc khu Phú Quốc", "đặc khu", "91"),
    # The source package's type column says phường; the name (and GSO) say xã.
    ("31299", "Xã Phong Điền", "xã", "92"),
])
def test_known_unit_codes(data: au.AdminUnits, code: str, name: str, kind: str, province: str) -> None:
    unit = next(u for u in data.units if u.code == code)
    assert (unit.name, unit.type, unit.province) == (name, kind, province)


def test_the_file_says_where_it_comes_from() -> None:
    text = resources.files("server.core").joinpath("data", au.DATA_FILE).read_text(encoding="utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for needle in ("vietnamadminunits 1.0.4", "MIT", "GSO", "Built: 20", "Copyright (c) 2025 Tran Ngoc Minh Hieu"):
        assert needle in header
    assert "lat" not in text.splitlines()[header.count("\n") + 1]  # no coordinates ship


# -- matching a province -------------------------------------------------------------


@pytest.mark.parametrize("name", ["Thanh Hóa", "thanh hoa", "THANH HÓA", "Tỉnh Thanh Hóa", "tinh thanh hoa",
                                  "  Thanh   Hoá ", "ThanhHoa", "thanh h"])
def test_thanh_hoa_by_any_spelling(data: au.AdminUnits, name: str) -> None:
    assert au.match_province(name, data).code == "38"


@pytest.mark.parametrize(("name", "code"), [
    ("Hồ Chí Minh", "79"), ("Thành phố Hồ Chí Minh", "79"), ("TP. Hồ Chí Minh", "79"), ("tp hcm", "79"),
    ("TP.HCM", "79"), ("Hà Nội", "01"), ("Thủ đô Hà Nội", "01"), ("da nang", "48"), ("Đắk Lắk", "66"),
    ("dak lak", "66"), ("Huế", "46"), ("Bắc Ninh", "24"),
])
def test_other_provinces(data: au.AdminUnits, name: str, code: str) -> None:
    assert au.match_province(name, data).code == code


def test_folded_names_are_distinct(data: au.AdminUnits) -> None:
    """So an exact match is never ambiguous."""
    keys = [au._key(p.short_name) for p in data.provinces]
    assert len(set(keys)) == 34


def test_several_provinces_are_ambiguous_and_listed(data: au.AdminUnits) -> None:
    with pytest.raises(BadRequest) as err:
        au.match_province("Quảng", data)
    assert err.value.code == "province_ambiguous"
    assert sorted(err.value.details["candidates"]) == ["Quảng Ngãi", "Quảng Ninh", "Quảng Trị"]
    assert "Quảng Ninh" in err.value.message


@pytest.mark.parametrize("name", ["Thanh Ha", "Hà Tây", "Thái Bình", "xyz", "", "Tỉnh"])
def test_no_province_is_unknown(data: au.AdminUnits, name: str) -> None:
    """Hà Tây and Thái Bình were provinces; Thái Bình merged into Hưng Yên in 2025."""
    with pytest.raises(BadRequest) as err:
        au.match_province(name, data)
    assert err.value.code == "province_unknown"


def test_unknown_lists_the_closest_names(data: au.AdminUnits) -> None:
    with pytest.raises(BadRequest) as err:
        au.match_province("Thanh Ha", data)
    assert "Thanh Hóa" in err.value.details["candidates"]
    assert "Thanh Hóa" in err.value.message


# -- the import sheet -----------------------------------------------------------------


def table_of(rows: list[dict[str, str]]) -> list[list[str]]:
    return [list(au.REGISTRY_COLUMNS), *([r[c] for c in au.REGISTRY_COLUMNS] for r in rows)]


def test_registry_of_thanh_hoa(data: au.AdminUnits) -> None:
    rows = au.registry_rows("38", data)
    assert rows[0] == {"code": "38", "name": "Tỉnh Thanh Hóa", "level": "province", "parent": "",
                       "chair": "", "phone": "", "expected": ""}
    assert len(rows) == 167
    assert all(r["level"] == "commune" and r["parent"] == "38" for r in rows[1:])
    assert {r["code"] for r in rows[1:]} == {u.code for u in data.units_of("38")}
    assert all(r["chair"] == r["phone"] == r["expected"] == "" for r in rows)


def test_registry_of_the_country(data: au.AdminUnits) -> None:
    rows = au.registry_rows(None, data)
    assert len(rows) == 1 + 34 + 3321
    assert rows[0]["code"] == "VN" and rows[0]["level"] == "other" and rows[0]["parent"] == ""
    assert Counter(r["level"] for r in rows) == {"other": 1, "province": 34, "commune": 3321}
    assert {r["parent"] for r in rows if r["level"] == "province"} == {"VN"}


@pytest.mark.parametrize("province", ["38", None])
def test_the_importer_takes_the_sheet(data: au.AdminUnits, province: str | None) -> None:
    journal = Journal()
    rows = au.registry_rows(province, data)
    result = journal.import_table(table_of(rows))
    assert result.errors == []
    assert result.created == len(rows)
    assert journal.state.points["14797"].name == "Phường Hạc Thành"
    assert journal.state.points["14797"].parent == "38"
    # Importing it again changes nothing: the codes are stable.
    again = decide_import(journal.state, table_of(rows), NOW, token_maker("again"), ADMIN)
    assert again.facts == [] and again.errors == []


def test_the_sheet_survives_csv(data: au.AdminUnits) -> None:
    """Leading zeros and diacritics go through a CSV round trip."""
    buf = io.StringIO()
    csv.writer(buf).writerows(table_of(au.registry_rows("01", data)))
    back = list(csv.reader(io.StringIO(buf.getvalue())))
    assert ["00004", "Phường Ba Đình", "commune", "01", "", "", ""] in back
