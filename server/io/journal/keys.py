"""Every Redis key launchday uses, in one place (as arq's ``constants.py``).

A stream's keys carry its name in ``{braces}``, so on a Redis Cluster one
event's keys would share a hash slot (the append script touches several of
them). The index of streams is a key of its own: launchday runs on one Redis
primary (with replicas and Sentinel), not on a Cluster.

    ld:streams                  Stream   one entry per journal stream, added by
                                         the append that creates the stream
                                         (field ``stream``): every process tails
                                         it to learn of events created elsewhere
    ld:{S}:facts                Stream   the facts of stream S; entry id
                                         ``<seq>-0``, field ``f`` the fact's JSON
    ld:{S}:meta                 Hash     ``seq`` (the last seq)
    ld:{S}:snapshot             Hash     ``seq``, ``data``: the latest snapshot
    ld:{S}:presence             Hash     process id -> JSON of the points that
                                         process holds (server/io/presence.py)
    ld:{S}:presence:expiry      Sorted set  process id -> ms when its entry expires
    ld:{S}:presence:version     String   bumped on every presence write
    ld:{S}:lease:<name>         String   a once-per-cluster lease (SET NX PX)
"""

from __future__ import annotations

PREFIX = "ld"

STREAMS = f"{PREFIX}:streams"


def facts(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:facts"


def meta(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:meta"


def snapshot(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:snapshot"


def presence(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:presence"


def presence_expiry(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:presence:expiry"


def presence_version(stream: str) -> str:
    return f"{PREFIX}:{{{stream}}}:presence:version"


def lease(stream: str, name: str) -> str:
    return f"{PREFIX}:{{{stream}}}:lease:{name}"


def entry_id(seq: int) -> str:
    """The stream entry id of the fact numbered ``seq``."""
    return f"{seq}-0"


def seq_of(entry_id: bytes | str) -> int:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])
