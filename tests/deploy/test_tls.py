"""HTTPS in deploy/nginx.conf, for real: Debian's nginx runs the repository's
TLS configuration with a certificate from a throwaway CA that ``openssl``
makes (tests/tlsca.py), in front of a real ``launchday serve`` that trusts it
as its proxy; ``curl`` checks the redirect, HSTS, the Secure session cookie
and a WebSocket upgrade over TLS. Missing nginx, openssl or curl fail the
test (scripts/setup.sh installs them)."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.deploy.test_nginx import CONF, _block, _directives
from tests.services import LaunchdayProcess, Nginx
from tests.tlsca import HOST, ThrowawayCA, make_ca
from tests.utils import ADMIN, Api, timeout, tree_csv

YEAR_S = 365 * 24 * 3600


def _server_with(text: str, listen: str) -> str:
    """The body of the ``server`` block that has ``listen <listen>;``."""
    for m in re.finditer(r"(?m)^\s*server\s*\{", text):
        body = _block(text[m.start():], "server")
        if re.search(rf"(?m)^\s*listen\s+{re.escape(listen)};", body):
            return body
    raise AssertionError(f"no server block listening on {listen!r} in {CONF}")


# -- the file itself -----------------------------------------------------------------


def test_plain_http_only_redirects_to_https_and_answers_acme() -> None:
    """Catches: an http:// page served as is (no wake lock, no offline copy, cookies in clear), or a
    redirect that loses the path, or certbot's challenge redirected away."""
    text = CONF.read_text()
    http = _server_with(text, "80")
    assert _directives(http, "proxy_pass") == []  # nothing of the application over plain HTTP
    assert _directives(_block(http, "location /"), "return") == ["301 https://$host$request_uri"]
    acme = _block(http, "location /.well-known/acme-challenge/")
    assert _directives(acme, "root") == ["/var/www/acme"]


def test_https_server_has_current_tls_settings_and_hsts() -> None:
    """Catches: TLS 1.0/1.1 or CBC suites left on, session tickets on, or HSTS missing/short."""
    https = _server_with(CONF.read_text(), "443 ssl")
    assert _directives(https, "ssl_protocols") == ["TLSv1.2 TLSv1.3"]
    (ciphers,) = _directives(https, "ssl_ciphers")
    assert all(("GCM" in c or "CHACHA20" in c) and c.startswith(("ECDHE", "DHE")) for c in ciphers.split(":"))
    assert _directives(https, "ssl_session_tickets") == ["off"]
    assert _directives(https, "ssl_certificate") == ["/etc/nginx/certs/fullchain.pem"]
    assert _directives(https, "ssl_certificate_key") == ["/etc/nginx/certs/privkey.pem"]
    (hsts,) = [h for h in _directives(https, "add_header") if h.startswith("Strict-Transport-Security")]
    m = re.search(r'"max-age=(\d+)[^"]*"\s+always$', hsts)
    assert m and int(m.group(1)) >= YEAR_S, hsts
    # The application is served only here, and both locations are inside it.
    assert "location /ws/" in https and _directives(_block(https, "location /"), "proxy_pass")


# -- real nginx with TLS, in front of a real process ----------------------------------


@dataclass
class Site:
    nginx: Nginx
    backend: LaunchdayProcess
    ca: ThrowawayCA
    token: str  # a point's

    def curl(self, *args: str) -> list[str]:
        exe = shutil.which("curl")
        if exe is None:
            raise AssertionError("curl not found: run scripts/setup.sh (make setup)")
        return [exe, "-sS", "--cacert", str(self.ca.ca_cert), "--resolve", f"{HOST}:{self.nginx.port}:127.0.0.1",
                "--max-time", str(int(timeout(10))), *args]

    @property
    def https(self) -> str:
        return f"https://{HOST}:{self.nginx.port}"


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    ca = make_ca(tmp_path / "ca")
    backend = LaunchdayProcess(tmp_path / "d", extra_args=["--trusted-proxy", "127.0.0.1/32"])
    async with backend, Nginx(CONF, tmp_path / "nginx", upstream_ports=[backend.port], tls=ca.server) as nginx, \
            aiohttp.ClientSession() as session:
        api = Api(backend.url, session)
        eid = await api.event()
        await api.import_csv(eid, tree_csv(1, 1, 0)[0])
        (point,) = [p for p in await api.points(eid) if p["code"] == "D0-C0"]
        yield Site(nginx, backend, ca, point["token"])


async def _run(argv: list[str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout(20))
    return proc.returncode or 0, out.decode(errors="replace")


def _headers(out: str) -> dict[str, str]:
    """The last response's headers (curl -D -), names lower-cased."""
    blocks = [b for b in re.split(r"\r?\n\r?\n", out) if b.startswith("HTTP/")]
    head = blocks[-1]
    lines = head.splitlines()
    found = {"status": lines[0].split()[1]}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return found


async def test_redirect_hsts_cookie_and_websocket_over_tls_with_curl(site: Site) -> None:
    """Catches: plain HTTP not redirected (or to the wrong place), HSTS missing, the certificate not
    served or not valid for the name, the session cookie without Secure behind the proxy, and a
    WebSocket that does not upgrade through TLS."""
    # 1. http:// -> 301 to the same path on https:// (the browser then uses port 443).
    code, out = await _run(site.curl("-o", "/dev/null", "-D", "-", "-H", f"Host: {HOST}",
                                     f"http://127.0.0.1:{site.nginx.http_port}/p/{site.token}?display=1"))
    assert code == 0, out
    h = _headers(out)
    assert h["status"] == "301" and h["location"] == f"https://{HOST}/p/{site.token}?display=1", h
    # 2. https:// verifies against the CA (no -k), answers, and carries HSTS, on success and on errors.
    for path, status in ((f"/p/{site.token}", "200"), ("/healthz", "200"), ("/api/events", "401")):
        code, out = await _run(site.curl("-o", "/dev/null", "-D", "-", site.https + path))
        assert code == 0, out
        h = _headers(out)
        assert h["status"] == status, (path, h)
        assert h["strict-transport-security"] == "max-age=63072000", (path, h)
    # TLS 1.3 and 1.2 (older phones) are both spoken.
    for flags in (["--tlsv1.3"], ["--tlsv1.2", "--tls-max", "1.2"]):
        code, out = await _run(site.curl(*flags, "-o", "/dev/null", "-w", "%{http_code}", site.https + "/healthz"))
        assert (code, out) == (0, "200"), (flags, out)
    # 3. Login over HTTPS through the proxy: the cookie is Secure (X-Forwarded-Proto believed from nginx).
    code, out = await _run(site.curl("-o", "/dev/null", "-D", "-", "-H", "Content-Type: application/json",
                                     "--data", f'{{"token": "{ADMIN}"}}', site.https + "/api/session"))
    cookie = _headers(out)["set-cookie"].lower()
    assert cookie.startswith("launchday_session=") and "; secure" in cookie, cookie
    # 4. A WebSocket upgrade over TLS: 101, then the server's welcome frame comes through.
    argv = site.curl("-N", "-i", "--http1.1", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                     "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                     f"{site.https}/ws/point?token={site.token}")
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    got = b""
    try:
        assert proc.stdout is not None
        while b'"type":"welcome"' not in got.replace(b" ", b""):
            chunk = await asyncio.wait_for(proc.stdout.read(65536), timeout(10))
            assert chunk, f"curl ended before the welcome frame:\n{got!r}"
            got += chunk
    finally:
        proc.kill()
        await proc.wait()
    head = got.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 101"), head
    assert re.search(r"(?im)^upgrade:\s*websocket", head) and re.search(r"(?im)^connection:\s*upgrade", head)
    assert re.search(r"(?im)^sec-websocket-accept:\s*s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=", head), head
