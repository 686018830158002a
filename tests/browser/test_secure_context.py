"""A point link over HTTPS through deploy/nginx.conf, in a real Chromium, and
the same page over plain HTTP on a public (non-loopback) address.

nginx runs the repository's TLS configuration with a certificate from a
throwaway CA (tests/tlsca.py). Chromium trusts that CA through its SPKI hash
(``--ignore-certificate-errors-spki-list``) and reaches the name the
certificate holds (``launch.test``) through ``--host-resolver-rules``; no
certificate error is ignored otherwise. Over HTTPS the page reports, read
from the page itself: ``isSecureContext``, the wake lock granted, the service
worker registered and active, and a reload without network served by it.

Over ``http://`` Chromium treats only loopback (and ``localhost``) as secure,
so the plain-HTTP page is opened on the machine's own non-loopback address
(``ip -4 addr``); a machine without one gets ``http://launch.test``, a name
mapped to loopback by the resolver rule, which Chromium does not treat as
secure either (the rule is about the URL, not the route). The page must say
plainly that the screen may sleep and it will not work offline, and the
console's pre-flight board (opened over HTTPS) counts that point.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright, expect

from server.core.labels_ui import CHECKIN, CONSOLE
from server.io.app import create_app
from server.io.http.auth import STORE_KEY
from tests.browser.conftest import ARGS, CHROMIUM, _require_chromium
from tests.browser.test_console import open_console
from tests.deploy.test_nginx import CONF
from tests.services import Nginx
from tests.tlsca import HOST, make_ca
from tests.utils import ADMIN, Api, timeout, tree_csv, wait_until

MS = 1000
INSECURE_VI = CHECKIN["insecure_warn"][0]


def public_address() -> str | None:
    """The machine's first non-loopback IPv4 address, if it has one."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True,
                         text=True, timeout=10, check=False).stdout
    found = re.findall(r"\sinet\s(\d+\.\d+\.\d+\.\d+)/", out)
    return found[0] if found else None


@dataclass
class Deployment:
    https: str  # through nginx with TLS
    http_public: str  # the same server, plain HTTP, on a non-loopback address
    app: web.Application
    eid: str
    token: str
    code: str


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    app = create_app(tmp_path / "data", token=ADMIN, trusted_proxies="127.0.0.1/32")
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()  # for nginx
    local_port = runner.addresses[0][1]
    public = public_address()
    if public is not None:
        await web.TCPSite(runner, public, 0).start()
        http_public = f"http://{public}:{runner.addresses[1][1]}"
    else:
        http_public = f"http://{HOST}:{local_port}"
    ca = make_ca(tmp_path / "ca")
    try:
        async with Nginx(CONF, tmp_path / "nginx", upstream_ports=[local_port], tls=ca.server) as nginx, \
                aiohttp.ClientSession() as session:
            api = Api(f"http://127.0.0.1:{local_port}", session)
            eid = await api.event()
            await api.import_csv(eid, tree_csv(1, 2, 0)[0])
            points = {p["code"]: p for p in await api.points(eid)}
            dep = Deployment(f"https://{HOST}:{nginx.port}", http_public, app, eid, points["D0-C0"]["token"], "D0-C0")
            dep.spki = ca.spki_sha256_b64  # type: ignore[attr-defined]
            dep.others = {c: p["token"] for c, p in points.items()}  # type: ignore[attr-defined]
            yield dep
    finally:
        await runner.cleanup()


@pytest.fixture
async def chromium(deployment: Deployment) -> AsyncIterator[Browser]:
    _require_chromium()
    args = [*ARGS, f"--ignore-certificate-errors-spki-list={deployment.spki}",  # type: ignore[attr-defined]
            f"--host-resolver-rules=MAP {HOST} 127.0.0.1"]
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield b
        finally:
            await b.close()


def _secure_of(dep: Deployment, code: str) -> Any:
    pres = dep.app[STORE_KEY].events[dep.eid].state.live.presence.get(code)
    return pres.secure if pres else None


async def test_over_https_the_page_is_secure_keeps_awake_and_reloads_offline(
        deployment: Deployment, chromium: Browser, artifacts: Path) -> None:
    """Catches: a certificate nginx does not serve or Chromium does not accept, a page that is not a
    secure context behind the TLS proxy (no wake lock, no service worker), a wss:// socket that does
    not come through, and a page that does not come back without network."""
    dep = deployment
    context = await chromium.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN")
    context.set_default_timeout(timeout(15) * MS)
    page = await context.new_page()
    response = await page.goto(f"{dep.https}/p/{dep.token}?display=1")
    assert response is not None and response.status == 200 and response.url.startswith("https://")
    assert response.headers.get("strict-transport-security") == "max-age=63072000"
    # Connected over wss:// through nginx, clock synced, wake lock granted.
    await page.wait_for_function("window.__launchday && window.__launchday.samples >= 5 "
                                 "&& window.__launchday.wake_lock === 'active'")
    await page.wait_for_function("window.__launchdayOfflineReady === true")
    report = await page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.getRegistration('/p/');
        return {secure: isSecureContext, protocol: location.protocol,
                wake_lock: window.__launchday.wake_lock,
                sw_scope: reg ? new URL(reg.scope).pathname : null,
                sw_state: reg && reg.active ? reg.active.state : null,
                banner_hidden: document.querySelector('.d-insecure').hidden};
    }""")
    print(f"\nChromium over HTTPS reported: {report}")
    assert report == {"secure": True, "protocol": "https:", "wake_lock": "active", "sw_scope": "/p/",
                      "sw_state": "activated", "banner_hidden": True}
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    # The server learnt from the page's time.sync that it is secure.
    await wait_until(lambda: _secure_of(dep, dep.code) is True, 10, "the page's time.sync saying secure")
    # Without network, a reload comes from the service worker's cache: the page, not Chromium's error.
    await context.set_offline(True)
    await page.reload()
    await page.wait_for_function("document.querySelector('#display .disp') !== null")
    offline = await page.evaluate("""() => ({online: navigator.onLine, secure: isSecureContext,
        controlled: navigator.serviceWorker.controller !== null,
        event: document.querySelector('#display .d-event').textContent})""")
    print(f"Chromium after the offline reload: {offline}")
    assert offline["online"] is False and offline["controlled"] is True and offline["secure"] is True
    await page.screenshot(path=str(artifacts / "secure-display-offline.png"))
    await context.close()


async def test_over_plain_http_on_a_public_address_the_pages_say_so(
        deployment: Deployment, chromium: Browser, artifacts: Path) -> None:
    """Catches: a page over http:// that stays silent while the browser denies it the wake lock and the
    offline copy, and a console that does not count such points before the launch."""
    dep = deployment
    context = await chromium.new_context(viewport={"width": 360, "height": 760}, locale="vi-VN")
    context.set_default_timeout(timeout(15) * MS)
    page = await context.new_page()
    await page.goto(f"{dep.http_public}/p/{dep.token}")
    facts = await page.evaluate("() => ({secure: isSecureContext, wake: 'wakeLock' in navigator, "
                                "sw: 'serviceWorker' in navigator})")
    print(f"\nChromium over {dep.http_public}: {facts}")
    assert facts == {"secure": False, "wake": False, "sw": False}
    await expect(page.locator("#insecure")).to_be_visible()
    await expect(page.locator("#insecure")).to_have_text(INSECURE_VI)
    await page.screenshot(path=str(artifacts / "point-360-insecure.png"), full_page=True)
    await page.click("#lang")
    await expect(page.locator("#insecure")).to_have_text(CHECKIN["insecure_warn"][1])
    # The projector view of another point, and the hall, say it too.
    other = dep.others["D0-C1"]  # type: ignore[attr-defined]
    display = await context.new_page()
    await display.goto(f"{dep.http_public}/p/{other}?display=1&lang=vi")
    await expect(display.locator(".d-insecure")).to_be_visible()
    await expect(display.locator(".d-insecure")).to_have_text(INSECURE_VI)
    assert await display.evaluate("window.__launchday.wake_lock") == "unsupported"
    hall = await context.new_page()
    await hall.goto(f"{dep.http_public}/hall?event={dep.eid}&lang=vi")
    await expect(hall.locator(".d-insecure")).to_have_text(INSECURE_VI)
    # Each page told the server in its time.sync; the pre-flight board counts the two points.
    for code in ("D0-C0", "D0-C1"):
        await wait_until(lambda code=code: _secure_of(dep, code) is False, 10, f"{code}'s time.sync saying insecure")
    console, cpage = await open_console(chromium, dep.https, ADMIN, dep.eid)
    row = cpage.locator("#preflight [data-check=insecure]")
    await expect(row.locator("b")).to_have_text("2")
    label = CONSOLE["pf.insecure_detail"][0].format(n=2)
    await expect(row.locator("small")).to_have_text(label)
    await expect(row).to_have_class(re.compile(r"\bwarn\b"))
    await cpage.screenshot(path=str(artifacts / "console-preflight-insecure.png"), full_page=True)
    await console.close()
    await context.close()
