"""Plausible, deterministic people for the demo registries: chairs' names and
mobile numbers (every draw from a ``random.Random`` the caller seeds).

Pure: no I/O, no clock, no global random state.
"""

from __future__ import annotations

import random
import unicodedata

__all__ = ["nfc", "person", "phone"]

_SURNAMES = ("Nguyễn Nguyễn Nguyễn Nguyễn Lê Lê Lê Trần Trần Phạm Phạm Trịnh Trịnh Hoàng Vũ "
             "Đỗ Bùi Đặng Ngô Mai Lương Cao Hà Lại Đào Tống Hoàng Đinh").split()
_HIGHLAND_SURNAMES = "Lò Hà Lương Phạm Bùi Cầm Vi Lữ Ngân Lường Quách".split()
_MALE_MIDDLE = "Văn Văn Văn Đình Xuân Minh Hữu Quang Ngọc Đức Công Bá Trọng".split()
_FEMALE_MIDDLE = "Thị Thị Thị Thu Ngọc Thanh Minh Hồng".split()
_MALE_GIVEN = ("An Bình Cường Dũng Đức Hải Hùng Huy Khánh Lâm Long Mạnh Nam Phong Quân Sơn "
               "Thắng Thành Toàn Trung Tuấn Việt Hiếu Kiên Tùng Thọ Tâm Quyết").split()
_FEMALE_GIVEN = ("Hoa Hương Lan Linh Mai Ngân Nhung Phương Thảo Trang Vân Yến Hằng Hạnh Hà "
                 "Huyền Loan Oanh Dung").split()
# Mobile prefixes: Viettel, VinaPhone, MobiFone.
_MOBILE = ("096 097 098 086 032 033 034 035 036 037 038 039 091 094 088 081 082 083 084 085 "
           "090 093 089 070 076 077 078 079").split()


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def person(rng: random.Random, highland: bool) -> str:
    """A full name ("Nguyễn Văn Hùng"); highland: Thái/Mường surnames more often."""
    surname = rng.choice(_HIGHLAND_SURNAMES if highland and rng.random() < 0.7 else _SURNAMES)
    if rng.random() < 0.35:
        return f"{surname} {rng.choice(_FEMALE_MIDDLE)} {rng.choice(_FEMALE_GIVEN)}"
    return f"{surname} {rng.choice(_MALE_MIDDLE)} {rng.choice(_MALE_GIVEN)}"


def phone(rng: random.Random, used: set[str]) -> str:
    """A mobile number not in ``used`` (added to it), written "0912 345 678"."""
    while True:
        digits = rng.choice(_MOBILE) + f"{rng.randrange(10_000_000):07d}"
        text = f"{digits[:4]} {digits[4:7]} {digits[7:]}"
        if text not in used:
            used.add(text)
            return text


def lower_first(text: str) -> str:
    """"Xã Hoằng Hóa" → "xã Hoằng Hóa": a unit's name inside a longer one."""
    return text[:1].lower() + text[1:]


def rebalance(rows: list[dict[str, object]], low: int, high: int,
              ranges: dict[str, tuple[int, int]]) -> None:
    """Nudge commune and village figures by one until the total is within [low, high]."""
    total = sum(int(str(r["expected"])) for r in rows)
    movable = [r for r in rows if r["level"] in ("commune", "village")]
    while not low <= total <= high:
        step = -1 if total > high else 1
        moved = False
        for row in movable:
            if low <= total <= high:
                break
            lo, hi = ranges[str(row["level"])]
            value = int(str(row["expected"])) + step
            if lo <= value <= hi:
                row["expected"] = value
                total += step
                moved = True
        if not moved:
            break
