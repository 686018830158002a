"""Today's demo registries (server/demo/data.py): Thanh Hóa after the July 2025
reform, and the whole country in one event."""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter

import pytest

from server.core import admin_units as au
from server.core.facts import LEVELS
from server.demo.data import (
    DEPARTMENTS,
    NGHI_SON_2026,
    PROVINCE_2026,
    SEED_AGENDA_2026,
    TARGET_POINTS,
    national,
    national_agenda,
    thanh_hoa_2026,
    to_csv_rows,
)
from tests.core.conftest import Journal

KEYS = {"code", "name", "level", "parent", "chair", "phone", "expected"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, object]]:
    return thanh_hoa_2026()


@pytest.fixture(scope="module")
def country() -> list[dict[str, object]]:
    return national()


def _tree_ok(points: list[dict[str, object]]) -> None:
    codes = [p["code"] for p in points]
    assert len(set(codes)) == len(codes), [c for c, n in Counter(codes).items() if n > 1][:5]
    seen: set[object] = set()
    for p in points:
        assert set(p) == KEYS
        assert p["level"] in LEVELS, p
        assert p["parent"] is None or p["parent"] in seen, p
        seen.add(p["code"])
    assert sum(p["parent"] is None for p in points) == 1


def test_the_hall_departments_and_the_166_communes(rows: list[dict[str, object]]) -> None:
    """Catches a registry that is not today's Thanh Hóa: a missing or extra
    commune, a district tier left over, departments of the wrong number."""
    levels = Counter(p["level"] for p in rows)
    assert levels["province"] == 1 and levels["department"] == 14 and levels["commune"] == 166
    assert "district" not in levels
    root = rows[0]
    assert root["code"] == PROVINCE_2026 == "38" and root["level"] == "province" and root["parent"] is None
    assert [p["name"] for p in rows if p["level"] == "department"] == [name for _, name in DEPARTMENTS]
    assert all(p["parent"] == "38" for p in rows if p["level"] in ("department", "commune"))


def test_the_communes_are_the_official_list(rows: list[dict[str, object]]) -> None:
    """Catches codes or names that drift from the official list (GSO codes)."""
    official = au.load().units_of("38")
    communes = [p for p in rows if p["level"] == "commune"]
    assert [(p["code"], p["name"]) for p in communes] == [(u.code, u.name) for u in official]
    kinds = Counter(str(p["name"]).split()[0] for p in communes)
    assert kinds == {"Xã": 147, "Phường": 19}


def test_about_a_thousand_points_below_the_communes(rows: list[dict[str, object]]) -> None:
    """Catches a registry of the wrong size, or communes left without points."""
    assert len(rows) == TARGET_POINTS == 1000
    _tree_ok(rows)
    levels = Counter(p["level"] for p in rows)
    for level in ("village", "school", "market", "enterprise"):
        assert levels[level] > 20, level
    communes = {p["code"]: p for p in rows if p["level"] == "commune"}
    children: dict[object, list[dict[str, object]]] = {}
    for p in rows:
        if p["parent"] in communes:
            children.setdefault(p["parent"], []).append(p)
    assert set(children) == set(communes)
    for code, kids in children.items():
        villages = [str(k["name"]) for k in kids if k["level"] == "village"]
        assert villages, code
        if str(communes[code]["name"]).startswith("Phường"):
            assert all(v.startswith(("Khu phố", "Tổ dân phố")) for v in villages), villages
        else:
            assert all(v.startswith(("Thôn", "Bản")) for v in villages), villages
    assert any(str(p["name"]).startswith("Bản ") for p in rows)  # the highland communes


def test_deterministic_and_tree_independent_of_seed() -> None:
    """Catches a registry that changes between runs, or a tree that depends on the seed."""
    assert thanh_hoa_2026(7) == thanh_hoa_2026(7)
    a, b = thanh_hoa_2026(1), thanh_hoa_2026(2)
    tree = ("code", "name", "level", "parent")
    assert [[p[k] for k in tree] for p in a] == [[p[k] for k in tree] for p in b]
    assert [p["chair"] for p in a] != [p["chair"] for p in b]


@pytest.mark.parametrize("seed", [2025, 0, 42])
def test_people_and_attendees(seed: int) -> None:
    """Catches implausible chairs, phones or attendee counts (the reference morning had ~52,000)."""
    points = thanh_hoa_2026(seed)
    for p in points:
        for key in ("name", "chair", "phone"):
            value = str(p[key])
            assert value and unicodedata.is_normalized("NFC", value) and value == " ".join(value.split())
        assert len(str(p["chair"]).split()) >= 3
        assert re.fullmatch(r"0[3789]\d{2} \d{3} \d{3}", str(p["phone"])), p["phone"]
    assert len({p["phone"] for p in points}) == len(points)
    assert 50_000 <= sum(int(str(p["expected"])) for p in points) <= 56_000
    assert points[0]["expected"] == 300


def test_seed_agendas_point_at_real_points(rows: list[dict[str, object]], country: list[dict[str, object]]) -> None:
    """Catches an agenda item placed at a code the registry does not have."""
    codes = {p["code"] for p in rows}
    assert NGHI_SON_2026 in codes
    assert next(p for p in rows if p["code"] == NGHI_SON_2026)["name"] == "Phường Nghi Sơn"
    for item in SEED_AGENDA_2026:
        assert item["location"] in codes
    national_codes = {p["code"] for p in country}
    for item in national_agenda():
        assert item["location"] in national_codes


def test_csv_rows(rows: list[dict[str, object]]) -> None:
    """Catches an import sheet that loses the official codes' form or the root's blank parent."""
    table = to_csv_rows(rows)
    assert table[0] == ["code", "name", "level", "parent", "chair", "phone", "expected"]
    assert table[1][:4] == ["38", "Hội trường Tỉnh ủy Thanh Hóa", "province", ""]


# -- the whole country --------------------------------------------------------------


def test_national_every_province_and_unit(country: list[dict[str, object]]) -> None:
    """Catches a national registry that misses a province or a unit, or hangs one under the wrong parent."""
    data = au.load()
    levels = Counter(p["level"] for p in country)
    assert levels["province"] == 34 and levels["commune"] == 3321
    assert country[0]["code"] == "VN" and country[0]["level"] == "other" and country[0]["parent"] is None
    provinces = [p for p in country if p["level"] == "province"]
    assert [(p["code"], p["parent"]) for p in provinces] == [(p.code, "VN") for p in data.provinces]
    units = {p["code"]: p for p in country if p["level"] == "commune"}
    assert {(u.code, u.name, u.province) for u in data.units} == {
        (str(p["code"]), p["name"], p["parent"]) for p in units.values()}
    under = Counter(p["parent"] for p in country if p["parent"] in units)
    assert set(under) == set(units) and set(under.values()) == {10}
    assert len(country) == 1 + 34 + 3321 * 11  # about 35,000
    _tree_ok(country)


def test_national_is_fast_deterministic_and_sized_by_per_unit() -> None:
    """Catches a slow or seed-unstable generator, and a per_unit that is not honoured or not checked."""
    started = time.perf_counter()
    rows = national(3)
    print(f"\nnational(): {len(rows)} rows in {time.perf_counter() - started:.2f} s")
    assert rows == national(3)
    assert len(national(per_unit=0)) == 1 + 34 + 3321
    assert len(national(per_unit=12)) == 1 + 34 + 3321 * 13
    with pytest.raises(ValueError):
        national(per_unit=-1)


def test_national_imports(country: list[dict[str, object]]) -> None:
    """Catches a national sheet the importer refuses (or half takes): every row
    becomes a point, with its parent."""
    journal = Journal()
    started = time.perf_counter()
    result = journal.import_table(to_csv_rows(country))
    decided = time.perf_counter() - started
    print(f"\ndecide_import + fold of {len(country)} rows: {decided:.2f} s")
    assert result.errors == []
    assert result.created == len(country)
    state = journal.state
    assert len(state.points) == len(country)
    assert state.points["14797"].parent == "38" and state.points["38"].parent == "VN"
