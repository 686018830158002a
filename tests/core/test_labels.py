"""One source of words (server/core/labels.py): every surface says the same.

The Python surfaces (reports, link sheet) must use the module's own tables;
the browser surfaces load them as /static/labels.js (checked in a browser in
tests/browser/test_labels.py). Here: the tables are complete, the served
module is the tables, and no file of any surface calls the launch by the
word for starting a machine.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from server.core import facts as f
from server.core import labels, report_render, report_xlsx
from server.io.http import links

ROOT = Path(__file__).resolve().parents[2]
# The banned word is spelled in pieces so this file does not contain it.
WRONG = "khởi " + "động"


def test_the_tables_are_complete_in_both_languages() -> None:
    for lang in labels.LANGS:
        assert set(labels.LEVELS[lang]) == set(f.LEVELS)
        assert set(labels.INCIDENT_KINDS[lang]) == set(f.INCIDENT_KINDS)
        assert set(labels.LAUNCH_STATES[lang]) == {"idle", "armed", "countdown", "fired", "aborted"}
        assert set(labels.STATUSES[lang]) == {"pending", "checked_in", "online", "offline", "incident"}
    assert labels.LAUNCH_WORD["vi"] == "phát động"
    assert "phát động" in labels.LAUNCH_STATES["vi"]["fired"]
    assert "phát động" in labels.LAUNCH_TITLE["vi"]


def test_python_surfaces_use_the_tables() -> None:
    assert links.LEVEL_VI is labels.LEVELS["vi"]
    assert report_render.LEVEL_VI is labels.LEVELS["vi"]
    assert report_render.KIND_VI is labels.INCIDENT_KINDS["vi"]
    assert report_render.LAUNCH_STATE_VI is labels.LAUNCH_STATES["vi"]
    assert report_xlsx.LEVEL_VI is labels.LEVELS["vi"]


def test_the_served_module_is_the_tables() -> None:
    text = labels.labels_js()
    match = re.fullmatch(r"//[^\n]*\nexport const LABELS = (.*);\n", text, re.S)
    assert match, text[:200]
    assert json.loads(match.group(1)) == labels.all_labels()


SURFACES = ["server", "checkin", "console", "docs", "tests", "loadtest", "README.md"]


@pytest.mark.parametrize("where", SURFACES)
def test_no_surface_says_the_wrong_word(where: str) -> None:
    base = ROOT / where
    files = [base] if base.is_file() else [p for p in base.rglob("*") if p.suffix in {".py", ".js", ".html", ".md",
                                                                                     ".css", ".csv"}]
    bad = [str(p.relative_to(ROOT)) for p in files
           if p != ROOT / "server/core/labels.py" and WRONG in unicodedata.normalize("NFC", p.read_text(encoding="utf-8")).lower()]
    assert bad == []


@pytest.mark.parametrize("path", ["checkin/web/i18n.js", "console/web/js/i18n.js", "console/web/js/keyholder.js"])
def test_browser_dictionaries_do_not_spell_the_shared_words_themselves(path: str) -> None:
    """A level name, kind or launch state written into a page's own dictionary
    would drift from the shared one: they must come from labels.js."""
    text = (ROOT / path).read_text(encoding="utf-8")
    assert "labels.js" in text
    literals = set(re.findall(r"""['"]([^'"\n]+)['"]""", text))
    shared = {w for lang in labels.LANGS for table in (labels.LEVELS, labels.LAUNCH_STATES)
              for w in table[lang].values()}
    # "Khác"/"Other" and the like also name other things; the multi-word names may not appear.
    assert {w for w in shared if " " in w or "," in w} & literals == set()


# -- one catalog, whole in both languages ---------------------------------------------

PLACEHOLDER = re.compile(r"\{(\w*)[^}]*\}")


def _leaves(tree: Any, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """Every leaf of a nested dictionary, by its path of keys."""
    if isinstance(tree, dict):
        out: dict[tuple[str, ...], Any] = {}
        for key, value in tree.items():
            out.update(_leaves(value, (*path, key)))
        return out
    return {path: tree}


def test_every_word_of_the_catalog_is_in_both_languages() -> None:
    """Catches a word added (or renamed) in one language only: the page would
    show its bare key, or fall back to the other language, in the missing one.
    Walks the whole catalog (shared words, every page's own, the printed report
    and link sheet, the import's row errors), nested."""
    whole = labels.catalog()
    assert set(whole) == set(labels.LANGS)
    leaves = {lang: _leaves(whole[lang]) for lang in labels.LANGS}
    vi, en = set(leaves["vi"]), set(leaves["en"])
    assert sorted(".".join(p) for p in vi - en) == [], "in Vietnamese only"
    assert sorted(".".join(p) for p in en - vi) == [], "in English only"
    empty = [".".join(p) for lang in labels.LANGS for p, text in leaves[lang].items()
             if not isinstance(text, str) or not text.strip()]
    assert empty == []


def test_both_languages_fill_the_same_placeholders() -> None:
    """Catches a translation that drops or misspells a ``{name}`` the code fills:
    the value would be missing (or the raw braces shown) in that language."""
    leaves = {lang: _leaves(labels.catalog()[lang]) for lang in labels.LANGS}

    def names(text: str) -> list[str]:  # the row errors name a column as {column_vi} in Vietnamese
        return sorted(name.removesuffix("_vi") for name in PLACEHOLDER.findall(text))

    differ = {".".join(p): (text, leaves["en"][p]) for p, text in leaves["vi"].items()
              if names(text) != names(leaves["en"][p])}
    assert differ == {}


def test_the_pages_get_every_page_word() -> None:
    """Catches a page's words left out of the served module (the page would show keys)."""
    served = labels.all_labels()
    for lang in labels.LANGS:
        assert served[lang]["console"] == labels.CONSOLE[lang]
        assert served[lang]["checkin"] == labels.CHECKIN[lang]
        assert served[lang]["keyholder"] == labels.KEYHOLDER[lang]
        assert served[lang]["agenda_states"] == labels.AGENDA_STATES[lang]


# -- no page script keeps its own words --------------------------------------------------

# Letters only Vietnamese uses (with its tone marks): any of them in a string
# literal is a Vietnamese word written into the script.
VI_LETTERS = re.compile("[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9àáãèéìíòóõùúýỳÀÁÃÈÉÌÍÒÓÕÙÚÝỲ]")
# (file, literal) kept on purpose, each with its reason. None today: the two
# Vietnamese-aware parsers (programme.js reads "15 phút", util.js folds đ to d)
# use regular expressions, not string literals.
ALLOWED: set[tuple[str, str]] = set()


def js_strings(source: str) -> list[str]:
    """The string and template literals of a script, comments and regular
    expressions skipped (a small tokenizer: enough for the pages' scripts)."""
    out: list[str] = []
    i, n = 0, len(source)
    last = ""  # the last significant character, to tell a regex from a division
    while i < n:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c in "'\"`":
            j = i + 1
            while j < n and source[j] != c:
                j += 2 if source[j] == "\\" else 1
            out.append(source[i + 1:j])
            i, last = j + 1, c
        elif c == "/" and (last == "" or last in "(,=:[!&|?{};+-*%<>~^" or source[:i].rstrip().endswith("return")):
            j, in_class = i + 1, False
            while j < n and (in_class or source[j] != "/") and source[j] != "\n":
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            i, last = j + 1, "/"
        else:
            if not c.isspace():
                last = c
            i += 1
    return out


def test_the_tokenizer_finds_strings_and_skips_comments_and_regexes() -> None:
    src = """// Xin chào
const a = 'một', b = "hai" /* ba */, c = `bốn ${x}`; const r = /phút|đ/g; x = 4 / 2 / 1;"""
    assert js_strings(src) == ["một", "hai", "bốn ${x}"]


PAGE_SCRIPTS = sorted([*(ROOT / "console/web").rglob("*.js"), *(ROOT / "checkin/web").rglob("*.js")])


@pytest.mark.parametrize("path", PAGE_SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_script_keeps_its_own_vietnamese_words(path: Path) -> None:
    """Catches a dictionary of words (or a lone Vietnamese message) written into
    a page's script instead of server/core/labels_ui.py: it would drift from the
    catalog, miss its English, and escape the both-languages test above."""
    name = str(path.relative_to(ROOT))
    found = [s for s in js_strings(path.read_text(encoding="utf-8"))
             if VI_LETTERS.search(unicodedata.normalize("NFC", s)) and (name, s) not in ALLOWED]
    assert found == []


def test_the_python_surfaces_print_the_catalog_words() -> None:
    """Catches a printed word written inline again in the report or the link sheet."""
    assert report_render.W is labels.REPORT["vi"]
    assert links.W is labels.LINKS["vi"]
    assert links.NO_DISTRICT == labels.LINKS["vi"]["no_district"]
    for path in ("server/core/report_render.py", "server/core/report_xlsx.py", "server/core/report_snapshots.py",
                 "server/io/http/links.py"):
        code = re.sub(r'"""(?:.|\n)*?"""', "", (ROOT / path).read_text(encoding="utf-8"))  # docstrings may quote
        code = "\n".join(line.split("#", 1)[0] for line in code.splitlines())
        assert not VI_LETTERS.search(code), path
