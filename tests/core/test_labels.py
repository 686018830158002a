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


@pytest.mark.parametrize("path", ["checkin/web/i18n.js", "console/web/js/i18n.js"])
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
