"""``launchday-checkin``: a point's terminal kiosk, or JSON lines for scripts.

    launchday-checkin --server http://HOST:PORT [--server URL ...] --token TOKEN | --token-file PATH
                      [--attendees N] [--display] [--json] [--outbox FILE] [--lang vi|en]

On a terminal it shows the point, its connection, the pending outbox, the
agenda, the countdown and the launch moment (rich); typed lines act:
a number sets the attendee count, ``incident KIND [note]`` opens an incident,
``resolve ID`` closes one, ``q`` quits. With ``--json`` every event is one
JSON line on stdout instead, for scripts. The outbox is kept in a file
(default: beside the working directory, per token) so a restart loses nothing.
Several servers (``--server`` repeated, or comma-separated URLs): when one
dies the kiosk moves to the next, and its outbox goes with it.
With stdin that is not a terminal (a service, ``nohup``, ``< /dev/null``)
it reads no commands and just runs (``--json`` still reads a pipe).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import stat
import sys
import time
from typing import Any

from rich.align import Align
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from checkin.client import PointClient
from checkin.errors import ServerError
from checkin.transport import server_urls

KINDS = ("audio", "video", "power", "network", "other")
WORDS = {
    "vi": {"online": "Đã kết nối", "offline": "Mất kết nối", "pending": "Đang chờ gửi",
           "attendees": "Số người dự", "checked_in": "Đã điểm danh", "not_checked_in": "Chưa điểm danh",
           "now": "Đang diễn ra", "next": "Tiếp theo", "countdown": "Đếm ngược", "fired": "PHÁT ĐỘNG",
           "clock": "Đồng hồ", "help": "Gõ số người dự rồi Enter · incident KIND ghi chú · resolve ID · q để thoát",
           "invalid": "Liên kết không còn hiệu lực", "notice": "Thông báo"},
    "en": {"online": "Connected", "offline": "Disconnected", "pending": "Waiting to send",
           "attendees": "Attendees", "checked_in": "Checked in", "not_checked_in": "Not checked in",
           "now": "Now", "next": "Next", "countdown": "Countdown", "fired": "LAUNCH",
           "clock": "Clock", "help": "Type the attendee count and Enter · incident KIND note · resolve ID · q to quit",
           "invalid": "This link is no longer valid", "notice": "Notice"},
}

# A 3x5 block font for the countdown, legible from across a room.
DIGITS = {
    "0": ["███", "█ █", "█ █", "█ █", "███"], "1": [" █ ", "██ ", " █ ", " █ ", "███"],
    "2": ["███", "  █", "███", "█  ", "███"], "3": ["███", "  █", "███", "  █", "███"],
    "4": ["█ █", "█ █", "███", "  █", "  █"], "5": ["███", "█  ", "███", "  █", "███"],
    "6": ["███", "█  ", "███", "█ █", "███"], "7": ["███", "  █", "  █", "  █", "  █"],
    "8": ["███", "█ █", "███", "█ █", "███"], "9": ["███", "█ █", "███", "  █", "███"],
    ".": ["   ", "   ", "   ", "   ", " █ "],
}


def big(text: str) -> str:
    rows = ["", "", "", "", ""]
    for ch in text:
        glyph = DIGITS.get(ch, ["   "] * 5)
        for i in range(5):
            rows[i] += glyph[i] + " "
    return "\n".join(rows)


class Kiosk:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.w = WORDS[args.lang]
        self.notices: list[str] = []
        self.fired_at: float | None = None
        outbox = args.outbox or f".launchday-outbox-{hashlib.sha256(args.token.encode()).hexdigest()[:12]}.json"
        self.client = PointClient(
            args.server, args.token, outbox_path=outbox,
            on_welcome=lambda f: self.event("welcome", point=f.get("point"), status=f.get("status")),
            on_agenda=lambda a: self.event("agenda", agenda=a),
            on_launch=lambda launch: self.event("launch", launch=launch),
            on_notice=self._notice,
            on_state=lambda s: self.event("state", state=s),
            on_fire=self._fire,
        )

    # -- events ---------------------------------------------------------------

    def event(self, kind: str, **data: Any) -> None:
        if self.args.json:
            sys.stdout.write(json.dumps({"event": kind, "at_ms": time.time() * 1000, **data},
                                        ensure_ascii=False) + "\n")
            sys.stdout.flush()

    def _notice(self, frame: dict[str, Any]) -> None:
        self.notices = [frame.get("text", ""), *self.notices][:3]
        self.event("notice", text=frame.get("text"), at_ms=frame.get("at_ms"))

    def _fire(self, fired_ms: float) -> None:
        self.fired_at = time.monotonic()  # quick: other work waits until after the moment
        self.event("fire", fired_ms=fired_ms, error_bound_ms=self.client.error_bound_ms)

    # -- actions ----------------------------------------------------------------

    async def act(self, line: str) -> bool:
        """One typed command; False to quit."""
        words = line.strip().split(maxsplit=2)
        if not words:
            return True
        try:
            if words[0] in ("q", "quit", "exit"):
                return False
            if words[0].isdigit():
                await self.set_count(int(words[0]))
            elif words[0] == "incident" and len(words) >= 2 and words[1] in KINDS:
                ack = await self.client.open_incident(words[1], words[2] if len(words) > 2 else "")
                self.event("incident", incident=ack.get("incident"))
            elif words[0] == "resolve" and len(words) == 2:
                await self.client.resolve_incident(words[1])
            else:
                self.event("error", message=self.w["help"])
        except ServerError as err:
            self.event("error", code=err.code, message=err.message)
        return True

    async def set_count(self, n: int) -> None:
        if self.client.status.get("checked_in"):
            await self.client.set_attendees(n)
        else:
            await self.client.checkin(n)
        self.event("attendees", count=n)

    # -- screen -------------------------------------------------------------------

    def render(self) -> Any:
        c, w = self.client, self.w
        point = c.point or {}
        launch = c.launch or {}
        if c.token_invalid:
            return Panel(Text(w["invalid"], style="bold red", justify="center"))
        if self.fired_at is not None or launch.get("state") == "fired":
            return Panel(Align.center(Text(w["fired"], style="bold yellow on red", justify="center")),
                         title=point.get("name", ""), height=9)
        head = Table.grid(padding=(0, 2))
        head.add_row(Text(point.get("name", "…"), style="bold"),
                     Text(w["online"] if c.connected else w["offline"],
                          style="green" if c.connected else "bold red"))
        status = c.status or {}
        head.add_row(f"{w['attendees']}: {status.get('attendees', 0)}",
                     w["checked_in"] if status.get("checked_in") else w["not_checked_in"])
        head.add_row(f"{w['pending']}: {c.pending}",
                     f"{w['clock']}: ±{c.error_bound_ms:.1f} ms" if c.error_bound_ms is not None else "")
        parts: list[Any] = [head]
        agenda = c.agenda or {}
        items, cur = agenda.get("items") or [], agenda.get("current")
        if cur is not None and 0 <= cur < len(items):
            parts.append(Text(f"{w['now']}: {items[cur]['title']}", style="cyan"))
            if cur + 1 < len(items):
                parts.append(Text(f"{w['next']}: {items[cur + 1]['title']}", style="dim"))
        if launch.get("state") == "countdown" and launch.get("fire_at_ms"):
            left = max(0.0, (launch["fire_at_ms"] - c.server_now_ms()) / 1000)
            parts.append(Align.center(Text(big(f"{left:.1f}" if left < 10 else f"{left:.0f}"),
                                           style="bold yellow")))
        for notice in self.notices:
            parts.append(Text(f"{w['notice']}: {notice}", style="magenta"))
        if not self.args.display:
            parts.append(Text(w["help"], style="dim"))
        return Panel(Group(*parts), title="launchday")

    async def run(self) -> int:
        await self.client.start()
        if self.args.attendees is not None:
            with contextlib.suppress(TimeoutError):
                await self.client.wait_connected(timeout=30)
            await self.set_count(self.args.attendees)
        if self.args.json:
            return await self._run_json()
        return await self._run_screen()

    async def _run_json(self) -> int:
        if not stdin_readable():
            # A service, nohup or ``< /dev/null``: no commands, run until stopped.
            while not self.client.token_invalid:  # noqa: ASYNC110 (the client has no event for it)
                await asyncio.sleep(0.5)  # a poll of the client's state, not a wait for time to pass
            await self.client.stop()
            return 2
        reader = await _stdin_reader()
        while True:
            line = await reader.readline()
            if not line or not await self.act(line.decode(errors="replace")):
                break
        await self.client.drain(timeout=10)
        await self.client.stop()
        return 0

    async def _run_screen(self) -> int:
        console = Console()
        reader = None if self.args.display or not stdin_readable(tty_only=True) else await _stdin_reader()
        with Live(self.render(), console=console, refresh_per_second=20, screen=self.args.display) as live:
            line_task = asyncio.ensure_future(reader.readline()) if reader else None
            while not self.client.token_invalid:
                if line_task is not None and line_task.done():
                    if not await self.act(line_task.result().decode(errors="replace")):
                        break
                    line_task = asyncio.ensure_future(reader.readline()) if reader else None
                live.update(self.render())
                await asyncio.sleep(0.05)  # the screen's refresh, not a wait for a condition
            live.update(self.render())
        await self.client.stop()
        return 2 if self.client.token_invalid else 0


def stdin_readable(tty_only: bool = False) -> bool:
    """True when typed commands can come on stdin: a terminal, or (for
    ``--json``) a pipe or socket. Not /dev/null, a regular file or a closed
    stdin (a systemd service, ``nohup``): the event loop cannot watch those,
    and registering one raised ``KeyError: '0 is not registered'``."""
    try:
        if sys.stdin is None or sys.stdin.closed:
            return False
        fd = sys.stdin.fileno()
        if os.isatty(fd):
            return True
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        return False
    return not tty_only and (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode))


def read_token_file(path: str) -> str:
    """The point's token from a file only its owner can read (a systemd
    credential, or a file of mode 0600/0400); refused otherwise."""
    try:
        st = os.stat(path)
        if st.st_mode & 0o077:
            raise SystemExit(f"launchday-checkin: {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                             f"chmod 600 it: the token opens the point")
        with open(path, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        raise SystemExit(f"launchday-checkin: cannot read the token file {path}: {exc.strerror}") from None
    if not token:
        raise SystemExit(f"launchday-checkin: the token file {path} is empty")
    return token


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="launchday-checkin", description="A point's kiosk for launchday.")
    p.add_argument("--server", required=True, action="append",
                   help="the server's base URL, e.g. http://10.0.0.5:8080; repeat it (or separate "
                        "URLs with commas) to name several: when one dies the kiosk moves to the next")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--token", help="the point's token (the end of its /p/<token> link)")
    who.add_argument("--token-file", metavar="PATH",
                     help="read the token from this file, readable by its owner only (deploy/launchday-checkin.service)")
    p.add_argument("--attendees", type=int, help="check in (or update the count) with this number at start")
    p.add_argument("--display", action="store_true", help="full screen: the agenda, countdown and launch")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout instead of a screen")
    p.add_argument("--outbox", help="file keeping unsent messages across restarts")
    p.add_argument("--lang", choices=("vi", "en"), default="vi")
    args = p.parse_args(argv)
    if args.token_file:
        args.token = read_token_file(args.token_file)
    if args.attendees is not None and args.attendees < 0:
        p.error("--attendees must be a whole number ≥ 0")
    try:
        args.server = server_urls(args.server)
    except ValueError as exc:
        p.error(str(exc))
    from server.io import logs

    logs.configure("warning", "console")
    try:
        raise SystemExit(asyncio.run(Kiosk(args).run()))
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
