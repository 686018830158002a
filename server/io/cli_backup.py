"""``launchday backup`` and ``launchday restore``: the whole store, while serving.

    launchday backup OUT --data DIR          # or --redis URL
    launchday restore OUT --data NEWDIR      # or --redis URL

OUT is a directory. On SQLite the backup is the journal file copied with
SQLite's online backup API from a read-only connection (consistent at one
transaction, taken while the server writes, without its lock); on Redis it
is every stream's facts and latest snapshot, each stream read up to its last
seq at the start. ``backup.json`` beside them names the streams with their
last seq and the files with their sha256. Restore checks those first, then
appends every stream through the journal interface into an empty store
(docs/protocol.md, "Backups").
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import orjson

from server.core.errors import LaunchdayError
from server.core.facts import parse_fact_trusted
from server.io.journal import offline

FORMAT = "launchday-backup"
VERSION = 1
MANIFEST = "backup.json"
REDIS_FILE = "streams.jsonl"


class BackupError(LaunchdayError):
    default_code = "backup_invalid"


def add_parser(sub: Any, data_default: str) -> None:
    for name, text in (("backup", "copy the whole store into a new directory OUT, while the server runs"),
                       ("restore", "load a backup directory OUT into an empty store")):
        p = sub.add_parser(name, help=text)
        p.add_argument("out", metavar="OUT")
        p.add_argument("--data", default=data_default, help="data directory (default: %(default)s)")
        p.add_argument("--redis", default=os.environ.get("LAUNCHDAY_REDIS") or None, metavar="URL",
                       help="the store is this Redis instead of the data directory")
        if name == "restore":
            p.add_argument("--redis-durability", choices=("always", "everysec", "unchecked"), default="always",
                           help="the weakest Redis appendfsync to accept (default always)")


def run(args: argparse.Namespace) -> int:
    try:
        return _backup(args) if args.command == "backup" else _restore(args)
    except LaunchdayError as err:
        print(f"launchday {args.command}: {err.code}: {err.message}", file=sys.stderr)
        return 2


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- backup -------------------------------------------------------------------


def backup_sqlite(data: Path, out: Path) -> dict[str, int]:
    """The online backup API, from a read-only connection: a consistent copy
    while the server keeps writing (it is never blocked)."""
    src = offline.ro_connect(data / offline.JOURNAL_FILE)
    dst = sqlite3.connect(out / offline.JOURNAL_FILE)
    try:
        src.backup(dst, pages=1024)
        rows = dst.execute("SELECT stream, MAX(seq) FROM facts GROUP BY stream").fetchall()
    finally:
        dst.close()
        src.close()
    return {stream: int(seq) for stream, seq in rows}


async def backup_redis(url: str) -> tuple[bytes, dict[str, int]]:
    """Every stream's facts up to its last seq at the start, and its snapshot."""
    reader = offline.RedisReader(url)
    streams: dict[str, int] = {}
    out: list[bytes] = []
    try:
        for stream in await reader.streams():
            top = await reader.last_seq(stream)
            snapshot = await reader.snapshot(stream)
            rows = await reader.read_raw(stream, top)
            out.extend(orjson.dumps({"stream": stream, "seq": seq, "f": body}) + b"\n" for seq, body in rows)
            if snapshot is not None and snapshot[0] <= top:
                out.append(orjson.dumps({"stream": stream, "snapshot_seq": snapshot[0],
                                         "data": base64.b64encode(snapshot[1]).decode()}) + b"\n")
            streams[stream] = len(rows)
    finally:
        await reader.close()
    return b"".join(out), streams


def _backup(args: argparse.Namespace) -> int:
    from server.io.clock import now_ms

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise BackupError(f"{out} exists and is not empty; back up into a new directory", code="backup_exists")
    out.mkdir(parents=True, exist_ok=True)
    taken = now_ms()
    if args.redis:
        data, streams = asyncio.run(backup_redis(args.redis))
        (out / REDIS_FILE).write_bytes(data)
        kind = "redis"
    else:
        kind, streams = "sqlite", backup_sqlite(Path(args.data), out)
    files = {name: _sha(out / name) for name in (offline.JOURNAL_FILE, REDIS_FILE) if (out / name).exists()}
    manifest = {"format": FORMAT, "version": VERSION, "kind": kind, "taken_at_ms": taken,
                "streams": streams, "files": files}
    (out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")
    facts = sum(streams.values())
    print(f"launchday backup: {len(streams)} streams, {facts} facts ({kind}) in {out}")
    return 0


# -- restore --------------------------------------------------------------------


def read_manifest(out: Path) -> dict[str, Any]:
    try:
        manifest = orjson.loads((out / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise BackupError(f"{out} has no {MANIFEST}: not a launchday backup", code="backup_invalid") from None
    except orjson.JSONDecodeError:
        raise BackupError(f"{out / MANIFEST} is not valid JSON", code="backup_tampered") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"not a launchday backup of version {VERSION}", code="backup_version")
    for name, digest in (manifest.get("files") or {}).items():
        if not (out / name).is_file():
            raise BackupError(f"{name} is missing from the backup", code="backup_truncated")
        if _sha(out / name) != digest:
            raise BackupError(f"{name} does not match its checksum", code="backup_tampered")
    if not manifest.get("files"):
        raise BackupError("the backup names no files", code="backup_truncated")
    return manifest


def backup_streams(out: Path, manifest: dict[str, Any]) -> dict[str, tuple[list[str], Any]]:
    """stream -> (fact bodies in seq order, snapshot or None), from a backup directory."""
    result: dict[str, tuple[list[str], Any]] = {}
    if manifest["kind"] == "sqlite":
        db = offline.ro_connect(out / offline.JOURNAL_FILE)
        try:
            for stream, body in db.execute("SELECT stream, body FROM facts ORDER BY stream, seq"):
                result.setdefault(stream, ([], None))[0].append(body)
            for stream, seq, data in db.execute("SELECT stream, seq, data FROM snapshots"):
                if stream in result:
                    result[stream] = (result[stream][0], (int(seq), bytes(data)))
        finally:
            db.close()
        return result
    with open(out / REDIS_FILE, "rb") as f:
        for raw in f:
            line = orjson.loads(raw)
            bodies, _ = result.setdefault(line["stream"], ([], None))
            if "f" in line:
                if line["seq"] != len(bodies) + 1:
                    raise BackupError(f"stream {line['stream']}: seq {line['seq']} out of order",
                                      code="backup_tampered")
                bodies.append(line["f"])
            else:
                result[line["stream"]] = (bodies, (line["snapshot_seq"], base64.b64decode(line["data"])))
    return result


def _restore(args: argparse.Namespace) -> int:
    out = Path(args.out)
    manifest = read_manifest(out)
    streams = backup_streams(out, manifest)
    for stream, want in manifest["streams"].items():
        if len(streams.get(stream, ([], None))[0]) != want:
            raise BackupError(f"stream {stream}: the backup holds fewer facts than its manifest says",
                              code="backup_truncated")
    asyncio.run(_load(args, streams))
    print(f"launchday restore: {len(streams)} streams, {sum(len(b) for b, _ in streams.values())} facts")
    return 0


async def _load(args: argparse.Namespace, streams: dict[str, tuple[list[str], Any]]) -> None:
    journal = await offline.open_writer(args.data, args.redis, args.redis_durability)
    try:
        present = set(await journal.streams()) & set(streams)
        if present:
            raise BackupError(f"the target store already has {len(present)} of these streams "
                              f"({', '.join(sorted(present)[:3])}); restore into an empty store",
                              code="store_not_empty")
        # _org first, so an organizer token works as soon as its event appears.
        for stream in sorted(streams, key=lambda s: (s != "_org", s)):
            bodies, snapshot = streams[stream]
            await offline.append_all(journal, stream, [parse_fact_trusted(b) for b in bodies])
            if snapshot is not None:
                await journal.save_snapshot(stream, snapshot[0], snapshot[1])
    finally:
        await journal.close()
