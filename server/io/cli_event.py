"""``launchday event``: move one event whole from one store to another.

    launchday event export EID --data DIR > ev.jsonl          # or --redis URL
    launchday event export EID --redis URL --with-facts -o ev.jsonl
    launchday event import ev.jsonl --data NEWDIR             # or --redis URL
    launchday event import ev.jsonl --redis URL --as-new

The file format, the setup facts kept without ``--with-facts`` and every
refusal are in docs/protocol.md, "Moving an event". Export reads the store
read-only and works whether its server runs or not; import appends through
the journal (a data directory whose server is stopped, or a Redis whose
running processes then pick the event up without a restart). A file that is
truncated, tampered with or of another version is refused before anything
is written (exit code 2).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from server.core.errors import LaunchdayError
from server.core.facts import parse_fact
from server.io.journal import offline

FORMAT = "launchday-event"
VERSION = 1
ORG_STREAM = "_org"
# The facts that make an event's setup (its registry): kept by every export.
# Everything else (check-ins, counts, incidents, notices, agenda steps, the
# launch, firing reports, report snapshots) is the morning itself, kept only
# with --with-facts.
SETUP_TYPES = frozenset({
    "event.created", "event.edited", "point.upserted", "point.deleted", "point.token_rotated",
    "agenda.set", "keyholder.added", "keyholder.revoked",
})


class ExportError(LaunchdayError):
    """A refused export file or an event that cannot be moved (exit code 2)."""

    default_code = "export_invalid"


def add_parser(sub: Any, data_default: str) -> None:
    p = sub.add_parser("event", help="export one event to a file, or import one into another store")
    acts = p.add_subparsers(dest="action", required=True)
    exp = acts.add_parser("export", help="write one event whole (registry, tokens, agenda, key holders)")
    exp.add_argument("event_id")
    exp.add_argument("--with-facts", action="store_true",
                     help="also the morning: check-ins, counts, incidents, agenda steps, launch, reports")
    exp.add_argument("-o", "--out", help="write to this file (default: stdout)")
    imp = acts.add_parser("import", help="load an export into this store (refused if the event exists)")
    imp.add_argument("file")
    imp.add_argument("--as-new", action="store_true", help="give the event a new id (point tokens are kept)")
    for q in (exp, imp):
        q.add_argument("--data", default=data_default, help="data directory (default: %(default)s)")
        q.add_argument("--redis", default=os.environ.get("LAUNCHDAY_REDIS") or None, metavar="URL",
                       help="the store is this Redis instead of the data directory")
        q.add_argument("--redis-durability", choices=("always", "everysec", "unchecked"), default="always",
                       help="the weakest Redis appendfsync to accept when writing (default always)")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "export":
            return _write(args, asyncio.run(_export(args)))
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise ExportError(f"cannot read {args.file}: {exc.strerror}", code="export_unreadable") from None
        return asyncio.run(_import(args, data))
    except LaunchdayError as err:
        print(f"launchday event {args.action}: {err.code}: {err.message}", file=sys.stderr)
        return 2


# -- export -------------------------------------------------------------------


def encode(event_id: str, lines: list[dict[str, Any]], with_facts: bool, now_ms: float) -> bytes:
    """The export file: one header line, then one line per fact."""
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    types = [line["fact"]["type"] for line in lines if line["stream"] == "event"]
    header = {
        "format": FORMAT, "version": VERSION, "event_id": event_id, "exported_at_ms": now_ms,
        "with_facts": with_facts,
        "counts": {"facts": len(lines), "points": types.count("point.upserted"),
                   "keyholders": types.count("keyholder.added"),
                   "desks": sum(1 for line in lines if line["stream"] == ORG_STREAM)},
        "body_bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
    }
    return orjson.dumps(header) + b"\n" + body


async def collect(reader: offline.Reader, event_id: str, with_facts: bool) -> list[dict[str, Any]]:
    """The lines of one event's export, read from a store."""
    rows = await reader.read_raw(event_id)
    if not rows:
        raise ExportError(f"no event {event_id!r} in this store", code="event_not_found")
    facts = [orjson.loads(body) for _, body in rows]
    if any(f["type"] == "event.deleted" for f in facts):
        raise ExportError(f"event {event_id!r} was deleted", code="event_deleted")
    lines = [{"stream": "event", "fact": f} for f in facts if with_facts or f["type"] in SETUP_TYPES]
    # Desks: organizer tokens scoped to this event (facts with a ``scope``
    # naming it), and their revocations. Stores without desks have none.
    desk_hashes: set[str] = set()
    for _, body in await reader.read_raw(ORG_STREAM):
        fact = orjson.loads(body)
        if fact.get("scope") == event_id:
            desk_hashes.add(fact.get("token_hash", ""))
            lines.append({"stream": ORG_STREAM, "fact": fact})
        elif fact.get("type") == "org.token_revoked" and fact.get("token_hash") in desk_hashes:
            lines.append({"stream": ORG_STREAM, "fact": fact})
    return lines


async def _export(args: argparse.Namespace) -> tuple[bytes, list[dict[str, Any]]]:
    from server.io.clock import now_ms

    reader = offline.reader(args.data, args.redis)
    try:
        lines = await collect(reader, args.event_id, args.with_facts)
    finally:
        await reader.close()
    return encode(args.event_id, lines, args.with_facts, now_ms()), lines


def _write(args: argparse.Namespace, result: tuple[bytes, list[dict[str, Any]]]) -> int:
    data, lines = result
    if args.out:
        tmp = Path(f"{args.out}.part")
        tmp.write_bytes(data)
        tmp.replace(args.out)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    n = sum(1 for line in lines if line["fact"]["type"] == "point.upserted")
    print(f"launchday event export: {args.event_id}: {len(lines)} facts, {n} point upserts", file=sys.stderr)
    return 0


# -- import -------------------------------------------------------------------


def decode(data: bytes) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Check and parse an export file; raise a coded :class:`ExportError`
    (``export_version``, ``export_truncated``, ``export_tampered``)."""
    head, sep, body = data.partition(b"\n")
    try:
        header = orjson.loads(head)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        if not sep and head.startswith(b'{"format":"launchday-event"'):
            raise ExportError("the file ends inside its header", code="export_truncated")
        raise ExportError("not a launchday event export", code="export_version")
    if header.get("version") != VERSION:
        raise ExportError(f"export version {header.get('version')!r}; this launchday reads version {VERSION}",
                          code="export_version")
    want = header.get("body_bytes")
    if not isinstance(want, int) or not isinstance(header.get("sha256"), str):
        raise ExportError("the header lacks body_bytes or sha256", code="export_tampered")
    if len(body) < want:
        raise ExportError(f"the file is cut short: {len(body)} of {want} bytes", code="export_truncated")
    if len(body) > want or hashlib.sha256(body).hexdigest() != header["sha256"]:
        raise ExportError("the file's content does not match its checksum", code="export_tampered")
    out: list[tuple[str, Any]] = []
    try:
        for raw in body.splitlines():
            line = orjson.loads(raw)
            if line["stream"] not in ("event", ORG_STREAM):
                raise ValueError(f"unknown stream {line['stream']!r}")
            out.append((line["stream"], parse_fact(orjson.dumps(line["fact"]))))
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"a fact in the file is not valid: {str(exc)[:200]}", code="export_tampered") from None
    if len(out) != (header.get("counts") or {}).get("facts"):
        raise ExportError("the file's fact count does not match its header", code="export_tampered")
    first = out[0][1] if out else None
    if first is None or first.type != "event.created" or first.event_id != header.get("event_id"):
        raise ExportError("the file does not start with its event's creation", code="export_tampered")
    return header, out


async def tokens_in_use(journal: Any) -> set[str]:
    """Point tokens of the live (not deleted) events of a store."""
    used: set[str] = set()
    for stream in await journal.streams():
        if stream == ORG_STREAM:
            continue
        tokens: set[str] = set()
        deleted = False
        for _, fact in await journal.read(stream):
            if fact.type in ("point.upserted", "point.token_rotated"):
                tokens.add(fact.token)
            deleted = deleted or fact.type == "event.deleted"
        if not deleted:
            used |= tokens
    return used


async def load(journal: Any, header: dict[str, Any], lines: list[tuple[str, Any]], as_new: bool) -> str:
    """Append an export's facts to a journal; return the event id it got."""
    from server.io.store import new_event_id

    event_id = str(header["event_id"])
    facts = [f for s, f in lines if s == "event"]
    desks = [f for s, f in lines if s == ORG_STREAM]
    if as_new:
        event_id = new_event_id()
        facts[0] = facts[0].model_copy(update={"event_id": event_id})
    elif await journal.last_seq(event_id) > 0:
        raise ExportError(f"event {event_id!r} already exists here; --as-new imports it under a new id",
                          code="event_exists")
    mine = {f.token for f in facts if f.type in ("point.upserted", "point.token_rotated")}
    clash = mine & await tokens_in_use(journal)
    if clash:
        raise ExportError(f"{len(clash)} point token(s) of this export already open a point of another event "
                          "here; delete that event first", code="token_in_use")
    await offline.append_all(journal, event_id, facts)
    if desks:
        await journal.append(ORG_STREAM, desks)
    return event_id


async def _import(args: argparse.Namespace, data: bytes) -> int:
    header, lines = decode(data)
    journal = await offline.open_writer(args.data, args.redis, args.redis_durability)
    try:
        event_id = await load(journal, header, lines, args.as_new)
    finally:
        await journal.close()
    print(f"imported {event_id}: {len(lines)} facts")
    return 0
