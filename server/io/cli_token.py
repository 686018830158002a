"""``launchday token``: organizer tokens from the command line.

    launchday token create --role operator --name "Ca trực sáng"
    launchday token create --scope-level commune --event EID --public-url https://launch.example.vn \
        --csv desks.csv --html desks.html
    launchday token list
    launchday token revoke <id>

It appends to the journal in the data directory itself, so it works with the
server stopped (the way to get a first operator token onto a machine before
the morning). The embedded SQLite journal is opened by one process at a
time: while a server runs on the same data directory the command refuses
and says so; use the API then (``POST /api/tokens``, ``DELETE
/api/tokens/{id}``), which the running server applies at once.

``--scope-level`` gives every unit of one level of an event its desk (a
token scoped to the unit's subtree, docs/protocol.md#desks), as ``POST
/api/events/{eid}/desks`` does: units that already hold a live desk are
skipped and named (running it again creates nothing twice); the log-in
sheets are written with the route's own code (server/io/desk_sheets.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
    create.add_argument("--role", choices=["viewer", "operator", "admin"],
                        help="required; with --scope-level: operator (default) or viewer")
    create.add_argument("--name", help="who holds it (shown in the audit); required without --scope-level")
    create.add_argument("--scope-level", metavar="LEVEL",
                        help="one desk per unit of this level of --event (e.g. commune); skips units that have one")
    create.add_argument("--event", metavar="EID", help="the event of --scope-level")
    create.add_argument("--public-url", metavar="URL", default=os.environ.get("LAUNCHDAY_PUBLIC_URL", ""),
                        help="the server's address for the log-in links (default: $LAUNCHDAY_PUBLIC_URL); "
                             "required for the sheets")
    create.add_argument("--csv", metavar="FILE", help="write the desks' log-in list as CSV")
    create.add_argument("--html", metavar="FILE", help="write the desks' printable QR sheet")
    acts.add_parser("list", help="the tokens: id, name, role, revoked")
    revoke = acts.add_parser("revoke", help="revoke a token by its id (from list); its sessions end")
    revoke.add_argument("id")


def _usage(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments of ``create``, before the journal is opened."""
    if args.action != "create":
        return None
    if args.scope_level is None:
        if args.event or args.csv or args.html:
            return "--event, --csv and --html go with --scope-level"
        if not args.role or not args.name:
            return "create needs --role and --name (or --scope-level LEVEL --event EID)"
        return None
    if not args.event:
        return "--scope-level needs --event EID"
    if args.name:
        return "--scope-level names each desk after its unit: leave out --name"
    if args.role == "admin":
        return "a desk's role is operator or viewer (an admin token cannot be scoped)"
    if not args.public_url.strip():
        return "--scope-level needs --public-url URL (or LAUNCHDAY_PUBLIC_URL): the log-in links start with it"
    if not args.public_url.strip().startswith(("http://", "https://")):
        return "--public-url is an http:// or https:// address"
    if not args.csv and not args.html:
        return "--scope-level needs --csv FILE and/or --html FILE: the log-in links are written there only"
    return None


def run(args: argparse.Namespace) -> int:
    wrong = _usage(args)
    if wrong:
        print(f"launchday token: {wrong}", file=sys.stderr)
        return 2
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
        if args.action == "create" and args.scope_level is not None:
            return await _desks(journal, org, args, actor)
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


async def _desks(journal: Any, org: orgs.OrgState, args: argparse.Namespace, actor: str) -> int:
    """One desk per unit of ``--scope-level`` without one; the sheets written, the skipped units named."""
    from server.core.desks import decide_desks
    from server.core.fold import fold_facts
    from server.io import desk_sheets as sheet
    from server.io.clock import now_ms
    from server.io.store import new_token

    facts = await journal.read(args.event)
    if not facts:
        print(f"launchday token: no event {args.event!r} in {args.data}", file=sys.stderr)
        return 1
    state = fold_facts(facts)
    if state.info.deleted_ms is not None:
        print(f"launchday token: the event {args.event!r} was deleted", file=sys.stderr)
        return 1
    bulk = decide_desks(org, state, {"level": args.scope_level, "role": args.role or "operator"}, new_token,
                        now_ms(), actor)
    created, existing = sheet.created_view(bulk, args.public_url.strip().rstrip("/")), sheet.existing_view(bulk)
    if created:
        # The sheets first: a desk whose link was never written down is a desk nobody can use.
        files = [(args.csv, sheet.csv_text(created))] if args.csv else []
        if args.html:
            files.append((args.html, sheet.sheet_html(state.info.name, state.info.timezone, created,
                                                      len(existing), now_ms())))
        try:
            await asyncio.to_thread(_write, files)
        except OSError as err:
            print(f"launchday token: cannot write {err.filename}: {err.strerror}; no desk created", file=sys.stderr)
            return 1
        await journal.append(orgs.ORG_STREAM, [d.fact for d in bulk.created])
    for d in created:
        print(f"created  {d['id']}  {d['role']:<8}  {d['point']}  {d['name']}")
    for d in existing:
        print(f"exists   {d['id']}  {d['role']:<8}  {d['point']}  {d['name']}")
    written = " and ".join(x for x in (args.csv, args.html) if x)
    print(f"{len(created)} desk(s) created, {len(existing)} unit(s) already had one"
          + (f"; log-in links in {written}" if created else "; nothing written"))
    return 0


def _write(files: list[tuple[str, str]]) -> None:
    for path, text in files:
        Path(path).write_text(text, encoding="utf-8")
