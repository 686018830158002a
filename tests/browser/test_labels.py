"""The point page, the hall and the console take their level names, incident
kinds and launch words from /static/labels.js (server/core/labels.py): the
dictionaries the pages really use, read in the browser, give the shared words."""

from __future__ import annotations

from typing import Any

from server.core import labels
from tests.utils import Api, timeout, tree_csv

MS = 1000

CHECKIN = """async () => {
  const m = await import('/static/checkin/i18n.js');
  const out = {};
  for (const lang of ['vi', 'en']) {
    m.setLang(lang);
    out[lang] = {levels: {}, kinds: {}, states: {}, burst: m.t('burst')};
    for (const k of %(levels)s) out[lang].levels[k] = m.t(k);
    for (const k of %(kinds)s) out[lang].kinds[k] = m.t('k_' + k);
    for (const k of %(states)s) out[lang].states[k] = m.t('l_' + k);
  }
  m.setLang('vi');
  return out;
}"""

CONSOLE = """async () => {
  const m = await import('/static/console/js/i18n.js');
  const out = {};
  for (const lang of ['vi', 'en']) {
    m.setLang(lang);
    out[lang] = {levels: {}, kinds: {}, states: {}, title: m.t('launch.title')};
    for (const k of %(levels)s) out[lang].levels[k] = m.t('level.' + k);
    for (const k of %(kinds)s) out[lang].kinds[k] = m.t('kind.' + k);
    for (const k of %(states)s) out[lang].states[k] = m.t('launch.state.' + k);
  }
  m.setLang('vi');
  return out;
}"""


def _script(template: str) -> str:
    return template % {"levels": list(labels.LEVELS["vi"]), "kinds": list(labels.INCIDENT_KINDS["vi"]),
                       "states": list(labels.LAUNCH_STATES["vi"])}


async def test_every_page_uses_the_shared_words(server: Any, browser: Any) -> None:
    api: Api = server.api
    eid = await api.event()
    await api.import_csv(eid, tree_csv(1, 1, 0)[0])
    token = next(p["token"] for p in await api.points(eid) if p["level"] == "commune")
    context = await browser.new_context(locale="vi-VN")
    context.set_default_timeout(timeout(10) * MS)
    page = await context.new_page()

    for url, script in ((f"/p/{token}", CHECKIN), (f"/hall?event={eid}", CHECKIN), ("/console/", CONSOLE)):
        await page.goto(server.base + url)
        got = await page.evaluate(_script(script))
        for lang in labels.LANGS:
            assert got[lang]["levels"] == labels.LEVELS[lang], (url, lang)
            assert got[lang]["kinds"] == labels.INCIDENT_KINDS[lang], (url, lang)
            assert got[lang]["states"] == labels.LAUNCH_STATES[lang], (url, lang)
        if script is CHECKIN:
            assert got["vi"]["burst"] == "PHÁT ĐỘNG"
        else:
            assert got["vi"]["title"] == labels.LAUNCH_TITLE["vi"]

    # What the point page shows: its level in the shared words.
    await page.goto(f"{server.base}/p/{token}")
    await page.wait_for_function(
        f"document.querySelector('#where').textContent.startsWith({labels.LEVELS['vi']['commune']!r})")
    await context.close()
