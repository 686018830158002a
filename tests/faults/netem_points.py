"""Run inside the test's network namespace: N point clients against the
server, each reporting when it fired and its own error bound (JSON lines on
stdout). Used by test_soak.py::test_points_behind_a_bad_link_fire_within_their_bound."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from checkin import PointClient


async def main(base: str, tokens: list[str], fire_deadline_s: float) -> None:
    clients = [PointClient(base, t, resync_interval_s=3600) for t in tokens]
    fired: dict[int, float] = {}
    for c in clients:
        await c.start()
    await asyncio.gather(*(c.wait_synced(30) for c in clients))
    print(json.dumps({"synced": len(clients)}), flush=True)
    end = time.monotonic() + fire_deadline_s
    while time.monotonic() < end and len(fired) < len(clients):
        for i, c in enumerate(clients):
            if c.fired_local_wall_ms is not None and i not in fired:
                fired[i] = c.fired_local_wall_ms
        await asyncio.sleep(0.05)
    for i, c in enumerate(clients):
        print(json.dumps({"i": i, "fired_wall_ms": fired.get(i), "fire_at_ms": c.launch.get("fire_at_ms"),
                          "rtt_ms": c.rtt_ms, "offset_ms": c.offset_ms, "bound_ms": c.error_bound_ms}), flush=True)
    await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])))
