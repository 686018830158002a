"""The point client's outbox: mutating messages kept until answered.

Every message that changes something carries an ``id`` chosen when it is
created; the server applies an id at most once and answers each arrival with
``ack`` or ``error`` (docs/protocol.md#websocket-frames). So the client can
resend whatever was not answered, with the same id, after any reconnect or
restart, without double-counting. This module holds that list, in order,
optionally mirrored to a JSON file so a kiosk restart loses nothing.

It has no I/O beyond that file and knows nothing of sockets or asyncio: the
protocol state (checkin/protocol.py) marks entries sent and removes them when
an answer arrives; the callers' futures are the driver's (checkin/client.py),
kept by id.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

__all__ = ["Entry", "Outbox", "new_id_factory"]

log = structlog.get_logger("checkin.outbox")

FILE_VERSION = 1


def new_id_factory() -> Iterator[str]:
    """Yield ids ``<12 random hex>-<counter>``: short, ordered, unique per point.

    The random prefix (48 bits) keeps ids from two lives of the same kiosk
    apart; the counter keeps them readable in the server's audit log.
    """
    prefix = secrets.token_hex(6)
    n = 0
    while True:
        n += 1
        yield f"{prefix}-{n}"


@dataclass(eq=False)
class Entry:
    """One pending message.

    ``sent`` is whether it was *ever* written to a socket (persisted: after a
    restart we cannot know whether the server got it, so we assume it may
    have). ``sent_gen`` is the connection generation it was last written on,
    so each new connection resends it exactly once.
    """

    id: str
    message: dict[str, Any]
    sent: bool = False
    sent_gen: int = -1
    retries: int = 0  # resends after a retryable error (not persisted)

    @property
    def type(self) -> str:
        return str(self.message.get("type"))


class Outbox:
    """Ordered pending entries, keyed by id."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._entries: dict[str, Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def get(self, entry_id: str) -> Entry | None:
        return self._entries.get(entry_id)

    def add(self, entry: Entry) -> list[Entry]:
        """Append ``entry``; return the entries it superseded (already removed).

        A newer ``attendees`` count supersedes older pending ones, but only
        those never written to a socket: one that was written may have been
        applied, and dropping it would leave the client unsure which count
        the server holds; resending it is harmless, since the newer one
        follows it in order and the server applies each id at most once.
        """
        superseded: list[Entry] = []
        if entry.type == "attendees":
            for old in list(self._entries.values()):
                if old.type == "attendees" and not old.sent:
                    del self._entries[old.id]
                    superseded.append(old)
        self._entries[entry.id] = entry
        self._save()
        return superseded

    def pop(self, entry_id: str) -> Entry | None:
        entry = self._entries.pop(entry_id, None)
        if entry is not None:
            self._save()
        return entry

    def unsent(self, gen: int) -> list[Entry]:
        """Entries not yet written on connection ``gen``, in creation order."""
        return [e for e in self._entries.values() if e.sent_gen != gen]

    def mark_sent(self, entry: Entry, gen: int) -> None:
        entry.sent_gen = gen
        if not entry.sent:
            entry.sent = True
            self._save()

    def clear(self) -> list[Entry]:
        entries = list(self._entries.values())
        self._entries.clear()
        self._save()
        return entries

    # -- persistence -----------------------------------------------------------
    def load(self) -> int:
        """Read entries saved by an earlier run; return how many."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            rows = data["entries"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # A corrupt file must not keep the kiosk from starting; keep it aside.
            log.warning("outbox_unreadable", path=str(self.path), error=repr(exc))
            with contextlib.suppress(OSError):
                self.path.replace(self.path.with_suffix(self.path.suffix + ".corrupt"))
            return 0
        loaded = 0
        for row in rows:
            try:
                entry_id, message, sent = str(row["id"]), dict(row["message"]), bool(row["sent"])
            except (KeyError, TypeError, ValueError):
                continue
            if entry_id in self._entries:
                continue
            self._entries[entry_id] = Entry(entry_id, message, sent=sent)
            loaded += 1
        return loaded

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "version": FILE_VERSION,
            "entries": [
                {"id": e.id, "message": e.message, "sent": e.sent} for e in self._entries.values()
            ],
        }
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            # Atomic on POSIX: a crash leaves the old file or the new, never half.
            tmp.replace(self.path)
        except OSError as exc:
            log.warning("outbox_save_failed", path=str(self.path), error=repr(exc))
