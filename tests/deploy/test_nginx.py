"""deploy/nginx.conf in front of three real ``launchday serve --redis``
processes on one test Redis, run by Debian's nginx (the config rewritten only
for ports and paths, see tests/services.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import connect as ws_connect

from checkin.client import PointClient
from server.io.limits import HEARTBEAT_S
from tests.services import LaunchdayProcess, Nginx, RedisServer
from tests.utils import ROOT, Api, timeout, tree_csv, wait_until

CONF = ROOT / "deploy" / "nginx.conf"
IMPORT_LIMIT = 5 * 1000 * 1000  # bytes; the import body limit (docs/protocol.md, Limits)
NGINX_DEFAULT_READ_TIMEOUT_S = 60.0


# -- the file itself -----------------------------------------------------------------


def _block(text: str, head: str) -> str:
    """The body of the first ``head { ... }`` block (nested braces counted)."""
    m = re.search(re.escape(head) + r"\s*\{", text)
    assert m, f"no {head!r} block in {CONF}"
    depth, i = 1, m.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]


def _directives(body: str, name: str) -> list[str]:
    code = "\n".join(line.split("#", 1)[0] for line in body.splitlines())
    return [v.strip() for v in re.findall(rf"(?m)^\s*{name}\s+([^;]*);", code)]


def _seconds(value: str) -> float:
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", value)
    assert m, value
    return int(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def _bytes(value: str) -> int:
    m = re.fullmatch(r"(\d+)([kKmMgG])?", value)
    assert m, value
    return int(m.group(1)) * {None: 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[
        (m.group(2) or "").lower() or None]


def _https_server(text: str) -> str:
    """The server block that serves the application (the one on 443; port 80 only redirects)."""
    for m in re.finditer(r"(?m)^\s*server\s*\{", text):
        body = _block(text[m.start():], "server")
        if re.search(r"(?m)^\s*listen\s+443\s+ssl;", body):
            return body
    raise AssertionError(f"no server block listening on 443 in {CONF}")


def test_websocket_location_upgrades_and_outlasts_the_heartbeat() -> None:
    ws = _block(CONF.read_text(), "location /ws/")
    assert _directives(ws, "proxy_http_version") == ["1.1"]
    headers = _directives(ws, "proxy_set_header")
    assert "Upgrade $http_upgrade" in headers and "Connection $connection_upgrade" in headers
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        (value,) = _directives(ws, name)
        # A live socket carries a ping every HEARTBEAT_S; the proxy must allow
        # several to be late (a busy process) before calling it idle, and more
        # than nginx's default, which would leave only three.
        assert _seconds(value) >= 3 * HEARTBEAT_S, (name, value)
        assert _seconds(value) > NGINX_DEFAULT_READ_TIMEOUT_S, (name, value)
    assert _directives(ws, "proxy_buffering") == ["off"]


def test_upstream_balances_and_checks_health() -> None:
    text = CONF.read_text()
    up = _block(text, "upstream launchday")
    assert re.search(r"(?m)^\s*least_conn;", up)
    assert _directives(up, "zone")  # connection counts and failures shared by all workers
    servers = _directives(up, "server")
    assert len(servers) == 3
    for server in servers:
        assert re.search(r"max_fails=\d+", server) and re.search(r"fail_timeout=\d+", server), server
    server_block = _https_server(text)
    (retry,) = _directives(server_block, "proxy_next_upstream")
    assert set(retry.split()) >= {"error", "timeout", "http_502", "http_503"}
    assert "non_idempotent" not in retry  # a POST that reached a process is never resent by nginx
    (body,) = _directives(server_block, "client_max_body_size")
    assert IMPORT_LIMIT <= _bytes(body) <= 2 * IMPORT_LIMIT
    # A location that sets any header inherits none: each must send the forwarding headers.
    for loc in ("location /ws/", "location /"):
        headers = _directives(_block(server_block, loc), "proxy_set_header")
        assert "Host $http_host" in headers, loc
        assert "X-Forwarded-For $proxy_add_x_forwarded_for" in headers, loc
        assert "X-Forwarded-Proto $scheme" in headers, loc


# -- real processes behind real nginx -------------------------------------------------------


@dataclass
class Cluster:
    nginx: Nginx
    backends: list[LaunchdayProcess]
    eid: str
    tokens: list[str]
    session: aiohttp.ClientSession

    @property
    def api(self) -> Api:
        return Api(self.nginx.url, self.session)

    def served_by(self) -> list[list[str]]:
        """Per request in nginx's access log: the upstream addresses tried, in order."""
        lines = (self.nginx.dir / "access.log").read_text().splitlines()
        return [re.split(r",\s*", m.group(1)) for line in lines
                if (m := re.search(r"upstream=(\S+(?:, \S+)*)", line))]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    redis = await RedisServer(tmp_path / "redis").astart()
    backends = [LaunchdayProcess(tmp_path / f"d{i}", redis_url=redis.url) for i in range(3)]
    try:
        for b in backends:
            await b.astart()
        async with Nginx(CONF, tmp_path / "nginx", upstream_ports=[b.port for b in backends]) as nginx, \
                aiohttp.ClientSession() as session:
            api = Api(nginx.url, session)
            direct = [Api(b.url, session) for b in backends]
            csv, n = tree_csv(1, 2, 0)
            # Each process learns of the event and the points from its tail of
            # the shared journal, a moment after the one that wrote them; the
            # next request may land on any process, so wait for all of them.
            eid = await api.event()
            await wait_until(lambda: _all_know(direct, eid), 10, "every process to know the event")
            await api.import_csv(eid, csv)
            await wait_until(lambda: _all_know(direct, eid, n), 10, "every process to know the points")
            tokens = [p["token"] for p in await api.points(eid)]
            yield Cluster(nginx, backends, eid, tokens, session)
    finally:
        for b in backends:
            b.kill()
        redis.kill()


async def _all_know(apis: list[Api], eid: str, points: int = 0) -> bool:
    for api in apis:
        status, body = await api.call("GET", f"/api/events/{eid}/totals")
        if status != 200 or body["points"] != points:
            return False
    return True


async def test_rest_and_a_point_socket_through_nginx(cluster: Cluster) -> None:
    async with cluster.session.get(cluster.nginx.url + "/healthz") as r:
        assert r.status == 200
    totals = await cluster.api.totals(cluster.eid)
    assert totals["points"] == len(cluster.tokens)
    url = f"{cluster.nginx.ws_url}/ws/point?token={cluster.tokens[0]}"
    async with ws_connect(url, ping_interval=None, compression=None) as ws:
        welcome = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
        assert welcome["type"] == "welcome" and welcome["point"]["code"] == "TH"
        # Frames both ways: a clock ping through the proxy...
        await ws.send(json.dumps({"type": "time.ping", "t0": 1.0}))
        pong = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
        assert pong["type"] == "time.pong" and pong["t0"] == 1.0
        # ... and WebSocket control frames (what the heartbeat is made of).
        await asyncio.wait_for(await ws.ping(), timeout(10))
        # A check-in through nginx is acknowledged...
        await ws.send(json.dumps({"type": "checkin", "id": "nginx-1", "attendees": 40}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), timeout(10)))
        assert ack == {**ack, "type": "ack", "id": "nginx-1"}
    # ... and every process, asked directly, counts it (one journal).
    for b in cluster.backends:
        api = Api(b.url, cluster.session)
        await wait_until(lambda api=api: _attendees(api, cluster.eid, 40), 5,
                         f"the check-in on the process at {b.url}")


async def _attendees(api: Api, eid: str, n: int) -> bool:
    return bool((await api.totals(eid))["attendees"] == n)


async def test_killing_a_backend_moves_rest_and_points_to_the_others(cluster: Cluster) -> None:
    # Three points through nginx: least_conn puts one on each process.
    clients = [PointClient(cluster.nginx.url, t, storm_window=0.5, backoff_base=0.05)
               for t in cluster.tokens[:3]]
    try:
        for c in clients:
            await c.start()
            await c.wait_connected(timeout(20))
        dead = cluster.backends[0]
        dead_addr = f"127.0.0.1:{dead.port}"
        dead.kill()
        # Every REST call still answers: nginx retries a refused connection on another process.
        for _ in range(12):
            totals = await cluster.api.totals(cluster.eid)
            assert "attendees" in totals
        tried = cluster.served_by()
        assert any(t[0] == dead_addr and len(t) > 1 and t[-1] != dead_addr for t in tried), tried
        # The point that was on the dead process reconnects through nginx to another.
        try:
            await wait_until(lambda: all(c.connected for c in clients) and
                             sum(len(c.connect_times) for c in clients) == 4, 20,
                             "the dead process's point (exactly one) to reconnect")
        except AssertionError as exc:
            states = [(c.state, len(c.connect_times)) for c in clients]
            raise AssertionError(f"{exc}; clients (state, connects): {states}; "
                                 f"nginx tried: {cluster.served_by()}") from None
        for i, c in enumerate(clients):
            ack = await asyncio.wait_for(c.checkin(10 + i), timeout(20))
            assert ack["type"] == "ack"
        for b in cluster.backends[1:]:
            api = Api(b.url, cluster.session)
            await wait_until(lambda api=api: _attendees(api, cluster.eid, 33), 5,
                             f"the three check-ins on the process at {b.url}")
    finally:
        for c in clients:
            await c.stop()


@pytest.mark.slow
@pytest.mark.timeout(200)
async def test_the_heartbeat_flows_through_nginx_past_its_default_timeout(cluster: Cluster) -> None:
    """No frame from the client for 70 s, only the answers to the server's
    heartbeat pings: each ping crosses nginx, and the tunnel outlives nginx's
    default 60 s read timeout."""
    url = f"{cluster.nginx.ws_url}/ws/point?token={cluster.tokens[0]}"
    pings = 0
    loop = asyncio.get_running_loop()
    async with cluster.session.ws_connect(url, autoping=False) as ws:
        assert json.loads((await ws.receive(timeout(10))).data)["type"] == "welcome"
        quiet_until = loop.time() + NGINX_DEFAULT_READ_TIMEOUT_S + 10
        while (left := quiet_until - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                msg = await ws.receive(timeout=left)
                assert msg.type == aiohttp.WSMsgType.PING, msg
                pings += 1
                await ws.pong(msg.data)
        assert pings >= int((NGINX_DEFAULT_READ_TIMEOUT_S + 10) // HEARTBEAT_S) - 1
        await ws.send_str(json.dumps({"type": "time.ping", "t0": 2.0}))
        pong = json.loads((await ws.receive(timeout(10))).data)
        assert pong["type"] == "time.pong"
