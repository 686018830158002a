"""``launchday token`` against a data directory, with the server stopped and running."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.utils import ROOT, Api, ServerProcess, timeout


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.io.cli", "token", "--data", str(data), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout(60))


async def me(base: str, token: str) -> int:
    async with aiohttp.ClientSession() as s, s.get(base + "/api/me",
                                                  headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status


async def test_create_use_and_revoke_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = cli(data, "create", "--role", "operator", "--name", "Ca trực sáng")
    assert made.returncode == 0, made.stderr
    head, token = made.stdout.strip().splitlines()
    tid = head.split()[1]
    assert "operator" in head and "Ca trực sáng" in head and len(token) >= 20
    assert token not in (data / "journal.sqlite3").read_bytes().decode(errors="replace")

    srv = await ServerProcess(data).start()
    try:
        assert await me(srv.base, token) == 200
        busy = cli(data, "revoke", tid)  # the server holds the journal: refused, nothing written
        assert busy.returncode == 2 and "server is running" in busy.stderr
        assert await me(srv.base, token) == 200
    finally:
        srv.stop()

    listed = cli(data, "list")
    assert listed.returncode == 0 and tid in listed.stdout and "active" in listed.stdout
    gone = cli(data, "revoke", tid)
    assert gone.returncode == 0, gone.stderr
    assert "revoked" in cli(data, "list").stdout
    srv = await ServerProcess(data).start()
    try:
        assert await me(srv.base, token) == 401
    finally:
        srv.stop()
    assert cli(data, "revoke", "nosuchid00").returncode == 1


DESK_REGISTRY = "\n".join([
    "code,name,level,parent,chair,phone,expected",
    "38,Tỉnh Thanh Hóa,province,,,,0",
    "X1,Xã Một,commune,38,,,10",
    "X2,Xã Hai,commune,38,,,10",
    "X3,Xã Ba,commune,38,,,10",
]) + "\n"


async def test_desks_by_level_from_the_command_line(tmp_path: Path) -> None:
    """Catches the bulk desks of the CLI creating a desk twice, writing sheets
    without the links, skipping the units' scope, or a bad argument writing
    something (docs/protocol.md#desks)."""
    data = tmp_path / "data"
    srv = await ServerProcess(data).start()
    try:
        async with aiohttp.ClientSession() as s:
            api = Api(srv.base, s)
            eid = await api.event()
            await api.import_csv(eid, DESK_REGISTRY)
            await api.call("POST", "/api/tokens", 201, json={"name": "Bàn có sẵn", "role": "viewer",
                                                             "scope": {"event": eid, "point": "X2"}})
    finally:
        srv.stop()
    before = cli(data, "list").stdout
    assert before.count("Bàn") == 1
    csv_file, html_file = tmp_path / "desks.csv", tmp_path / "desks.html"
    base = ["create", "--scope-level", "commune", "--event", eid]
    # Bad input: a clear message, nothing written.
    for args, words in (([*base, "--csv", str(csv_file)], "--public-url"),
                        ([*base, "--public-url", "https://x.vn"], "--csv"),
                        ([*base, "--public-url", "https://x.vn", "--csv", str(csv_file), "--role", "admin"], "admin"),
                        (["create", "--scope-level", "commune", "--public-url", "https://x.vn",
                          "--csv", str(csv_file)], "--event"),
                        (["create", "--scope-level", "nowhere", "--event", eid, "--public-url", "https://x.vn",
                          "--csv", str(csv_file)], "level"),
                        (["create", "--scope-level", "commune", "--event", "nosuch", "--public-url",
                          "https://x.vn", "--csv", str(csv_file)], "no event"),
                        ([*base, "--public-url", "https://x.vn", "--csv", str(tmp_path / "no" / "dir.csv")],
                         "cannot write")):
        bad = cli(data, *args)
        assert bad.returncode != 0 and words in bad.stderr, (args, bad.stderr)
    assert cli(data, "list").stdout == before and not csv_file.exists()

    made = cli(data, *base, "--public-url", "https://tinh.example.vn/", "--csv", str(csv_file),
               "--html", str(html_file))
    assert made.returncode == 0, made.stderr
    assert "2 desk(s) created, 1 unit(s) already had one" in made.stdout
    assert "exists" in made.stdout and "X2" in made.stdout and "Bàn có sẵn" in made.stdout
    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
    assert rows[0][1] == "mã đơn vị" and sorted(r[1] for r in rows[1:]) == ["X1", "X3"]
    links = {r[1]: r[4] for r in rows[1:]}
    assert all(u.startswith("https://tinh.example.vn/console/#token=") for u in links.values())
    sheet = html_file.read_text(encoding="utf-8")
    assert sheet.count("<svg") == 2 and "Bàn Xã Một" in sheet and "1 đơn vị đã có bàn" in sheet

    again = cli(data, *base, "--public-url", "https://tinh.example.vn", "--csv", str(tmp_path / "again.csv"))
    assert again.returncode == 0 and "0 desk(s) created, 3 unit(s) already had one" in again.stdout
    assert not (tmp_path / "again.csv").exists()
    listed = cli(data, "list").stdout
    assert listed.count("Bàn Xã") == 2  # one per unit, not two

    srv = await ServerProcess(data).start()
    try:
        async with aiohttp.ClientSession() as s:
            token = links["X1"].split("#token=")[1]
            async with s.get(srv.base + "/api/me", headers={"Authorization": f"Bearer {token}"}) as r:
                me_ = await r.json()
            assert me_["role"] == "operator" and me_["scope"]["point"] == "X1"
            assert me_["scope"]["point_name"] == "Xã Một"
    finally:
        srv.stop()
