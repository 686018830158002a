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
