"""``launchday token`` against a data directory, with the server stopped and running."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.utils import ROOT, ServerProcess, timeout


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
