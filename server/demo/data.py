"""The demo registries of today (after the reform of 1 July 2025: no districts).

* :func:`thanh_hoa_2026` — what ``make run`` plays: Thanh Hóa's provincial
  hall, 14 provincial departments, the province's 166 communes and wards (147
  xã + 19 phường) from the official list (server/core/admin_units.py, with
  their official codes and names) and, below them, schools, villages
  (thôn/bản in a xã, khu phố/tổ dân phố in a phường), markets and
  enterprises: :data:`TARGET_POINTS` points, about 52,000 attendees. The event
  is grouped by commune.
* :func:`national` — the whole country in one event (about 35,000 points):
  a national root, the 34 provinces, the 3,321 units and ``per_unit`` points
  under each. The event is grouped by province.

The three-tier registry of 8 May 2025 (27 districts) is the reference
morning: server/demo/data_2025.py.

Pure: no I/O, no clock, no global random state. The tree (codes, names,
levels, parents) never depends on the seed; the seed drives the chairs,
phones and expected attendees.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from server.core.admin_units import NATION_CODE, NATION_NAME, Unit, load
from server.demo.data_2025 import CSV_HEADER, NGHI_SON, SEED_AGENDA, to_csv_rows
from server.demo.people import lower_first, nfc, person, phone, rebalance

__all__ = [
    "CSV_HEADER",
    "DEPARTMENTS",
    "NGHI_SON_2026",
    "PROVINCE_2026",
    "SEED_AGENDA_2026",
    "TARGET_POINTS",
    "national",
    "national_agenda",
    "thanh_hoa_2026",
    "to_csv_rows",
]

PROVINCE_2026 = "38"  # Thanh Hóa's official code
PROVINCE_HALL = "Hội trường Tỉnh ủy Thanh Hóa"
#: Phường Nghi Sơn (official code): the seed agenda holds a response speech there.
NGHI_SON_2026 = "16654"
TARGET_POINTS = 1000
EXPECTED_WINDOW = (52_000, 54_000)

EXPECTED_RANGES: dict[str, tuple[int, int]] = {
    "province": (300, 300),
    "department": (20, 60),
    "commune": (60, 160),  # a commune now gathers what a district hall did
    "village": (15, 40),
    "school": (30, 120),
    "market": (10, 30),
    "enterprise": (20, 80),
    "other": (20, 60),
    "national": (500, 500),
}

#: Illustrative: 14 of the provincial agencies a province may keep under
#: Decree 150/2025/NĐ-CP (at most 14 specialised agencies), with the names the
#: reorganisation of 2025 gave them. Not checked against Thanh Hóa's own
#: decision on its agencies.
DEPARTMENTS: list[tuple[str, str]] = [
    ("S-VPUB", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("S-NV", "Sở Nội vụ"),
    ("S-TC", "Sở Tài chính"),
    ("S-XD", "Sở Xây dựng"),
    ("S-NNMT", "Sở Nông nghiệp và Môi trường"),
    ("S-CT", "Sở Công Thương"),
    ("S-GDDT", "Sở Giáo dục và Đào tạo"),
    ("S-YT", "Sở Y tế"),
    ("S-VHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("S-KHCN", "Sở Khoa học và Công nghệ"),
    ("S-TP", "Sở Tư pháp"),
    ("S-DTTG", "Sở Dân tộc và Tôn giáo"),
    ("S-NGV", "Sở Ngoại vụ"),
    ("S-TTRA", "Thanh tra tỉnh"),
]

# Points directly under the provincial hall besides the departments.
PROVINCE_UNITS: list[tuple[str, str, str]] = [
    ("TR-LAMSON", "Trường THPT chuyên Lam Sơn", "school"),
    ("TR-HONGDUC", "Trường Đại học Hồng Đức", "school"),
    ("DN-DIENLUC", "Công ty Điện lực Thanh Hóa", "enterprise"),
    ("DN-VNPT", "Viễn thông Thanh Hóa (VNPT)", "enterprise"),
    ("DN-VIETTEL", "Viettel Thanh Hóa", "enterprise"),
    ("K-BVDK", "Bệnh viện Đa khoa tỉnh Thanh Hóa", "other"),
    ("K-HCC", "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa", "other"),
]

# The former highland districts (Mường Lát, Quan Hóa, Bá Thước, Quan Sơn,
# Lang Chánh; Thường Xuân; Như Xuân), by their units' official code ranges:
# their villages are "bản" and their chairs more often Thái or Mường.
_HIGHLAND = ((14845, 15058), (15607, 15661), (16174, 16225))
# Large enterprises of Thanh Hóa, under the unit they stand in (official code).
_BIG_ENTERPRISES: dict[str, list[tuple[str, str]]] = {
    "16654": [("DN-LHDNS", "Công ty TNHH Lọc hóa dầu Nghi Sơn")],
    "16645": [("DN-XMNS", "Công ty Xi măng Nghi Sơn")],
    "14812": [("DN-XMBS", "Công ty Cổ phần Xi măng Bỉm Sơn")],
    "15544": [("DN-MDLS", "Công ty Cổ phần Mía đường Lam Sơn")],
}
_SECTORS = ("May mặc", "Giày da", "Xây dựng", "Chế biến nông sản", "Vật liệu xây dựng",
            "Thủy sản", "Dược phẩm", "Cơ khí", "Vận tải", "Thương mại và Dịch vụ")
_THON = ("Đông, Tây, Nam, Bắc, Trung, Thượng, Hạ, Yên Thái, Phú Thọ, Đồng Tâm, Tân Lập, "
         "Quyết Thắng, Thống Nhất, Đoàn Kết, Hòa Bình, Đại Đồng, Hợp Thành, Cao Sơn, "
         "Tiến Thành, Phúc Lộc, Minh Châu, Xuân Phong").split(", ")
_BAN_1 = "Na Pù Co Chiềng Hua Sa Pá Nà Khằm Mường Lốc Sài Tà Poọng Hang Bo".split()
_BAN_2 = "Mèo Nhi Lượng Khà Ná Chung Bôn Cốc Xa Lầu Pọng Khạt Tong Lằn Mạ Ngàm".split()


@dataclass(frozen=True, slots=True)
class _Site:
    code: str
    name: str
    level: str
    parent: str | None
    highland: bool = False


def _short(unit: Unit) -> str:
    """ "Phường Hạc Thành" -> "Hạc Thành"."""
    return unit.name[len(unit.type) + 1:]


def _highland(unit: Unit) -> bool:
    return any(lo <= int(unit.code) <= hi for lo, hi in _HIGHLAND)


def _village(unit: Unit, k: int, srng: random.Random) -> str:
    if unit.type == "phường":
        return f"Khu phố {k}" if k % 2 else f"Tổ dân phố {k}"
    if _highland(unit):
        return f"Bản {srng.choice(_BAN_1)} {srng.choice(_BAN_2)}"
    return f"Thôn {k}" if srng.random() < 0.4 else f"Thôn {srng.choice(_THON)}"


def _structure_2026() -> list[_Site]:
    """The fixed tree, parents first, exactly TARGET_POINTS sites."""
    srng = random.Random("launchday/thanh-hoa-2026")  # the tree never depends on the seed
    root = PROVINCE_2026
    head = [_Site(root, PROVINCE_HALL, "province", None)]
    head += [_Site(code, name, "department", root) for code, name in DEPARTMENTS]
    head += [_Site(code, name, level, root) for code, name, level in PROVINCE_UNITS]
    units = load().units_of(root)
    blocks: list[tuple[_Site, list[_Site]]] = []
    for j, u in enumerate(units):
        high, short = _highland(u), _short(u)
        kids = [_Site(f"{u.code}-TR1", f"Trường THCS {short}", "school", u.code, high)]
        if j % 4 == 1:
            kids.append(_Site(f"{u.code}-TR2", f"Trường THPT {short}", "school", u.code, high))
        if j % 3 == 0:
            kids.append(_Site(f"{u.code}-CH", f"Chợ {short}", "market", u.code, high))
        kids += [_Site(code, name, "enterprise", u.code, high) for code, name in _BIG_ENTERPRISES.get(u.code, [])]
        if u.type == "phường":
            kind = srng.choice(("TNHH", "Cổ phần"))
            kids.append(_Site(f"{u.code}-DN1", f"Công ty {kind} {srng.choice(_SECTORS)} {short}",
                              "enterprise", u.code, high))
        blocks.append((_Site(u.code, u.name, "commune", root, high), kids))
    fixed = len(head) + sum(1 + len(kids) for _, kids in blocks)
    n_villages = TARGET_POINTS - fixed
    sites = list(head)
    for j, ((commune, kids), u) in enumerate(zip(blocks, units, strict=True)):
        sites.append(commune)
        sites += kids
        count = (j + 1) * n_villages // len(units) - j * n_villages // len(units)
        used: set[str] = set()
        for k in range(1, count + 1):
            name = _village(u, k, srng)
            while name in used:
                name = _village(u, k + len(used), srng)
            used.add(name)
            sites.append(_Site(f"{u.code}-T{k}", f"{name}, {lower_first(u.name)}", "village", u.code,
                               commune.highland))
    return sites


def thanh_hoa_2026(seed: int = 2025) -> list[dict[str, object]]:
    """Thanh Hóa today, parents before children: code, name, level, parent,
    chair, phone, expected. Same seed, same rows; the tree never depends on it."""
    rng = random.Random(seed)
    phones: set[str] = set()
    rows: list[dict[str, object]] = []
    for site in _structure_2026():
        lo, hi = EXPECTED_RANGES[site.level]
        rows.append({"code": site.code, "name": nfc(site.name), "level": site.level, "parent": site.parent,
                     "chair": nfc(person(rng, site.highland)), "phone": phone(rng, phones),
                     "expected": rng.randint(lo, hi)})
    rebalance(rows, *EXPECTED_WINDOW, EXPECTED_RANGES)
    return rows


# -- the whole country ----------------------------------------------------------------

# What stands under a unit, in turn: (code suffix, level, name template).
_UNDER_UNIT: tuple[tuple[str, str, str], ...] = (
    ("TH", "school", "Trường Tiểu học {short}"),
    ("T1", "village", "{village} 1, {unit}"),
    ("CS", "school", "Trường THCS {short}"),
    ("T2", "village", "{village} 2, {unit}"),
    ("CH", "market", "Chợ {short}"),
    ("T3", "village", "{village} 3, {unit}"),
    ("MN", "school", "Trường Mầm non {short}"),
    ("T4", "village", "{village} 4, {unit}"),
    ("YT", "other", "Trạm Y tế {unit}"),
    ("T5", "village", "{village} 5, {unit}"),
)


def national(seed: int = 2025, per_unit: int = 10) -> list[dict[str, object]]:
    """The whole country: the root ``VN`` (level other), the 34 provinces
    (level province, official codes), the 3,321 units (level commune, official
    codes) and ``per_unit`` points under each (schools, villages, a market, a
    health station; after the tenth, more villages). Parents first. Names are
    the official list's (already NFC). Fast: about a tenth of a second
    per 10,000 rows."""
    if per_unit < 0:
        raise ValueError("per_unit must be >= 0")
    rng = random.Random(seed)
    phones: set[str] = set()
    data = load()
    rows: list[dict[str, object]] = [{"code": NATION_CODE, "name": NATION_NAME, "level": "other", "parent": None,
                                      "chair": person(rng, False), "phone": phone(rng, phones), "expected": 500}]
    for p in data.provinces:
        rows.append({"code": p.code, "name": p.name, "level": "province", "parent": NATION_CODE,
                     "chair": person(rng, False), "phone": phone(rng, phones), "expected": 300})
    lo_c, hi_c = EXPECTED_RANGES["commune"]
    randint = rng.randint
    for u in data.units:
        rows.append({"code": u.code, "name": u.name, "level": "commune", "parent": u.province,
                     "chair": person(rng, False), "phone": phone(rng, phones), "expected": randint(lo_c, hi_c)})
        short = u.name[len(u.type) + 1:]
        unit = lower_first(u.name)
        village = "Khu phố" if u.type == "phường" else "Thôn"
        for k in range(per_unit):
            suffix, level, template = _UNDER_UNIT[k] if k < len(_UNDER_UNIT) else (
                f"T{k}", "village", "{village} " + str(k) + ", {unit}")
            lo, hi = EXPECTED_RANGES[level]
            rows.append({"code": f"{u.code}-{suffix}", "name": template.format(short=short, unit=unit, village=village),
                         "level": level, "parent": u.code, "chair": person(rng, False), "phone": phone(rng, phones),
                         "expected": randint(lo, hi)})
    return rows


#: The seed agenda of today's demo: the reference morning's, at the province's
#: hall, with the response speech at Phường Nghi Sơn (the town of Nghi Sơn
#: became wards and communes).
SEED_AGENDA_2026: list[dict[str, object]] = [
    {**item, "location": PROVINCE_2026} if item["location"] != NGHI_SON else
    {**item, "location": NGHI_SON_2026,
     "title": "Phát biểu hưởng ứng tại hội trường và tại điểm cầu phường Nghi Sơn",
     "speaker": "Đại diện Tỉnh đoàn Thanh Hóa; lãnh đạo phường Nghi Sơn"}
    for item in SEED_AGENDA
]


def national_agenda() -> list[dict[str, object]]:
    """The national demo's agenda: from the national root, a response from Thanh Hóa."""
    return [{**item, "location": NATION_CODE if item["location"] == PROVINCE_2026 else PROVINCE_2026,
             "title": str(item["title"]).replace("phường Nghi Sơn", "tỉnh Thanh Hóa"),
             "speaker": str(item["speaker"]).replace("lãnh đạo phường Nghi Sơn", "lãnh đạo tỉnh Thanh Hóa")
             .replace("Ủy ban nhân dân tỉnh", "Chính phủ").replace("Tỉnh ủy", "Trung ương")}
            for item in SEED_AGENDA_2026]
