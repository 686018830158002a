"""``launchday event export/import``: one event moved whole between stores
(docs/protocol.md, "Moving an event"), on real ``launchday serve`` processes,
a real redis-server, and the CLI as a subprocess.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest

from tests.services import LaunchdayProcess, RedisServer
from tests.utils import ROOT, Api, timeout, tree_csv, wait_until

PUBLIC = "https://launch.example.vn"  # the same public address on both servers: printed links stay valid
ENV = {"LAUNCHDAY_PUBLIC_URL": PUBLIC}


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "server.io.cli", *args], cwd=ROOT, capture_output=True,
                          timeout=timeout(60), stdin=subprocess.DEVNULL)


async def acli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return await asyncio.to_thread(cli, *args)


async def links(api: Api, eid: str) -> dict[str, str]:
    status, body = await api.call("GET", f"/api/events/{eid}/links.csv")
    assert status == 200
    return {row["code"]: row["url"] for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}


async def setup(api: Api, ws_url: str) -> tuple[str, list[dict[str, Any]]]:
    """An event with points, an agenda, a key holder and two check-ins."""
    eid = await api.event()
    await api.import_csv(eid, tree_csv(2, 3, 1)[0])
    await api.call("PUT", f"/api/events/{eid}/agenda", 200,
                   json={"items": [{"title": "Khai mạc", "speaker": "MC", "location": None, "planned_s": 60}]})
    await api.call("POST", f"/api/events/{eid}/keyholders", 201, json={"name": "Chủ tịch UBND tỉnh"})
    points = await api.points(eid)
    async with aiohttp.ClientSession() as s:
        for i, p in enumerate(points[:2]):
            async with s.ws_connect(f"{ws_url}/ws/point?token={p['token']}") as ws:
                assert (await ws.receive_json())["type"] == "welcome"
                await ws.send_json({"type": "checkin", "id": f"c{i}", "attendees": 7})
                assert (await ws.receive_json())["type"] == "ack"
    return eid, points


async def same_setup(a: Api, b: Api, eid_a: str, eid_b: str) -> None:
    pa, pb = await a.points(eid_a), await b.points(eid_b)
    key = lambda p: (p["code"], p["name"], p["token"], p["parent"], p["expected"])  # noqa: E731
    assert sorted(map(key, pa)) == sorted(map(key, pb))
    agenda = [await api.call("GET", f"/api/events/{e}/agenda", 200) for api, e in ((a, eid_a), (b, eid_b))]
    assert agenda[0]["items"] == agenda[1]["items"]
    holders = [await api.call("GET", f"/api/events/{e}/keyholders", 200) for api, e in ((a, eid_a), (b, eid_b))]
    assert orjson.dumps(holders[0]) == orjson.dumps(holders[1])


async def link_opens(url: str, server: LaunchdayProcess) -> None:
    """A printed link (/p/<token>) from the first server opens its point on ``server``."""
    path = urlsplit(url).path
    token = path.rsplit("/", 1)[-1]
    async with aiohttp.ClientSession() as s:
        async with s.get(server.url + path) as r:
            assert r.status == 200, path
        async with s.ws_connect(f"{server.ws_url}/ws/point?token={token}") as ws:
            assert (await ws.receive_json())["type"] == "welcome"


@pytest.mark.timeout(180)
async def test_round_trip_sqlite_to_redis_and_back(tmp_path: Path) -> None:
    """Catches: an export that loses points, tokens, agenda or key holders; an
    import a running Redis cluster does not pick up without a restart; printed
    links that stop working after the move; facts lost in either direction."""
    redis = RedisServer(tmp_path / "redis").start()
    one = LaunchdayProcess(tmp_path / "one", env=ENV).start()
    two = LaunchdayProcess(tmp_path / "two", redis_url=redis.url, env=ENV).start()
    three: LaunchdayProcess | None = None
    try:
        async with aiohttp.ClientSession() as session:
            a, b = Api(one.url, session), Api(two.url, session)
            eid, points = await setup(a, one.ws_url)
            # Exported while server one runs on its data directory.
            setup_file, full_file = tmp_path / "setup.jsonl", tmp_path / "full.jsonl"
            r = await acli("event", "export", eid, "--data", str(one.data), "-o", str(setup_file))
            assert r.returncode == 0, r.stderr
            header = orjson.loads(setup_file.read_bytes().split(b"\n", 1)[0])
            assert (header["format"], header["version"], header["event_id"]) == ("launchday-event", 1, eid)
            assert header["counts"]["points"] == len(points) and header["counts"]["keyholders"] == 1
            body = setup_file.read_text()
            assert "point.checked_in" not in body  # the setup only
            r = await acli("event", "export", eid, "--data", str(one.data), "--with-facts")
            assert r.returncode == 0, r.stderr
            full_file.write_bytes(r.stdout)
            assert b"point.checked_in" in r.stdout

            # SQLite -> Redis, with the processes on it running: picked up without a restart.
            r = await acli("event", "import", str(full_file), "--redis", redis.url)
            assert r.returncode == 0, r.stderr
            await wait_until(lambda: _has(b, eid), 10, "the running Redis process to pick the event up")
            await same_setup(a, b, eid, eid)
            t1, t2 = await a.totals(eid), await b.totals(eid)
            assert (t2["points"], t2["checked_in"], t2["attendees"]) == (t1["points"], 2, 14)
            printed = await links(a, eid)
            assert await links(b, eid) == printed  # the same URLs, so the same QR codes
            await link_opens(printed[points[-1]["code"]], two)

            # Again: refused, nothing changed.
            r = await acli("event", "import", str(full_file), "--redis", redis.url)
            assert r.returncode == 2 and b"event_exists" in r.stderr
            # A stopped-store import into SQLite while its server runs: refused, coded.
            r = await acli("event", "import", str(setup_file), "--data", str(one.data), "--as-new")
            assert r.returncode == 2 and b"journal_busy" in r.stderr

            # Redis -> SQLite (exported while the Redis processes run), into a stopped data directory.
            r = await acli("event", "export", eid, "--redis", redis.url, "--with-facts", "-o", str(full_file))
            assert r.returncode == 0, r.stderr
            r = await acli("event", "import", str(full_file), "--data", str(tmp_path / "three"))
            assert r.returncode == 0, r.stderr
            three = LaunchdayProcess(tmp_path / "three", env=ENV).start()
            c = Api(three.url, session)
            await same_setup(a, c, eid, eid)
            t3 = await c.totals(eid)
            assert (t3["points"], t3["checked_in"], t3["attendees"]) == (t1["points"], 2, 14)
            await link_opens(printed[points[0]["code"]], three)

            # Deleted on the Redis cluster, then brought back under a new id with its tokens.
            await b.call("DELETE", f"/api/events/{eid}", 204)
            r = await acli("event", "import", str(setup_file), "--redis", redis.url)
            assert r.returncode == 2 and b"event_exists" in r.stderr
            r = await acli("event", "import", str(setup_file), "--redis", redis.url, "--as-new")
            assert r.returncode == 0, r.stderr
            new_id = r.stdout.decode().split()[1].rstrip(":")
            assert new_id != eid
            await wait_until(lambda: _has(b, new_id), 10, "the event under its new id")
            await same_setup(a, b, eid, new_id)
            assert (await b.totals(new_id))["checked_in"] == 0  # the setup only
            await link_opens(printed[points[1]["code"]], two)
            # Its tokens are live again: a second copy is refused.
            r = await acli("event", "import", str(setup_file), "--redis", redis.url, "--as-new")
            assert r.returncode == 2 and b"token_in_use" in r.stderr
    finally:
        for p in (one, two, three):
            if p is not None:
                p.kill()
        redis.kill()


async def _has(api: Api, eid: str) -> bool:
    status, _ = await api.call("GET", f"/api/events/{eid}/totals")
    return bool(status == 200)


def _forge(data: bytes, **header: Any) -> bytes:
    head, body = data.split(b"\n", 1)
    h = {**orjson.loads(head), **header}
    return orjson.dumps(h) + b"\n" + body


@pytest.mark.timeout(120)
async def test_bad_files_are_refused_and_change_nothing(tmp_path: Path) -> None:
    """Catches: a truncated, tampered, foreign-version or foreign file being
    loaded (even in part) instead of refused with its code and exit 2."""
    one = LaunchdayProcess(tmp_path / "one").start()
    try:
        async with aiohttp.ClientSession() as session:
            eid, _ = await setup(Api(one.url, session), one.ws_url)
        r = await acli("event", "export", eid, "--data", str(one.data), "--with-facts")
        assert r.returncode == 0, r.stderr
        good = r.stdout
        r = await acli("event", "export", "ev-nothere", "--data", str(one.data))
        assert r.returncode == 2 and b"event_not_found" in r.stderr
    finally:
        one.kill()
    head, body = good.split(b"\n", 1)
    flipped = bytearray(body)
    flipped[len(body) // 2] ^= 0x01
    cases = {
        "export_truncated": good[: len(good) - 40],
        "export_tampered": head + b"\n" + bytes(flipped),
        "export_version": _forge(good, version=2),
        "export_version ": b"code,name\nTH,Tinh\n",
        "export_tampered ": _forge(good, body_bytes=len(body) - 1),
    }
    target = tmp_path / "target"
    for code, data in cases.items():
        path = tmp_path / "bad.jsonl"
        path.write_bytes(data)
        r = await acli("event", "import", str(path), "--data", str(target))
        assert r.returncode == 2, (code, r.stderr)
        assert code.strip().encode() in r.stderr, (code, r.stderr)
        assert not (target / "journal.sqlite3").exists(), code  # nothing written, not even opened
    # A valid body whose sha256 was recomputed but whose facts are not facts.
    bogus = b'{"stream":"event","fact":{"type":"point.exploded"}}\n'
    path.write_bytes(_forge(good.split(b"\n", 1)[0] + b"\n" + bogus, body_bytes=len(bogus),
                            sha256=hashlib.sha256(bogus).hexdigest()))
    r = await acli("event", "import", str(path), "--data", str(target))
    assert r.returncode == 2 and b"export_tampered" in r.stderr
    assert not (target / "journal.sqlite3").exists()
