"""``launchday backup``/``restore`` (docs/protocol.md, "Backups"): taken while
serving, brought back into a new store, refused when damaged.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
import orjson
import pytest

from tests.io.test_cli_event import acli
from tests.scenarios.test_launch_sync import Fleet
from tests.services import LaunchdayProcess, RedisServer
from tests.utils import ROOT, Api, thousand_csv, tree_csv, wait_until


def _totals_at(journal: Path, eid: str, seq: int) -> tuple[int, int]:
    """(points checked in, attendees) folded from the journal up to ``seq``:
    what the first server's totals were at the moment of the backup."""
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    checked: dict[str, int] = {}
    for (body,) in db.execute("SELECT body FROM facts WHERE stream = ? AND seq <= ? ORDER BY seq", (eid, seq)):
        fact = orjson.loads(body)
        if fact["type"] == "point.checked_in":
            checked.setdefault(fact["code"], fact["attendees"])
        elif fact["type"] == "point.attendees":
            checked[fact["code"]] = fact["count"]
    db.close()
    return len(checked), sum(checked.values())


@pytest.mark.timeout(240)
async def test_backup_during_a_thousand_point_morning_restores_its_totals(tmp_path: Path) -> None:
    """Catches: a backup that blocks or is blocked by the running server, an
    inconsistent copy (torn between transactions), and a restore that loses
    or adds facts: the restored totals must equal the first server's at the
    backup's last seq, with check-ins still arriving on both sides of it."""
    one = LaunchdayProcess(tmp_path / "one").start()
    fleet: Fleet | None = None
    two: LaunchdayProcess | None = None
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(one.url, session)
            eid = await api.event()
            await api.import_csv(eid, thousand_csv())
            tokens = [p["token"] for p in await api.points(eid)]
            fleet = Fleet(one.url, tokens, tmp_path, seed=7)
            fleet.file.write_text("\n".join(tokens))
            fleet.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "loadtest.fleet", "--server", one.url, "--tokens", str(fleet.file),
                "--seed", "7", "--commands", cwd=ROOT, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024)
            assert (await fleet.line(120))["event"] == "ready"
            spread = 8.0
            assert fleet.proc.stdin is not None
            fleet.proc.stdin.write(json.dumps({"cmd": "checkin", "go_at": time.time() + 0.5,
                                               "spread_s": spread}).encode() + b"\n")
            await fleet.proc.stdin.drain()
            await wait_until(lambda: _some_checked_in(api, eid), 20, "the first check-ins")
            r = await acli("backup", str(tmp_path / "bk"), "--data", str(one.data))
            assert r.returncode == 0, r.stderr
            done = await fleet.line(60)
            assert done["event"] == "checkin"
            final = await api.totals(eid)
            assert final["checked_in"] == 1000
        fleet.stop()
        one.kill()
        manifest = orjson.loads((tmp_path / "bk" / "backup.json").read_bytes())
        seq = manifest["streams"][eid]
        want = _totals_at(one.data / "journal.sqlite3", eid, seq)
        print(f"\nbackup at seq {seq}: {want[0]} of 1,000 points checked in")
        assert 0 < want[0] < 1000, "the backup was not taken during the check-ins"

        r = await acli("restore", str(tmp_path / "bk"), "--data", str(tmp_path / "two"))
        assert r.returncode == 0, r.stderr
        two = LaunchdayProcess(tmp_path / "two").start()
        async with aiohttp.ClientSession() as session:
            got = await Api(two.url, session).totals(eid)
        assert (got["points"], got["checked_in"], got["attendees"]) == (1000, *want)
    finally:
        if fleet is not None:
            fleet.stop()
        one.kill()
        if two is not None:
            two.kill()


async def _some_checked_in(api: Api, eid: str) -> bool:
    return bool((await api.totals(eid))["checked_in"] >= 50)


@pytest.mark.timeout(180)
async def test_redis_backup_restores_into_sqlite_and_damage_is_refused(tmp_path: Path) -> None:
    """Catches: a Redis backup that misses a stream or its facts, a restore
    into a store that already holds them (doubling history), and a damaged
    backup being loaded instead of refused with its code and exit 2."""
    redis = RedisServer(tmp_path / "redis").start()
    one = LaunchdayProcess(tmp_path / "one", redis_url=redis.url).start()
    two: LaunchdayProcess | None = None
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(one.url, session)
            eid = await api.event()
            await api.import_csv(eid, tree_csv(1, 2, 1)[0])
            token = (await api.points(eid))[0]["token"]
            async with session.ws_connect(f"{one.ws_url}/ws/point?token={token}") as ws:
                assert (await ws.receive_json())["type"] == "welcome"
                await ws.send_json({"type": "checkin", "id": "c1", "attendees": 9})
                assert (await ws.receive_json())["type"] == "ack"
            before = await api.totals(eid)
            out = tmp_path / "bk"
            r = await acli("backup", str(out), "--redis", redis.url)
            assert r.returncode == 0, r.stderr
            r = await acli("backup", str(out), "--redis", redis.url)
            assert r.returncode == 2 and b"backup_exists" in r.stderr
            # Into the Redis it came from: refused, nothing doubled.
            r = await acli("restore", str(out), "--redis", redis.url)
            assert r.returncode == 2 and b"store_not_empty" in r.stderr
            assert (await api.totals(eid))["checked_in"] == 1
        r = await acli("restore", str(out), "--data", str(tmp_path / "two"))
        assert r.returncode == 0, r.stderr
        two = LaunchdayProcess(tmp_path / "two").start()
        async with aiohttp.ClientSession() as session:
            after = await Api(two.url, session).totals(eid)
        assert (after["points"], after["checked_in"], after["attendees"]) == \
            (before["points"], before["checked_in"], before["attendees"])
        two.kill()
        # Damaged copies: refused, the target never opened.
        data = out / "streams.jsonl"
        good = data.read_bytes()
        for code, damage in (("backup_tampered", good.replace(b'point.checked_in', b'point.checked_IN')),
                             ("backup_truncated", None)):
            if damage is None:
                data.unlink()
            else:
                data.write_bytes(damage)
            target = tmp_path / f"t-{code}"
            r = await acli("restore", str(out), "--data", str(target))
            assert r.returncode == 2 and code.encode() in r.stderr, r.stderr
            assert not (target / "journal.sqlite3").exists()
        (out / "backup.json").write_bytes(b'{"format": "launchday-backup", "version": 9}')
        r = await acli("restore", str(out), "--data", str(tmp_path / "t-v"))
        assert r.returncode == 2 and b"backup_version" in r.stderr
    finally:
        one.kill()
        if two is not None:
            two.kill()
        redis.kill()
