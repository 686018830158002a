"""The ``launchday`` command: serve, demo, token, registry, event, backup, restore."""

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
    p.add_argument("--redis", default=os.environ.get("LAUNCHDAY_REDIS") or None, metavar="URL",
                   help="run as one process of a cluster on this Redis: redis://host:port/db, or "
                        "redis+sentinel://host:port[,host:port]/service/db (default: the embedded journal)")
    p.add_argument("--redis-replicas", type=int, default=int(os.environ.get("LAUNCHDAY_REDIS_REPLICAS", "0")),
                   metavar="N", help="acknowledge a write only once N replicas have it (WAIT N); 1 with Sentinel")
    p.add_argument("--redis-durability", choices=("always", "everysec", "unchecked"),
                   default=os.environ.get("LAUNCHDAY_REDIS_DURABILITY", "always"),
                   help="the weakest Redis appendfsync to accept (default always: refuse to start otherwise)")
    p.add_argument("--trusted-proxy", default=os.environ.get("LAUNCHDAY_TRUSTED_PROXIES") or None,
                   metavar="CIDR[,CIDR]",
                   help="believe X-Forwarded-For/-Proto only from these addresses (the reverse proxy's; "
                        "default: none, the headers are ignored)")
    p.add_argument("--uvloop", action=argparse.BooleanOptionalAction,
                   default=os.environ.get("LAUNCHDAY_UVLOOP", "1") != "0",
                   help="run on uvloop (default; measured to halve the CPU per frame, docs/benchmarks.md)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="launchday", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server (the embedded journal, or one process of a cluster on Redis)")
    _common(serve, 8080)
    demo = sub.add_parser("demo", help="create the Thanh Hóa demo event (today's 166 communes and wards, about "
                                       "1,000 points, grouped by commune) and serve it")
    _common(demo, 8080)
    demo.add_argument("--seed", type=int, default=2025)
    demo.add_argument("--simulate", action="store_true",
                      help="play a morning against the demo: points arriving 06:30-07:45 over real sockets, "
                           "incidents, then the agenda and a rehearsal launch")
    demo.add_argument("--speed", type=float, default=15.0,
                      help="with --simulate: simulated seconds per real second (default 15: the morning in ~5 min)")
    which = demo.add_mutually_exclusive_group()
    which.add_argument("--reference-2025", dest="registry", action="store_const", const="reference-2025",
                       default="today", help="the reference morning instead: Thanh Hóa's three-tier registry of "
                                             "8 May 2025 (27 districts, 1,018 points), grouped by district")
    which.add_argument("--national", dest="registry", action="store_const", const="national",
                       help="the whole country in one event (34 provinces, 3,321 communes, ~36,000 points), "
                            "grouped by province; --simulate plays at most 2,000 of them")
    # -- launchday token (organizer tokens; see cli_token.py) --
    from server.io import cli_token

    cli_token.add_parser(sub, os.environ.get("LAUNCHDAY_DATA", "data"))
    # -- launchday registry (the official list's import sheet; see cli_registry.py) --
    from server.io import cli_registry

    cli_registry.add_parser(sub)
    # -- launchday event / backup / restore (see cli_event.py, cli_backup.py) --
    from server.io import cli_backup, cli_event

    cli_event.add_parser(sub, os.environ.get("LAUNCHDAY_DATA", "data"))
    cli_backup.add_parser(sub, os.environ.get("LAUNCHDAY_DATA", "data"))
    args = parser.parse_args(argv)
    if args.command == "token":
        raise SystemExit(cli_token.run(args))
    # -- end launchday token --
    if args.command == "registry":
        raise SystemExit(cli_registry.run(args))
    # -- end launchday registry --
    if args.command == "event":
        raise SystemExit(cli_event.run(args))
    if args.command in ("backup", "restore"):
        raise SystemExit(cli_backup.run(args))
    logs.configure(args.log_level)
    if args.uvloop:
        try:
            import uvloop
        except ImportError:  # a platform without it: plain asyncio works, slower
            pass
        else:
            uvloop.install()
    # Imported after the event loop policy is chosen and logging is set up.
    from server.io import memtrace
    from server.io.app import create_app

    memtrace.install(Path(args.data))  # LAUNCHDAY_TRACEMALLOC: off unless set (measurements only)
    try:
        app = create_app(Path(args.data), redis_url=args.redis, redis_replicas=args.redis_replicas,
                         redis_durability=args.redis_durability, trusted_proxies=args.trusted_proxy)
    except ValueError as exc:  # a malformed --trusted-proxy
        print(f"launchday: --trusted-proxy / LAUNCHDAY_TRUSTED_PROXIES: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "demo":
        from server.demo.run import setup_demo, stop_demo

        if args.simulate and args.speed <= 0:
            parser.error("--speed must be > 0")
        speed = args.speed if args.simulate else None
        if args.simulate and args.log_level is None:
            logs.configure("warning")  # a thousand simulated devices would flood the terminal at info
        app.on_startup.append(lambda app: setup_demo(app, args.seed, args.host, args.port, speed, args.registry))
        app.on_shutdown.insert(0, stop_demo)
    try:
        web.run_app(app, host=args.host, port=args.port, print=_ready(args.host, args.port),
                    shutdown_timeout=5.0, handle_signals=True)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"launchday: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    except (RuntimeError, ValueError) as exc:  # the journal refused to open (locked, Redis unfit)
        print(f"launchday: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _ready(host: str, port: int):  # type: ignore[no-untyped-def]
    def say(_: str) -> None:
        print(f"launchday: serving on http://{host}:{port}/ (Ctrl+C or SIGTERM to stop)", flush=True)

    return say




if __name__ == "__main__":  # pragma: no cover
    main()
