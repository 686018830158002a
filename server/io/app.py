"""Wiring: the aiohttp application, its routes, start-up and shutdown."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from aiohttp import web

from server.io import gcpolicy, looplag
from server.io.http import pages, routes
from server.io.http.auth import STORE_KEY, errors_middleware
from server.io.http.proxy import TRUSTED_KEY, forwarded_middleware, parse_networks
from server.io.journal.sqlite import JournalBusy, SqliteJournal
from server.io.limits import GUARD_KEY, MAX_IMPORT_BODY, Guard
from server.io.store import Store
from server.io.ws import firing
from server.io.ws.hub import CLOSE_GOING_AWAY

log = structlog.get_logger("launchday.app")

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = MAX_IMPORT_BODY  # the largest body any route takes (docs/protocol.md#limits)


def admin_token(data_dir: Path) -> tuple[str, bool]:
    """The first admin token: LAUNCHDAY_ADMIN_TOKEN, else the one saved in the
    data directory, else a new one saved there. True if it was just generated."""
    env = os.environ.get("LAUNCHDAY_ADMIN_TOKEN", "").strip()
    if env:
        return env, False
    path = data_dir / "admin_token"
    if path.exists():
        return path.read_text().strip(), False
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token, True


def make_store(data: Path, token: str, redis_url: str | None = None, redis_replicas: int = 0,
               redis_durability: str = "always") -> Store:
    """The embedded journal in ``data``, or one process of a cluster on Redis."""
    if not redis_url:
        return Store(SqliteJournal(data / "journal.sqlite3"), token)
    from server.io.journal.redis import RedisJournal
    from server.io.presence import RedisPresence

    journal = RedisJournal(redis_url, replicas=redis_replicas, durability=redis_durability)
    return Store(journal, token, RedisPresence(journal))


async def _check_routes(app: web.Application) -> None:
    routes.check(app)  # at start, after every route is added: none escapes the table


def create_app(data_dir: str | Path, token: str | None = None, *, redis_url: str | None = None,
               redis_replicas: int = 0, redis_durability: str = "always",
               trusted_proxies: str | None = None) -> web.Application:
    """``trusted_proxies``: the networks whose X-Forwarded-For/-Proto are
    believed (server/io/http/proxy.py); ValueError on a malformed one."""
    data = Path(data_dir)
    trusted = parse_networks(trusted_proxies)
    if token is None:
        token, fresh = admin_token(data)
        if fresh:
            print(f"launchday: generated the admin token (saved in {data / 'admin_token'}):\n  {token}",
                  flush=True)
    # The forwarded address and scheme first: every later step sees the phone's.
    app = web.Application(middlewares=[forwarded_middleware, errors_middleware, routes.roles_middleware,
                                       pages.compress_pages], client_max_size=MAX_BODY)
    app[TRUSTED_KEY] = trusted
    store = make_store(data, token, redis_url, redis_replicas, redis_durability)
    app[STORE_KEY] = store
    app[GUARD_KEY] = Guard()

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        try:
            await gcpolicy.open_store(store)  # then the loaded state is frozen: full collections skip it
        except JournalBusy:
            raise
        except Exception as exc:
            if redis_url:
                # One process of a cluster that cannot reach or trust its Redis
                # exits (a supervisor restarts it): the others serve meanwhile.
                raise
            # A read-only or unreadable data directory: keep serving so that
            # /healthz answers 503 with the reason, and every write is refused
            # (503 unavailable); nothing is acknowledged.
            health = getattr(store.journal, "health", None)
            reason = (health() if health else None) or repr(exc)
            log.error("store_open_failed", data=str(data), error=repr(exc))
            print(f"launchday: cannot open the journal in {data}: {exc}\n"
                  "  serving /healthz as failing; fix the data directory and restart", file=sys.stderr, flush=True)
            log.info("store_failed", reason=reason)
        else:
            log.info("store_opened", events=len(store.events), data=str(data),
                     journal="redis" if redis_url else "sqlite")
        lag = looplag.start()  # /metrics: how late the loop answers, and how much of it was our own work
        yield
        await looplag.stop(lag)
        await gcpolicy.stop(store)
        await firing.close_all()
        await store.close()
        log.info("store_closed")

    async def on_shutdown(app: web.Application) -> None:
        # Tell every device we are going away (1001): they reconnect with
        # jitter to this server or another one.
        for rt in store.events.values():
            rt.room.close_all(CLOSE_GOING_AWAY, "server shutting down")

    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(on_shutdown)
    routes.install(app)
    app.on_startup.append(_check_routes)
    return app
