"""Text rules for Vietnamese names: NFC storage, diacritic-insensitive search."""

from __future__ import annotations

import unicodedata

# "đ" is a letter of its own in Unicode, not "d" plus a combining mark, so
# NFD alone does not fold it.
_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def clean(value: object) -> str:
    """Normalize a cell or field: NFC, trimmed, inner whitespace collapsed."""
    if value is None:
        return ""
    text = str(value)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: no journal can store it
        text = text.encode("utf-8", "replace").decode()
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Fold for search: no diacritics, no case ("Huyện Triệu Sơn" -> "huyen trieu son")."""
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


# A cell whose text starts with one of these is run as a formula by a
# spreadsheet (Excel, LibreOffice, Google Sheets): "=HYPERLINK(...)", "+1+2",
# "-2+3", "@SUM(...)", and a leading tab or carriage return that hides one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: object) -> bool:
    """True for text a spreadsheet would run (docs/protocol.md#spreadsheets)."""
    return isinstance(value, str) and value[:1] in FORMULA_STARTS


def defuse_csv(value: object) -> object:
    """A CSV cell of outside text, kept as text: a leading ``'`` before what a
    spreadsheet would run (``+84 912 345 678`` reads ``'+84 912 345 678``).
    Anything else, numbers included, is returned as is. Every CSV launchday
    writes goes through this; the XLSX workbooks type such cells as text."""
    return "'" + value if isinstance(value, str) and looks_like_formula(value) else value
