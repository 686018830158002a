"""Text rules: NFC storage (clean) and diacritic-insensitive search (fold)."""

from __future__ import annotations

import unicodedata

import pytest

from server.core.text import clean, fold


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("abc", "abc"),
        ("  Huyện Triệu Sơn  ", "Huyện Triệu Sơn"),
        ("Huyện\tTriệu \n Sơn", "Huyện Triệu Sơn"),
        ("Xã  Dân   Lực", "Xã Dân Lực"),
        (nfd("Hoằng Hóa"), "Hoằng Hóa"),
        (nfd("  Thành phố   Thanh Hóa "), "Thành phố Thanh Hóa"),
        (0, "0"),
        (50, "50"),
        (1.5, "1.5"),
        ("\u00a0Đông Sơn\u00a0", "Đông Sơn"),  # no-break spaces from a spreadsheet
    ],
)
def test_clean(raw: object, expected: str) -> None:
    out = clean(raw)
    assert out == expected
    assert unicodedata.is_normalized("NFC", out)


def test_clean_turns_decomposed_into_composed_code_points() -> None:
    decomposed = nfd("Hoằng Hóa")
    assert decomposed != "Hoằng Hóa"
    assert len(clean(decomposed)) == len("Hoằng Hóa")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Huyện Triệu Sơn", "huyen trieu son"),
        ("Đông Sơn", "dong son"),
        ("đông", "dong"),
        ("ĐÔNG SƠN", "dong son"),
        ("Hoằng Hóa", "hoang hoa"),
        (nfd("Hoằng Hóa"), "hoang hoa"),
        ("Thị xã Nghi Sơn", "thi xa nghi son"),
        ("Mường Lát", "muong lat"),
        ("Quảng Xương", "quang xuong"),
        ("Trường THPT Chuyên Lam Sơn", "truong thpt chuyen lam son"),
        ("  Xã   Dân  Lực ", "xa dan luc"),
        ("C1 Xã Hợp Lý", "c1 xa hop ly"),
        ("", ""),
        ("ascii only", "ascii only"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize("text", ["Huyện Triệu Sơn", "ĐÔNG sơn", nfd("Hoằng Hóa"), "Bỉm Sơn"])
def test_fold_is_idempotent_and_ascii_for_vietnamese(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert once.isascii()
