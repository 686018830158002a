#!/usr/bin/env python3
"""Take docs/screenshots/map.png: the console's Map tab on the demo.

Starts ``launchday demo --simulate`` (Thanh Hóa today: 1,000 points, grouped
by commune) on a free port with a fresh data directory, waits until part of
the morning has checked in (a mix of grey, amber, green and red lights), then
opens the console at 1440×900 in Chromium (Playwright) and screenshots the
Map tab. The PNG is kept small (a palette PNG, under 300 KB).

    python scripts/map_screenshot.py [--out docs/screenshots/map.png] [--speed 90] [--share 0.6]
      [--national]    # the whole country (one cell per unit), for a look; not the README's picture
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def totals(base: str, token: str, eid: str) -> dict[str, int]:
    req = urllib.request.Request(f"{base}/api/events/{eid}/totals", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


async def shoot(base: str, token: str, eid: str, out: Path) -> None:
    async with async_playwright() as pw:
        chromium = os.environ.get("LAUNCHDAY_CHROMIUM") or shutil.which("chromium")
        browser = await pw.chromium.launch(executable_path=chromium) if chromium else await pw.chromium.launch()
        page = await browser.new_page(viewport={"width": 1440, "height": 900}, locale="vi-VN",
                                      timezone_id="Asia/Ho_Chi_Minh")
        await page.goto(f"{base}/console/?event={eid}")
        await page.fill("#login-token", token)
        await page.click("#login-form button[type=submit]")
        await page.wait_for_function("document.querySelector('#conn').dataset.state === 'live'")
        await page.click("nav a[data-view=map]")
        await page.wait_for_function("Number(document.querySelector('#view-map').dataset.cells || 0) > 0"
                                     " || document.querySelector('#view-map').dataset.mode === 'groups'")
        await page.wait_for_timeout(500)
        await page.evaluate("document.getElementById('toasts')?.remove()")
        raw = out.with_suffix(".raw.png")
        await page.screenshot(path=str(raw))
        await browser.close()
    try:  # a palette PNG: a fifth of the bytes, the same picture for flat colours
        from PIL import Image

        Image.open(raw).convert("RGB").quantize(colors=256).save(out, optimize=True)
        raw.unlink()
    except ImportError:
        raw.replace(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "map.png")
    ap.add_argument("--speed", type=float, default=90.0)
    ap.add_argument("--share", type=float, default=0.6, help="shoot once this share of points has checked in")
    ap.add_argument("--national", action="store_true")
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        cmd = [sys.executable, "-c", "from server.io.cli import main; main()", "demo", "--simulate", "--speed", str(args.speed), "--port", str(port),
               "--data", data]
        if args.national:
            cmd.append("--national")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            token = eid = None
            assert proc.stdout is not None
            for line in proc.stdout:
                if m := re.search(r"admin token:\s+(\S+)", line):
                    token = m.group(1)
                if m := re.search(r"event:\s+(\S+)", line):
                    eid = m.group(1)
                if token and eid:
                    break
            if not (token and eid):
                print("the demo did not start", file=sys.stderr)
                return 1
            threading_drain(proc)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    t = totals(base, token, eid)
                except OSError:  # not listening yet
                    time.sleep(0.5)
                    continue
                if t["points"] and t["checked_in"] >= args.share * t["points"]:
                    break
                time.sleep(1)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            asyncio.run(shoot(base, token, eid, args.out))
            print(f"{args.out}: {args.out.stat().st_size:,} bytes")
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


def threading_drain(proc: subprocess.Popen[str]) -> None:
    """Keep reading the demo's output so that its pipe never fills."""
    import threading

    def drain() -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
