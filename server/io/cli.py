"""The ``launchday`` command: serve, demo, token."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from aiohttp import web

from server.io import logs


def _common(p: argparse.ArgumentParser, port: int) -> None:
    p.add_argument("--host", default=os.environ.get("LAUNCHDAY_HOST", "127.0.0.1"),
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--port", type=int, default=int(os.environ.get("LAUNCHDAY_PORT", port)))
    p.add_argument("--data", default=os.environ.get("LAUNCHDAY_DATA", "data"),
                   help="data directory: the journal and the generated admin token")
    p.add_argument("--log-level", default=None, help="debug, info, warning (default info)")
    p.add_argument("--uvloop", action=argparse.BooleanOptionalAction,
                   default=os.environ.get("LAUNCHDAY_UVLOOP", "1") != "0",
                   help="run on uvloop (default; measured to halve the CPU per frame, docs/benchmarks.md)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="launchday", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server on the embedded journal")
    _common(serve, 8080)
    demo = sub.add_parser("demo", help="create the Thanh Hóa demo event (about 1,000 points) and serve it")
    _common(demo, 8080)
    demo.add_argument("--seed", type=int, default=2025)
    # -- launchday token (organizer tokens; see cli_token.py) --
    from server.io import cli_token

    cli_token.add_parser(sub, os.environ.get("LAUNCHDAY_DATA", "data"))
    args = parser.parse_args(argv)
    if args.command == "token":
        raise SystemExit(cli_token.run(args))
    # -- end launchday token --
    logs.configure(args.log_level)
    if args.uvloop:
        try:
            import uvloop
        except ImportError:  # a platform without it: plain asyncio works, slower
            pass
        else:
            uvloop.install()
    # Imported after the event loop policy is chosen and logging is set up.
    from server.io.app import create_app

    app = create_app(Path(args.data))
    if args.command == "demo":
        from server.io.demo import setup_demo

        app.on_startup.append(lambda app: setup_demo(app, args.seed, args.host, args.port))
    try:
        web.run_app(app, host=args.host, port=args.port, print=_ready(args.host, args.port),
                    shutdown_timeout=5.0, handle_signals=True)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"launchday: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1) from None


def _ready(host: str, port: int):  # type: ignore[no-untyped-def]
    def say(_: str) -> None:
        print(f"launchday: serving on http://{host}:{port}/ (Ctrl+C or SIGTERM to stop)", flush=True)

    return say




if __name__ == "__main__":  # pragma: no cover
    main()
