"""The reference registry: Thanh Hóa on the morning of 8 May 2025, 08:00 (the
three tiers before the July 2025 reform; ``launchday demo --reference-2025``).

The province launched the "Bình dân học vụ số" (digital literacy for all)
movement that morning from the provincial hall, joined by video from 1,018
connection points (điểm cầu) and over 52,000 attendees.

Pure: no I/O, no clock, no global random state.

* The *structure* (codes, names, levels, parents) is fixed: it never depends on
  the seed, so a code such as :data:`NGHI_SON` is stable and can be referenced
  by the seed agenda, tests and scripts.
* The seed only drives the people and numbers: chairs, phones and expected
  attendees (``random.Random(seed)``).

The 27 district-level units are the real ones (before the July 2025 reform),
with their commune counts; commune names start from real ones and are filled
in with plausible names built the way Thanh Hóa names them ("Hoằng Phụ",
"Đa Lộc"...). It is demo data, not a gazetteer.

Codes: ``TH`` the provincial hall, ``S-...`` sở (departments), ``B-...``
ban/ngành/đoàn thể, ``D-<DISTRICT>`` districts, ``X-<DISTRICT>-NN`` communes,
wards and townships, ``T-<DISTRICT>-NN-k`` villages (thôn/bản/khu phố),
``TR-...`` schools, ``CH-...`` markets, ``DN-...`` enterprises, ``K-...`` other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from server.demo.people import lower_first, rebalance
from server.demo.people import nfc as _nfc
from server.demo.people import person as _person
from server.demo.people import phone as _phone

__all__ = [
    "CSV_HEADER",
    "LEVELS",
    "NGHI_SON",
    "PROVINCE",
    "SEED_AGENDA",
    "TARGET_POINTS",
    "generate_points",
    "to_csv_rows",
]

LEVELS = ("province", "department", "district", "commune", "village", "school", "market",
          "enterprise", "other")
CSV_HEADER = ["code", "name", "level", "parent", "chair", "phone", "expected"]

PROVINCE = "TH"
PROVINCE_HALL = "Hội trường Tỉnh ủy Thanh Hóa"
#: The Nghi Sơn town point: the seed agenda holds a response speech there.
NGHI_SON = "D-NGHISON"
TARGET_POINTS = 1018
#: The expected attendees are nudged into this window whatever the seed.
EXPECTED_WINDOW = (52_000, 54_000)

# Expected attendees by level (inclusive bounds).
EXPECTED_RANGES: dict[str, tuple[int, int]] = {
    "province": (300, 300),
    "department": (20, 60),
    "district": (80, 200),
    "commune": (30, 80),
    "village": (15, 40),
    "school": (30, 120),
    "market": (10, 30),
    "enterprise": (20, 80),
    "other": (20, 60),
}
_HIGH_SCHOOL = (60, 120)
_LOWER_SCHOOL = (30, 80)

# Sở after the March 2025 merger, then the ban, ngành and đoàn thể of the province.
DEPARTMENTS: list[tuple[str, str]] = [
    ("S-KHCN", "Sở Khoa học và Công nghệ"),
    ("S-GDDT", "Sở Giáo dục và Đào tạo"),
    ("S-YT", "Sở Y tế"),
    ("S-NV", "Sở Nội vụ"),
    ("S-TC", "Sở Tài chính"),
    ("S-TP", "Sở Tư pháp"),
    ("S-CT", "Sở Công Thương"),
    ("S-XD", "Sở Xây dựng"),
    ("S-NNMT", "Sở Nông nghiệp và Môi trường"),
    ("S-VHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
    ("S-NGV", "Sở Ngoại vụ"),
    ("S-DTTG", "Sở Dân tộc và Tôn giáo"),
    ("S-TTRA", "Thanh tra tỉnh"),
    ("S-VPUB", "Văn phòng Ủy ban nhân dân tỉnh"),
    ("B-VPTU", "Văn phòng Tỉnh ủy"),
    ("B-TCTU", "Ban Tổ chức Tỉnh ủy"),
    ("B-TGDV", "Ban Tuyên giáo và Dân vận Tỉnh ủy"),
    ("B-UBKT", "Ủy ban Kiểm tra Tỉnh ủy"),
    ("B-NCTU", "Ban Nội chính Tỉnh ủy"),
    ("B-DUCQD", "Đảng ủy các cơ quan Đảng tỉnh"),
    ("B-DUUB", "Đảng ủy Ủy ban nhân dân tỉnh"),
    ("B-VPDB", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh"),
    ("B-MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh"),
    ("B-TD", "Tỉnh đoàn Thanh Hóa"),
    ("B-HLHPN", "Hội Liên hiệp Phụ nữ tỉnh"),
    ("B-HND", "Hội Nông dân tỉnh"),
    ("B-HCCB", "Hội Cựu chiến binh tỉnh"),
    ("B-LDLD", "Liên đoàn Lao động tỉnh"),
    ("B-CA", "Công an tỉnh"),
    ("B-BCHQS", "Bộ Chỉ huy Quân sự tỉnh"),
    ("B-BDBP", "Bộ Chỉ huy Bộ đội Biên phòng tỉnh"),
    ("B-KKT", "Ban Quản lý Khu kinh tế Nghi Sơn và các khu công nghiệp"),
    ("B-BAO", "Báo Thanh Hóa"),
    ("B-DAI", "Đài Phát thanh và Truyền hình Thanh Hóa"),
    ("B-LMHTX", "Liên minh Hợp tác xã tỉnh"),
]

# Points directly under the provincial hall besides the departments.
PROVINCE_UNITS: list[tuple[str, str, str]] = [
    ("TR-LAMSON", "Trường THPT chuyên Lam Sơn", "school"),
    ("TR-HONGDUC", "Trường Đại học Hồng Đức", "school"),
    ("TR-DHVHTTDL", "Trường Đại học Văn hóa, Thể thao và Du lịch Thanh Hóa", "school"),
    ("TR-CDYT", "Trường Cao đẳng Y tế Thanh Hóa", "school"),
    ("DN-DIENLUC", "Công ty Điện lực Thanh Hóa", "enterprise"),
    ("DN-CAPNUOC", "Công ty Cổ phần Cấp nước Thanh Hóa", "enterprise"),
    ("DN-VNPT", "Viễn thông Thanh Hóa (VNPT)", "enterprise"),
    ("DN-VIETTEL", "Viettel Thanh Hóa", "enterprise"),
    ("K-BVDK", "Bệnh viện Đa khoa tỉnh Thanh Hóa", "other"),
    ("K-HCC", "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa", "other"),
    ("K-THUVIEN", "Thư viện tỉnh Thanh Hóa", "other"),
]


@dataclass(frozen=True)
class _District:
    slug: str
    name: str
    communes: int  # commune-level units (xã, phường, thị trấn)
    urban: int  # how many of the first names are phường / thị trấn
    known: str  # comma-separated commune names, urban ones first
    templates: tuple[str, ...]  # how further names are formed
    mountain: bool = False  # Thái/Mường highland: "bản" villages


# The 27 district-level units of Thanh Hóa before July 2025: 2 cities (thành
# phố), 2 towns (thị xã) and 23 rural districts (huyện), 559 communes in all.
DISTRICTS: list[_District] = [
    _District("THANHHOA", "Thành phố Thanh Hóa", 34, 34,
              "Điện Biên, Lam Sơn, Ba Đình, Hàm Rồng, Đông Thọ, Nam Ngạn, Trường Thi, Ngọc Trạo, "
              "Phú Sơn, Tân Sơn, Đông Sơn, Đông Vệ, Đông Hương, Đông Hải, Quảng Hưng, "
              "Quảng Thắng, Quảng Thành, An Hưng, Đông Cương, Đông Lĩnh, Đông Tân, Tào Xuyên, "
              "Long Anh, Quảng Phú, Quảng Tâm, Quảng Đông, Quảng Cát, Thiệu Dương, Thiệu Khánh, "
              "Đông Vinh, Hoằng Quang, Hoằng Đại", ("Đông {}", "Quảng {}")),
    _District("SAMSON", "Thành phố Sầm Sơn", 11, 8,
              "Bắc Sơn, Trung Sơn, Trường Sơn, Quảng Cư, Quảng Tiến, Quảng Châu, Quảng Thọ, "
              "Quảng Vinh, Quảng Hùng, Đại Hùng, Quảng Minh", ("Quảng {}",)),
    _District("BIMSON", "Thị xã Bỉm Sơn", 7, 6,
              "Ba Đình, Bắc Sơn, Đông Sơn, Lam Sơn, Ngọc Trạo, Phú Sơn, Quang Trung", ("{} Sơn",)),
    _District("NGHISON", "Thị xã Nghi Sơn", 31, 16,
              "Bình Minh, Hải An, Hải Bình, Hải Châu, Hải Hòa, Hải Lĩnh, Hải Ninh, Hải Thanh, "
              "Hải Thượng, Mai Lâm, Nguyên Bình, Ninh Hải, Tân Dân, Tĩnh Hải, Trúc Lâm, Xuân Lâm, "
              "Anh Sơn, Các Sơn, Định Hải, Hải Hà, Hải Nhân, Hải Yến, Nghi Sơn, Ngọc Lĩnh, "
              "Phú Lâm, Phú Sơn, Tân Trường, Thanh Sơn, Thanh Thủy, Trường Lâm, Tùng Lâm",
              ("Hải {}",)),
    _District("TRIEUSON", "Huyện Triệu Sơn", 34, 2,
              "Triệu Sơn, Nưa, Thọ Bình, Thọ Dân, Thọ Tân, Thọ Thế, Thọ Cường, Thọ Ngọc, Thọ Phú, "
              "Thọ Sơn, Thọ Vực, Dân Lực, Dân Lý, Dân Quyền, Hợp Lý, Hợp Thắng, Hợp Thành, "
              "Hợp Tiến, Đồng Lợi, Đồng Thắng, Đồng Tiến, Minh Sơn, Minh Châu, Tân Ninh, "
              "Thái Hòa, Vân Sơn, Xuân Thịnh, Xuân Lộc, An Nông, Nông Trường, Khuyến Nông, "
              "Tiến Nông, Bình Sơn", ("Thọ {}", "Hợp {}", "Đồng {}")),
    _District("DONGSON", "Huyện Đông Sơn", 14, 1,
              "Rừng Thông, Đông Hòa, Đông Khê, Đông Minh, Đông Ninh, Đông Phú, Đông Quang, "
              "Đông Thanh, Đông Thịnh, Đông Tiến, Đông Văn, Đông Yên, Đông Hoàng, Đông Nam",
              ("Đông {}",)),
    _District("THOXUAN", "Huyện Thọ Xuân", 30, 3,
              "Thọ Xuân, Lam Sơn, Sao Vàng, Xuân Hòa, Xuân Lập, Xuân Sinh, Xuân Hồng, Xuân Phong, "
              "Xuân Trường, Xuân Giang, Xuân Tín, Xuân Phú, Thọ Hải, Thọ Lập, Thọ Diên, Thọ Lâm, "
              "Thọ Xương, Tây Hồ, Bắc Lương, Nam Giang, Phú Xuân, Quảng Phú, Trường Xuân, "
              "Thuận Minh", ("Xuân {}", "Thọ {}")),
    _District("QUANGXUONG", "Huyện Quảng Xương", 26, 1,
              "Tân Phong, Quảng Bình, Quảng Chính, Quảng Định, Quảng Đức, Quảng Giao, Quảng Hải, "
              "Quảng Hòa, Quảng Hợp, Quảng Khê, Quảng Lộc, Quảng Long, Quảng Lưu, Quảng Ngọc, "
              "Quảng Nham, Quảng Nhân, Quảng Ninh, Quảng Phúc, Quảng Thạch, Quảng Trạch, "
              "Quảng Trung, Quảng Trường, Quảng Văn, Quảng Yên", ("Quảng {}",)),
    _District("HOANGHOA", "Huyện Hoằng Hóa", 37, 1,
              "Bút Sơn, Hoằng Phụ, Hoằng Đồng, Hoằng Thanh, Hoằng Tiến, Hoằng Hải, Hoằng Trường, "
              "Hoằng Thắng, Hoằng Lộc, Hoằng Đức, Hoằng Kim, Hoằng Xuân, Hoằng Sơn, Hoằng Lương, "
              "Hoằng Phú", ("Hoằng {}",)),
    _District("HAULOC", "Huyện Hậu Lộc", 23, 1,
              "Hậu Lộc, Đa Lộc, Hòa Lộc, Minh Lộc, Hải Lộc, Hưng Lộc, Ngư Lộc, Tiến Lộc, "
              "Thành Lộc, Cầu Lộc, Tuy Lộc, Phong Lộc, Xuân Lộc, Liên Lộc, Quang Lộc, Mỹ Lộc, "
              "Văn Lộc, Thuần Lộc, Đồng Lộc, Đại Lộc, Triệu Lộc, Lộc Sơn, Hoa Lộc", ("{} Lộc",)),
    _District("NGASON", "Huyện Nga Sơn", 24, 1,
              "Nga Sơn, Nga Thạch, Nga Điền, Nga Phú, Nga Thái, Nga Liên, Nga An, Nga Tiến, "
              "Nga Thanh, Nga Hải, Nga Thắng, Nga Văn, Nga Yên", ("Nga {}",)),
    _District("HATRUNG", "Huyện Hà Trung", 20, 1,
              "Hà Trung, Hà Lĩnh, Hà Long, Hà Đông, Hà Tiến, Hà Bình, Hà Ngọc, Hà Sơn, Hà Giang, "
              "Hà Tân, Hà Hải, Hà Châu, Yến Sơn, Lĩnh Toại", ("Hà {}",)),
    _District("VINHLOC", "Huyện Vĩnh Lộc", 13, 1,
              "Vĩnh Lộc, Vĩnh An, Vĩnh Hòa, Vĩnh Hùng, Vĩnh Long, Vĩnh Phúc, Vĩnh Quang, "
              "Vĩnh Thịnh, Vĩnh Tiến, Vĩnh Yên, Minh Tân, Ninh Khang", ("Vĩnh {}",)),
    _District("YENDINH", "Huyện Yên Định", 26, 4,
              "Quán Lào, Quý Lộc, Yên Lâm, Thống Nhất, Yên Phú, Yên Trung, Yên Trường, Yên Thái, "
              "Yên Thịnh, Yên Ninh, Yên Tâm, Định Bình, Định Công, Định Hải, Định Hưng, "
              "Định Liên, Định Long, Định Tân, Định Tiến, Định Thành, Định Hòa",
              ("Yên {}", "Định {}")),
    _District("THIEUHOA", "Huyện Thiệu Hóa", 25, 1,
              "Thiệu Hóa, Thiệu Giang, Thiệu Giao, Thiệu Hợp, Thiệu Long, Thiệu Ngọc, "
              "Thiệu Nguyên, Thiệu Phúc, Thiệu Quang, Thiệu Thành, Thiệu Thịnh, Thiệu Tiến, "
              "Thiệu Toán, Thiệu Trung, Thiệu Vận, Thiệu Viên, Thiệu Vũ, Thiệu Chính, "
              "Thiệu Công, Thiệu Duy", ("Thiệu {}",)),
    _District("NONGCONG", "Huyện Nông Cống", 29, 1,
              "Nông Cống, Trung Chính, Trung Thành, Tế Lợi, Tế Nông, Tế Thắng, Minh Nghĩa, "
              "Minh Khôi, Vạn Thắng, Vạn Hòa, Vạn Thiện, Tượng Lĩnh, Tượng Sơn, Tượng Văn, "
              "Công Liêm, Công Chính, Thăng Long, Thăng Bình, Thăng Thọ, Trường Sơn, "
              "Trường Giang, Hoàng Giang, Yên Mỹ, Công Bình", ("Tượng {}", "Vạn {}", "Thăng {}")),
    _District("NHUTHANH", "Huyện Như Thanh", 14, 1,
              "Bến Sung, Xuân Phúc, Xuân Thái, Xuân Du, Hải Long, Hải Vân, Phú Nhuận, Thanh Tân, "
              "Thanh Kỳ, Yên Thọ, Yên Lạc, Phượng Nghi, Cán Khê, Mậu Lâm", ("Xuân {}",)),
    _District("NHUXUAN", "Huyện Như Xuân", 16, 1,
              "Yên Cát, Bãi Trành, Xuân Bình, Xuân Hòa, Thanh Phong, Thanh Lâm, Thanh Quân, "
              "Thanh Sơn, Thanh Xuân, Cát Vân, Cát Tân, Bình Lương, Hóa Quỳ, Tân Bình, "
              "Thượng Ninh", ("Thanh {}",), mountain=True),
    _District("THUONGXUAN", "Huyện Thường Xuân", 16, 1,
              "Thường Xuân, Xuân Cao, Xuân Thắng, Xuân Lộc, Xuân Chinh, Xuân Lẹ, Lương Sơn, "
              "Vạn Xuân, Ngọc Phụng, Luận Thành, Luận Khê, Bát Mọt, Yên Nhân, Tân Thành, "
              "Thọ Thanh, Xuân Dương", ("Xuân {}",), mountain=True),
    _District("NGOCLAC", "Huyện Ngọc Lặc", 21, 1,
              "Ngọc Lặc, Ngọc Liên, Ngọc Khê, Ngọc Sơn, Ngọc Trung, Minh Sơn, Minh Tiến, "
              "Phùng Giáo, Phùng Minh, Kiên Thọ, Thúy Sơn, Cao Ngọc, Quang Trung, Lam Sơn, "
              "Mỹ Tân, Nguyệt Ấn, Vân Âm, Lộc Thịnh, Thạch Lập, Phúc Thịnh, Đồng Thịnh",
              ("Ngọc {}",)),
    _District("CAMTHUY", "Huyện Cẩm Thủy", 17, 1,
              "Phong Sơn, Cẩm Bình, Cẩm Châu, Cẩm Giang, Cẩm Liên, Cẩm Long, Cẩm Lương, "
              "Cẩm Ngọc, Cẩm Phú, Cẩm Quý, Cẩm Tâm, Cẩm Tân, Cẩm Thạch, Cẩm Thành, Cẩm Tú, "
              "Cẩm Vân, Cẩm Yên", ("Cẩm {}",)),
    _District("THACHTHANH", "Huyện Thạch Thành", 25, 2,
              "Kim Tân, Vân Du, Thạch Bình, Thạch Cẩm, Thạch Định, Thạch Đồng, Thạch Lâm, "
              "Thạch Long, Thạch Quảng, Thạch Sơn, Thạch Tượng, Thành An, Thành Công, "
              "Thành Hưng, Thành Kim, Thành Long, Thành Minh, Thành Mỹ, Thành Tâm, Thành Tiến, "
              "Thành Trực, Thành Vinh, Ngọc Trạo, Thành Yên", ("Thạch {}", "Thành {}")),
    _District("LANGCHANH", "Huyện Lang Chánh", 10, 1,
              "Lang Chánh, Giao An, Giao Thiện, Tam Văn, Yên Khương, Yên Thắng, Trí Nang, "
              "Đồng Lương, Tân Phúc, Lâm Phú", ("Yên {}",), mountain=True),
    _District("BATHUOC", "Huyện Bá Thước", 21, 1,
              "Cành Nàng, Lương Ngoại, Lương Nội, Lương Trung, Điền Hạ, Điền Lư, Điền Quang, "
              "Điền Thượng, Điền Trung, Ái Thượng, Thiết Ống, Thiết Kế, Cổ Lũng, Văn Nho, "
              "Hạ Trung, Ban Công, Thành Lâm, Thành Sơn, Lũng Cao, Lũng Niêm, Kỳ Tân",
              ("Điền {}",), mountain=True),
    _District("QUANHOA", "Huyện Quan Hóa", 15, 1,
              "Hồi Xuân, Phú Lệ, Phú Sơn, Phú Thanh, Phú Xuân, Phú Nghiêm, Thiên Phủ, "
              "Trung Thành, Trung Sơn, Nam Xuân, Nam Tiến, Nam Động, Hiền Kiệt, Hiền Chung, "
              "Thành Sơn", ("Phú {}",), mountain=True),
    _District("QUANSON", "Huyện Quan Sơn", 12, 1,
              "Sơn Lư, Sơn Điện, Sơn Hà, Sơn Thủy, Trung Hạ, Trung Thượng, Trung Tiến, "
              "Trung Xuân, Tam Lư, Tam Thanh, Mường Mìn, Na Mèo", ("Sơn {}",), mountain=True),
    _District("MUONGLAT", "Huyện Mường Lát", 8, 1,
              "Mường Lát, Mường Chanh, Mường Lý, Pù Nhi, Nhi Sơn, Quang Chiểu, Tam Chung, "
              "Trung Lý", ("Mường {}",), mountain=True),
]

# Second syllables for further commune names (Hán-Việt, as Thanh Hóa uses them).
_SUFFIXES = ("An Bình Châu Cát Đạo Đạt Đông Đức Giang Hà Hải Hòa Hợp Hùng Hưng Khánh Khê Lạc "
             "Lâm Lập Liên Lĩnh Lộc Lợi Long Lương Minh Mỹ Nam Nghĩa Ngọc Nhân Ninh Phong Phú "
             "Phúc Phượng Quang Quý Sơn Tân Thái Thanh Thành Thắng Thịnh Thọ Thuận Thủy Tiến "
             "Trạch Trung Trường Văn Vinh Xuân Yên").split()
_THON = ("Đông, Tây, Nam, Bắc, Trung, Thượng, Hạ, Yên Thái, Phú Thọ, Đồng Tâm, Tân Lập, "
         "Quyết Thắng, Thống Nhất, Đoàn Kết, Hòa Bình, Đại Đồng, Hợp Thành, Cao Sơn, "
         "Tiến Thành, Phúc Lộc, Minh Châu, Xuân Phong").split(", ")
_BAN_1 = "Na Pù Co Chiềng Hua Sa Pá Nà Khằm Mường Lốc Sài Tà Poọng Hang Bo".split()
_BAN_2 = "Mèo Nhi Lượng Khà Ná Chung Bôn Cốc Xa Lầu Pọng Khạt Tong Lằn Mạ Ngàm".split()
_SECTORS = ("May mặc", "Giày da", "Xây dựng", "Chế biến nông sản", "Vật liệu xây dựng",
            "Thủy sản", "Dược phẩm", "Cơ khí", "Vận tải", "Thương mại và Dịch vụ",
            "Chế biến gỗ", "Nước sạch")
_HIGH_SCHOOLS = {
    "THANHHOA": ["Hàm Rồng", "Đào Duy Từ", "Nguyễn Trãi", "Tô Hiến Thành"],
    "NGHISON": ["Tĩnh Gia 1", "Tĩnh Gia 2", "Tĩnh Gia 3", "Tĩnh Gia 4"],
}
_BIG_ENTERPRISES: dict[str, list[tuple[str, str]]] = {
    "NGHISON": [("DN-LHDNS", "Công ty TNHH Lọc hóa dầu Nghi Sơn"),
                ("DN-XMNS", "Công ty Xi măng Nghi Sơn")],
    "BIMSON": [("DN-XMBS", "Công ty Cổ phần Xi măng Bỉm Sơn")],
    "THOXUAN": [("DN-MDLS", "Công ty Cổ phần Mía đường Lam Sơn")],
}
_OTHERS: dict[str, list[tuple[str, str]]] = {
    "MUONGLAT": [("K-BP-PUNHI", "Đồn Biên phòng Pù Nhi"),
                 ("K-BP-TAMCHUNG", "Đồn Biên phòng Tam Chung")],
    "QUANSON": [("K-BP-NAMEO", "Đồn Biên phòng cửa khẩu quốc tế Na Mèo")],
    "THUONGXUAN": [("K-BP-BATMOT", "Đồn Biên phòng Bát Mọt")],
}


@dataclass(frozen=True)
class _Site:
    code: str
    name: str
    level: str
    parent: str | None
    mountain: bool = False
    expected: tuple[int, int] | None = None  # overrides the level's range


def _short(district: _District) -> str:
    """ "Huyện Triệu Sơn" -> "Triệu Sơn"."""
    for prefix in ("Thành phố ", "Thị xã ", "Huyện "):
        if district.name.startswith(prefix):
            return district.name[len(prefix):]
    return district.name


def _commune_names(district: _District, srng: random.Random) -> list[str]:
    names = [n.strip() for n in district.known.split(",") if n.strip()]
    names = list(dict.fromkeys(names))[: district.communes]
    suffixes = list(_SUFFIXES)
    srng.shuffle(suffixes)
    i = 0
    while len(names) < district.communes:
        template = district.templates[i % len(district.templates)]
        suffix = suffixes[i % len(suffixes)]
        i += 1
        name = template.format(suffix)
        if suffix not in template and name not in names:
            names.append(name)
    return names


def _village_name(district: _District, commune_kind: str, srng: random.Random) -> str:
    if commune_kind != "Xã":
        return f"Khu phố {srng.randint(1, 12)}"
    if district.mountain:
        return f"Bản {srng.choice(_BAN_1)} {srng.choice(_BAN_2)}"
    if srng.random() < 0.4:
        return f"Thôn {srng.randint(1, 12)}"
    return f"Thôn {srng.choice(_THON)}"


def _structure() -> list[_Site]:
    """The fixed tree, parents first, exactly TARGET_POINTS sites."""
    srng = random.Random("launchday/thanh-hoa-2025")  # fixed: the tree never depends on the seed
    head = [_Site(PROVINCE, PROVINCE_HALL, "province", None)]
    head += [_Site(code, name, "department", PROVINCE) for code, name in DEPARTMENTS]
    head += [_Site(code, name, level, PROVINCE,
                   expected=_HIGH_SCHOOL if level == "school" else None)
             for code, name, level in PROVINCE_UNITS]
    # Per district: its own sites, then (commune, commune's children) blocks.
    blocks: list[tuple[list[_Site], list[tuple[_Site, str, list[_Site]]]]] = []
    j = 0  # running commune index across the province
    for d in DISTRICTS:
        dcode, short, mtn = f"D-{d.slug}", _short(d), d.mountain
        own = [_Site(dcode, d.name, "district", PROVINCE, mtn)]
        n_high = 1 + d.communes // 12
        high = _HIGH_SCHOOLS.get(d.slug) or [
            short if n_high == 1 else f"{short} {k}" for k in range(1, n_high + 1)]
        own += [_Site(f"TR-{d.slug}-PT{k}", f"Trường THPT {name}", "school", dcode, mtn,
                      _HIGH_SCHOOL) for k, name in enumerate(high[:n_high], 1)]
        own += [_Site(code, name, "enterprise", dcode, mtn)
                for code, name in _BIG_ENTERPRISES.get(d.slug, [])]
        if d.communes >= 20:
            kind = srng.choice(("TNHH", "Cổ phần"))
            own.append(_Site(f"DN-{d.slug}-1", f"Công ty {kind} {srng.choice(_SECTORS)} {short}",
                             "enterprise", dcode, mtn))
        own += [_Site(code, name, "other", dcode, mtn) for code, name in _OTHERS.get(d.slug, [])]
        if d.communes >= 30:
            own.append(_Site(f"K-{d.slug}-TTYT", f"Trung tâm Y tế {lower_first(d.name)}",
                             "other", dcode, mtn))
        communes = []
        for n, name in enumerate(_commune_names(d, srng), 1):
            if n > d.urban:
                kind = "Xã"
            else:
                kind = "Thị trấn" if d.name.startswith("Huyện") else "Phường"
            xcode, tail = f"X-{d.slug}-{n:02d}", f"{d.slug}-{n:02d}"
            commune = _Site(xcode, f"{kind} {name}", "commune", dcode, mtn)
            children = []
            if j % 9 == 4:
                children.append(_Site(f"TR-{d.slug}-CS{n:02d}", f"Trường THCS {name}", "school",
                                      xcode, mtn, _LOWER_SCHOOL))
            if j % 11 == 7:
                children.append(_Site(f"CH-{tail}", f"Chợ {name}", "market", xcode, mtn))
            communes.append((commune, kind, children))
            j += 1
        blocks.append((own, communes))
    # Villages fill the rest, spread evenly over the communes (at most one each
    # while there are fewer villages than communes).
    fixed = len(head) + sum(len(own) + sum(1 + len(ch) for _, _, ch in cs) for own, cs in blocks)
    n_villages = TARGET_POINTS - fixed
    total_communes = sum(d.communes for d in DISTRICTS)
    sites = list(head)
    j = 0
    for d, (own, communes) in zip(DISTRICTS, blocks, strict=True):
        sites += own
        for commune, kind, children in communes:
            sites.append(commune)
            sites += children
            count = (j + 1) * n_villages // total_communes - j * n_villages // total_communes
            j += 1
            used: set[str] = set()
            for k in range(1, count + 1):
                name = _village_name(d, kind, srng)
                while name in used:
                    name = _village_name(d, kind, srng)
                used.add(name)
                sites.append(_Site(f"T-{commune.code[2:]}-{k}",
                                   f"{name}, {lower_first(commune.name)}",
                                   "village", commune.code, d.mountain))
    return sites


# -- people -----------------------------------------------------------------

def generate_points(seed: int = 2025) -> list[dict[str, object]]:
    """The Thanh Hóa points, parents before children: code, name, level, parent,
    chair, phone, expected. Same seed, same rows; the tree never depends on it."""
    rng = random.Random(seed)
    phones: set[str] = set()
    rows: list[dict[str, object]] = []
    for site in _structure():
        lo, hi = site.expected or EXPECTED_RANGES[site.level]
        rows.append({
            "code": site.code,
            "name": _nfc(site.name),
            "level": site.level,
            "parent": site.parent,
            "chair": _nfc(_person(rng, site.mountain)),
            "phone": _phone(rng, phones),
            "expected": rng.randint(lo, hi),
        })
    rebalance(rows, *EXPECTED_WINDOW, EXPECTED_RANGES)
    return rows


def to_csv_rows(points: list[dict[str, object]]) -> list[list[str]]:
    """A header row then one row per point, ready for ``csv.writer`` (import format)."""
    out = [list(CSV_HEADER)]
    for p in points:
        out.append(["" if p.get(k) is None else str(p[k]) for k in CSV_HEADER])
    return out


# -- agenda -----------------------------------------------------------------

_MOVEMENT = "“Bình dân học vụ số”"

SEED_AGENDA: list[dict[str, object]] = [
    {"title": "Lý do, giới thiệu đại biểu",
     "speaker": "Lãnh đạo Văn phòng Tỉnh ủy", "location": PROVINCE, "planned_s": 300},
    {"title": f"Trình bày Kế hoạch của tỉnh triển khai phong trào {_MOVEMENT}",
     "speaker": "Lãnh đạo Sở Khoa học và Công nghệ", "location": PROVINCE, "planned_s": 600},
    {"title": f"Phát biểu phát động phong trào {_MOVEMENT}",
     "speaker": "Chủ tịch Ủy ban nhân dân tỉnh", "location": PROVINCE, "planned_s": 900},
    {"title": "Phát biểu hưởng ứng tại hội trường và tại điểm cầu thị xã Nghi Sơn",
     "speaker": "Đại diện Tỉnh đoàn Thanh Hóa; lãnh đạo thị xã Nghi Sơn",
     "location": NGHI_SON, "planned_s": 600},
    {"title": f"Các đồng chí lãnh đạo bấm nút phát động phong trào {_MOVEMENT}",
     "speaker": "Lãnh đạo tỉnh", "location": PROVINCE, "planned_s": 180},
    {"title": "Trình bày đề cương tuyên truyền",
     "speaker": "Lãnh đạo Ban Tuyên giáo và Dân vận Tỉnh ủy", "location": PROVINCE,
     "planned_s": 900},
    {"title": "Chuyên đề về trí tuệ nhân tạo (AI)",
     "speaker": "Báo cáo viên chuyên đề", "location": PROVINCE, "planned_s": 1800},
]
