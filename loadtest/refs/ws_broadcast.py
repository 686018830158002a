"""Reference server: the smallest `websockets` broadcast (not part of launchday).

The load test measures launchday's launch fan-out against this: it accepts
any number of WebSocket connections on ``/``, greets each with one ``hello``
text frame, and when a control connection on ``/control`` sends the text
``broadcast`` it sends one pre-encoded text frame (the ``--payload`` file) to
every other connection with ``websockets.broadcast`` (the library's own
encode-once, no-await-per-socket fan-out), then answers the control
connection with ``{"fanout_s": <time spent in broadcast()>, "n": <sockets>}``.

    python loadtest/refs/ws_broadcast.py --port 0 --payload FILE [--no-uvloop]

Prints ``{"ready": <port>}`` on stdout once listening. Compression and
keepalive pings are off, as for launchday's sockets (launchday keeps its
20 s heartbeat: that is part of what it is).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from pathlib import Path

from websockets.asyncio.server import ServerConnection, broadcast, serve


async def main(args: argparse.Namespace, frame: str) -> None:
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        if ws.request is not None and ws.request.path == "/control":
            async for msg in ws:
                if msg == "broadcast":
                    t0 = time.perf_counter()
                    broadcast(clients, frame)
                    elapsed = time.perf_counter() - t0
                    await ws.send(json.dumps({"fanout_s": elapsed, "n": len(clients)}))
            return
        clients.add(ws)
        try:
            await ws.send("hello")
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", args.port, compression=None, ping_interval=None,
                     max_size=64 * 1024) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(json.dumps({"ready": port}), flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--payload", required=True, help="a file with the text to broadcast")
    ap.add_argument("--uvloop", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if a.uvloop:
        import uvloop

        uvloop.install()
    try:
        asyncio.run(main(a, Path(a.payload).read_text()))
    except KeyboardInterrupt:
        pass
