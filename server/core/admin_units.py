"""Vietnam's official administrative units (after 1 July 2025), and the import
sheet of a province's or the whole country's points made from them.

The list ships as ``server/core/data/admin_units_2025.csv`` (built by
scripts/build_admin_units.py; its header says from what): 34 provinces and
3,321 communes, wards and special zones, with the 2- and 5-digit codes of the
national statistics office. It is read on first use and kept.

A province is found by name ignoring diacritics, case, spacing and the
"Tỉnh" / "Thành phố" / "TP." prefix; a name that is the start of several
provinces' names is ambiguous, and both refusals list the candidates.
"""

from __future__ import annotations

import csv
import difflib
import functools
import re
from dataclasses import dataclass
from importlib import resources

from server.core.errors import BadRequest
from server.core.text import fold

DATA_FILE = "admin_units_2025.csv"
# The import sheet's columns (server.core.points.POINT_FIELDS); chair, phone
# and expected are left blank for the organizers to fill in.
REGISTRY_COLUMNS = ("code", "name", "level", "parent", "chair", "phone", "expected")
NATION_CODE = "VN"
NATION_NAME = "Việt Nam"

# Folded prefixes a province's name may be written with.
_PREFIXES = ("thanh pho ", "tinh ", "tp. ", "tp.", "tp ", "thu do ")
# Common short forms (folded, spaces removed) -> province code.
_ALIASES = {"hcm": "79", "tphcm": "79", "saigon": "79", "hn": "01"}


@dataclass(frozen=True, slots=True)
class Province:
    code: str  # 2 digits, e.g. "38"
    name: str  # official, with its type: "Tỉnh Thanh Hóa"
    type: str  # "tỉnh" or "thành phố"

    @property
    def short_name(self) -> str:
        """The name without its type: "Thanh Hóa"."""
        return self.name[len(self.type) + 1:]


@dataclass(frozen=True, slots=True)
class Unit:
    code: str  # 5 digits, e.g. "14797"
    name: str  # official, with its type: "Phường Hạc Thành"
    type: str  # "xã", "phường" or "đặc khu"
    province: str  # the province's code


@dataclass(frozen=True, slots=True)
class AdminUnits:
    provinces: tuple[Province, ...]
    units: tuple[Unit, ...]

    def province(self, code: str) -> Province:
        for p in self.provinces:
            if p.code == code:
                return p
        raise KeyError(code)

    def units_of(self, code: str) -> tuple[Unit, ...]:
        return tuple(u for u in self.units if u.province == code)


def parse(text: str) -> AdminUnits:
    """The list from the data file's text (``#`` lines are its header)."""
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    provinces: list[Province] = []
    units: list[Unit] = []
    for row in csv.DictReader(lines):
        if row["province"]:
            units.append(Unit(row["code"], row["name"], row["type"], row["province"]))
        else:
            provinces.append(Province(row["code"], row["name"], row["type"]))
    return AdminUnits(tuple(provinces), tuple(units))


@functools.cache
def load() -> AdminUnits:
    """The shipped list (read once)."""
    text = resources.files("server.core").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return parse(text)


def _key(name: str) -> str:
    """Folded, without the province prefix, punctuation and spaces: "TP. Hồ Chí Minh" -> "hochiminh"."""
    folded = fold(name)
    for prefix in _PREFIXES:
        if folded.startswith(prefix) and len(folded) > len(prefix):
            folded = folded[len(prefix):]
            break
    return re.sub(r"[\s.\-_,]+", "", folded)


def _words(name: str) -> list[str]:
    return re.sub(r"[.\-_,]+", " ", fold(name)).split()


def match_province(name: str, units: AdminUnits | None = None) -> Province:
    """The province called ``name``.

    An exact match after folding wins; otherwise a name whose words start the
    words of exactly one province's name ("thanh h", "ho chi") finds it.
    Raises ``BadRequest`` with code ``province_unknown`` (and the closest
    names) or ``province_ambiguous`` (and the provinces it could be); both
    carry ``details["candidates"]``.
    """
    data = units or load()
    key = _key(name)
    if not key:
        raise BadRequest("no province name given", code="province_unknown",
                         details={"candidates": [p.short_name for p in data.provinces]})
    exact = [p for p in data.provinces if _key(p.short_name) == key]
    if not exact and key in _ALIASES:
        exact = [data.province(_ALIASES[key])]
    if exact:
        return exact[0]  # folded short names are distinct (a test checks it)
    words = _strip_prefix_words(_words(name))
    partial = [p for p in data.provinces if _starts_words(_words(p.short_name), words)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        names = [p.short_name for p in partial]
        raise BadRequest(f"{name!r} matches {len(partial)} provinces: {', '.join(names)}",
                         code="province_ambiguous", details={"candidates": names})
    keys = {_key(p.short_name): p.short_name for p in data.provinces}
    close = [keys[k] for k in difflib.get_close_matches(key, list(keys), n=5, cutoff=0.6)]
    hint = f"; did you mean: {', '.join(close)}" if close else ""
    raise BadRequest(f"no province is called {name!r}{hint}", code="province_unknown",
                     details={"candidates": close})


def _strip_prefix_words(words: list[str]) -> list[str]:
    for prefix in (["thanh", "pho"], ["thu", "do"], ["tinh"], ["tp"]):
        if words[:len(prefix)] == prefix and len(words) > len(prefix):
            return words[len(prefix):]
    return words


def _starts_words(name: list[str], query: list[str]) -> bool:
    """True if ``query``'s words start the words of ``name`` (the last one may be cut)."""
    if not query or len(query) > len(name):
        return False
    *whole, last = query
    return name[:len(whole)] == whole and name[len(whole)].startswith(last)


# -- the import sheet ---------------------------------------------------------


def _row(code: str, name: str, level: str, parent: str) -> dict[str, str]:
    return {"code": code, "name": name, "level": level, "parent": parent, "chair": "", "phone": "", "expected": ""}


def registry_rows(province: str | None = None, units: AdminUnits | None = None) -> list[dict[str, str]]:
    """The import sheet's rows (columns ``REGISTRY_COLUMNS``).

    With a province's code: the province (level ``province``) and its units
    (level ``commune``, its code as their parent). Without: the country
    (code ``VN``, level ``other``), the 34 provinces under it, and every unit
    under its province. Codes are the official ones, so a re-import of the
    same sheet updates rather than duplicates.
    """
    data = units or load()
    if province is not None:
        p = data.province(province)
        return [_row(p.code, p.name, "province", ""),
                *(_row(u.code, u.name, "commune", p.code) for u in data.units_of(p.code))]
    rows = [_row(NATION_CODE, NATION_NAME, "other", "")]
    rows += [_row(p.code, p.name, "province", NATION_CODE) for p in data.provinces]
    rows += [_row(u.code, u.name, "commune", u.province) for u in data.units]
    return rows
