"""``launchday token``: organizer tokens from the command line.

    launchday token create --role operator --name "Ca trực sáng"
    launchday token list
    launchday token revoke <id>

It appends to the journal in the data directory itself, so it works with the
server stopped (the way to get a first operator token onto a machine before
the morning). The embedded SQLite journal is opened by one process at a
time: while a server runs on the same data directory the command refuses
and says so; use the API then (``POST /api/tokens``, ``DELETE
/api/tokens/{id}``), which the running server applies at once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from server.core import org as orgs
from server.core.errors import LaunchdayError


def add_parser(sub: Any, data_default: str) -> None:
    p = sub.add_parser("token", help="create, list or revoke organizer tokens (server stopped)")
    p.add_argument("--data", default=data_default, help="data directory (default: %(default)s)")
    acts = p.add_subparsers(dest="action", required=True)
    create = acts.add_parser("create", help="issue a token; it is printed once")
    create.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    create.add_argument("--name", required=True, help="who holds it (shown in the audit)")
    acts.add_parser("list", help="the tokens: id, name, role, revoked")
    revoke = acts.add_parser("revoke", help="revoke a token by its id (from list); its sessions end")
    revoke.add_argument("id")


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except LaunchdayError as err:
        print(f"launchday token: {err.message}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace) -> int:
    from server.io.clock import now_ms
    from server.io.journal.sqlite import JournalBusy, SqliteJournal
    from server.io.store import new_token

    journal = SqliteJournal(Path(args.data) / "journal.sqlite3")
    try:
        await journal.open()
    except JournalBusy:
        print(f"launchday token: a server is running on {args.data} (it holds the journal).\n"
              "  Use the API instead: POST /api/tokens {\"name\", \"role\"} or DELETE /api/tokens/<id>\n"
              "  with an admin token, or stop the server and run this again.", file=sys.stderr)
        return 2
    try:
        org = orgs.OrgState()
        for seq, fact in await journal.read(orgs.ORG_STREAM):
            orgs.apply_org(org, fact, seq)
        actor = "cli"
        if args.action == "create":
            token = new_token()
            fact = orgs.decide_issue(org, {"name": args.name, "role": args.role}, token, now_ms(), actor)
            await journal.append(orgs.ORG_STREAM, [fact])
            print(f"id {fact.token_hash[:12]}  {fact.role}  {fact.name}\n{token}")
        elif args.action == "revoke":
            await journal.append(orgs.ORG_STREAM, [orgs.decide_revoke(org, args.id, now_ms(), actor)])
            print(f"revoked {args.id}")
        else:
            for t in orgs.organizers_view(org):
                print(f"{t['id']}  {t['role']:<8}  {'revoked' if t['revoked'] else 'active ':<7}  {t['name']}")
        return 0
    finally:
        await journal.close()
