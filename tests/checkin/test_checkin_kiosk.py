"""launchday-checkin in JSON mode against a real server."""

from __future__ import annotations

import asyncio
import json
import sys

from tests.utils import ROOT, timeout, tree_csv, wait_until


async def test_kiosk_checks_in_updates_and_reports_an_incident(server, tmp_path) -> None:
    eid = await server.api.event()
    await server.api.import_csv(eid, tree_csv(1, 1, 0)[0])
    token = (await server.api.points(eid))[0]["token"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "checkin.kiosk", "--server", server.base, "--token", token, "--json",
        "--attendees", "12", "--outbox", str(tmp_path / "outbox.json"), cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    await wait_until(lambda: _attendees(server.api, eid, 12), 20, "the kiosk's check-in")
    proc.stdin.write("15\nincident audio Mất tiếng hội trường\nq\n".encode())
    await proc.stdin.drain()
    out, _ = await asyncio.wait_for(proc.communicate(), timeout(30))
    events = [json.loads(line) for line in out.decode().splitlines()]
    kinds = [e["event"] for e in events]
    assert "welcome" in kinds and "incident" in kinds
    totals = await server.api.totals(eid)
    assert (totals["attendees"], totals["incidents_open"]) == (15, 1)
    assert proc.returncode == 0


async def _attendees(api, eid: str, n: int) -> bool:
    return (await api.totals(eid))["attendees"] == n


async def test_kiosk_with_stdin_from_dev_null_runs_without_a_traceback(server, tmp_path) -> None:
    """Catches: the stdin reader registered on /dev/null (a systemd service,
    nohup), which printed ``KeyError: '0 is not registered'`` and a second
    traceback; and a token file readable by others being accepted."""
    eid = await server.api.event()
    await server.api.import_csv(eid, tree_csv(1, 1, 0)[0])
    token = (await server.api.points(eid))[0]["token"]
    token_file = tmp_path / "point-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o644)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "checkin.kiosk", "--server", server.base, "--token-file", str(token_file),
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout(30))
    assert proc.returncode != 0 and b"chmod 600" in err
    token_file.chmod(0o600)
    for count, mode in ((5, ["--json"]), (6, ["--display"])):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "checkin.kiosk", "--server", server.base, "--token-file", str(token_file),
            "--attendees", str(count), "--outbox", str(tmp_path / f"outbox{mode[0]}.json"), *mode, cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            await wait_until(lambda n=count: _attendees(server.api, eid, n), 20, "the kiosk's check-in")
            assert proc.returncode is None  # still running: no commands to read, no exit
        finally:
            proc.terminate()
            _, err = await asyncio.wait_for(proc.communicate(), timeout(30))
        assert b"Traceback" not in err and b"is not registered" not in err, err.decode()[-2000:]
