"""The 2025 reference registry (Thanh Hóa, 8 May 2025): shape, tree, text and the seed agenda."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from server.demo.data_2025 import (
    CSV_HEADER,
    LEVELS,
    NGHI_SON,
    PROVINCE,
    SEED_AGENDA,
    generate_points,
    to_csv_rows,
)

KEYS = {"code", "name", "level", "parent", "chair", "phone", "expected"}

DISTRICT_NAMES = {
    "Thành phố Thanh Hóa", "Thành phố Sầm Sơn", "Thị xã Bỉm Sơn", "Thị xã Nghi Sơn",
    "Huyện Triệu Sơn", "Huyện Đông Sơn", "Huyện Thọ Xuân", "Huyện Quảng Xương",
    "Huyện Hoằng Hóa", "Huyện Hậu Lộc", "Huyện Nga Sơn", "Huyện Hà Trung", "Huyện Vĩnh Lộc",
    "Huyện Yên Định", "Huyện Thiệu Hóa", "Huyện Nông Cống", "Huyện Như Thanh",
    "Huyện Như Xuân", "Huyện Thường Xuân", "Huyện Ngọc Lặc", "Huyện Cẩm Thủy",
    "Huyện Thạch Thành", "Huyện Lang Chánh", "Huyện Bá Thước", "Huyện Quan Hóa",
    "Huyện Quan Sơn", "Huyện Mường Lát",
}


@pytest.fixture(scope="module")
def points() -> list[dict[str, object]]:
    return generate_points()


def test_deterministic_and_tree_independent_of_seed() -> None:
    assert generate_points(7) == generate_points(7)
    a, b = generate_points(1), generate_points(2)
    tree = ("code", "name", "level", "parent")
    assert [[p[k] for k in tree] for p in a] == [[p[k] for k in tree] for p in b]
    assert [p["chair"] for p in a] != [p["chair"] for p in b]


def test_size_and_levels(points: list[dict[str, object]]) -> None:
    assert len(points) == 1018
    assert all(set(p) == KEYS for p in points)
    levels = Counter(p["level"] for p in points)
    assert set(levels) <= set(LEVELS)
    assert levels["province"] == 1
    assert levels["district"] == 27
    assert 30 <= levels["department"] <= 40
    assert levels["commune"] > 500
    for level in ("village", "school", "market", "enterprise", "other"):
        assert levels[level] > 0, level


def test_province_and_districts(points: list[dict[str, object]]) -> None:
    province = [p for p in points if p["level"] == "province"]
    assert province[0]["code"] == PROVINCE and province[0]["parent"] is None
    assert points[0] is province[0]
    districts = [p for p in points if p["level"] == "district"]
    assert {p["name"] for p in districts} == DISTRICT_NAMES
    assert all(p["parent"] == PROVINCE for p in districts)
    assert all(p["parent"] == PROVINCE for p in points if p["level"] == "department")


def test_codes_unique_and_parents_first(points: list[dict[str, object]]) -> None:
    codes = [p["code"] for p in points]
    assert len(set(codes)) == len(codes)
    seen: set[object] = set()
    for p in points:
        code = str(p["code"])
        assert code and len(code) <= 64 and code == code.strip()
        assert not set("/?#%") & set(code)
        assert p["parent"] is None or p["parent"] in seen, p
        seen.add(code)
    assert sum(p["parent"] is None for p in points) == 1


def test_text_is_nfc(points: list[dict[str, object]]) -> None:
    for p in points:
        for key in ("name", "chair", "phone"):
            value = str(p[key])
            assert value and unicodedata.is_normalized("NFC", value), (key, value)
            assert value == " ".join(value.split())
    for item in SEED_AGENDA:
        for key in ("title", "speaker"):
            assert unicodedata.is_normalized("NFC", str(item[key]))


def test_people(points: list[dict[str, object]]) -> None:
    for p in points:
        assert len(str(p["chair"]).split()) >= 3
        assert re.fullmatch(r"0[3789]\d{2} \d{3} \d{3}", str(p["phone"])), p["phone"]


@pytest.mark.parametrize("seed", [2025, 0, 1, 42, 99999])
def test_expected(seed: int) -> None:
    rows = generate_points(seed)
    assert all(isinstance(p["expected"], int) and p["expected"] >= 0 for p in rows)
    assert 50_000 <= sum(int(str(p["expected"])) for p in rows) <= 56_000
    assert next(p for p in rows if p["code"] == PROVINCE)["expected"] == 300
    bounds = {"department": (20, 60), "district": (80, 200), "commune": (30, 80),
              "village": (15, 40), "school": (30, 120), "market": (10, 30),
              "enterprise": (20, 80)}
    for p in rows:
        if p["level"] in bounds:
            low, high = bounds[str(p["level"])]
            assert low <= int(str(p["expected"])) <= high, p


def test_nghi_son(points: list[dict[str, object]]) -> None:
    nghi_son = next(p for p in points if p["code"] == NGHI_SON)
    assert nghi_son["level"] == "district"
    assert nghi_son["name"] == "Thị xã Nghi Sơn"


def test_seed_agenda() -> None:
    assert len(SEED_AGENDA) == 7
    codes = {p["code"] for p in generate_points()}
    for item in SEED_AGENDA:
        assert set(item) == {"title", "speaker", "location", "planned_s"}
        assert item["location"] is None or item["location"] in codes
        assert isinstance(item["planned_s"], int) and item["planned_s"] > 0
    assert [i for i, item in enumerate(SEED_AGENDA) if item["location"] == NGHI_SON] == [3]
    assert "Bình dân học vụ số" in str(SEED_AGENDA[1]["title"])


def test_csv_rows(points: list[dict[str, object]]) -> None:
    rows = to_csv_rows(points)
    assert rows[0] == CSV_HEADER == ["code", "name", "level", "parent", "chair", "phone",
                                     "expected"]
    assert len(rows) == len(points) + 1
    assert all(isinstance(cell, str) for row in rows for cell in row)
    assert rows[1][3] == ""  # the province hall has no parent
    assert rows[2][3] == PROVINCE
    assert rows[1][6] == "300"
