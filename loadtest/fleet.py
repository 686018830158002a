"""A fleet of simulated points in one process, driven over stdin/stdout.

Used by the synchronized-launch tests and the benchmarks: several fleet
processes each play hundreds of devices with the one protocol client
(checkin.PointClient), each device with its own wrong clock, so that the
test process itself is not the bottleneck or the source of timing error.

    python -m loadtest.fleet --server URL --tokens FILE [--offset-ms 5000] [--seed 1]

Prints JSON lines: {"event": "ready", ...} once every client is connected
and clock-synced, then {"event": "result", "clients": [...]} when every
client has fired (or at --fire-timeout), and exits.

Clock sync is staggered (--sync-concurrency at a time): a thousand devices
pinging at once would measure this process's own queueing, not the network.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import sys
import time
from typing import Any

from checkin import PointClient
from server.io import logs


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def run(args: argparse.Namespace, tokens: list[str]) -> None:
    rng = random.Random(args.seed)
    gate = asyncio.Semaphore(args.sync_concurrency)
    fired = asyncio.Event()
    clients: list[PointClient] = []
    count = {"fired": 0}

    def on_fire(_: float) -> None:
        count["fired"] += 1
        if count["fired"] >= len(tokens):
            fired.set()

    async def start(token: str) -> PointClient:
        async with gate:
            client = PointClient(args.server, token, clock_offset_ms=rng.uniform(-args.offset_ms, args.offset_ms),
                                 on_fire=on_fire, rng=random.Random(rng.random()),
                                 ping_spacing_s=args.ping_spacing_s)
            clients.append(client)
            await client.start()
            await client.wait_synced(timeout=60)
            return client

    started = time.monotonic()
    await asyncio.gather(*(start(t) for t in tokens))
    # A quiet second round, a few clients at a time: the first round ran while
    # this process (and the server) were busy connecting everyone, and its
    # queueing shows up as clock error.
    quiet = asyncio.Semaphore(args.quiet_concurrency)

    async def resync(client: PointClient) -> None:
        async with quiet:
            await client.resync(timeout=30)

    if args.quiet_concurrency:
        await asyncio.gather(*(resync(c) for c in clients))
    gc.collect()
    gc.freeze()  # the clients' long-lived objects: later collections skip them
    emit({"event": "ready", "n": len(clients), "seconds": time.monotonic() - started,
          "worst_bound_ms": max(c.error_bound_ms or 0.0 for c in clients)})
    try:
        await asyncio.wait_for(fired.wait(), args.fire_timeout)
    except TimeoutError:
        pass
    if args.linger_s:
        await asyncio.sleep(args.linger_s)  # let the launch.fired reports go out
    emit({"event": "result", "clients": [
        {"code": (c.point or {}).get("code"), "fired_local_wall_ms": c.fired_local_wall_ms,
         "fired_server_ms": c.fired_server_ms, "offset_ms": c.offset_ms, "rtt_ms": c.rtt_ms,
         "simulated_offset_ms": c.clock.local.offset_ms, "launch": (c.launch or {}).get("state"),
         "connects": len(c.connect_times)}
        for c in clients]})
    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)


def main() -> None:
    p = argparse.ArgumentParser(prog="loadtest.fleet")
    p.add_argument("--server", required=True)
    p.add_argument("--tokens", required=True, help="a file with one point token per line")
    p.add_argument("--offset-ms", type=float, default=5000.0, help="device clocks wrong by up to ± this")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sync-concurrency", type=int, default=25)
    p.add_argument("--ping-spacing-s", type=float, default=0.02)
    p.add_argument("--quiet-concurrency", type=int, default=10,
                   help="clients re-syncing at once in the quiet round (0: no quiet round)")
    p.add_argument("--fire-timeout", type=float, default=120.0)
    p.add_argument("--linger-s", type=float, default=1.5)
    args = p.parse_args()
    logs.configure("warning", "console")  # stdout carries the JSON lines; logs go to stderr
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    del soft
    with open(args.tokens) as fh:
        tokens = [line.strip() for line in fh if line.strip()]
    asyncio.run(run(args, tokens))


if __name__ == "__main__":
    main()
