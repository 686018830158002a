"""Real programs for tests: redis-server, a Sentinel, ``launchday serve`` and
Debian's nginx, each on a free port in the test's own directory.

Every class starts its program in ``start()`` and waits (on a condition, with
the scaled timeout of tests/utils.py) until it answers; a program that exits
or never answers fails the test with the tail of its log. Each is a context
manager (``with`` and ``async with``; the async forms start and stop in a
thread so the event loop keeps serving other sockets meanwhile). ``kill()`` is
SIGKILL (a crash), ``stop()``/``terminate()`` is SIGTERM and wait (a clean stop).

The shared Redis on port 6379 is never used: every RedisServer has its own
port and directory, with AOF on and ``appendfsync always``.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.error import URLError
from urllib.request import urlopen

from tests.utils import ADMIN, ROOT, free_port, timeout

__all__ = ["LaunchdayProcess", "Nginx", "RedisServer", "Sentinel", "TlsFiles", "free_port"]

FORBIDDEN_PORT = 6379  # the machine's shared Redis: never start on it, never talk to it

# Every program started and not yet stopped: a test run that ends abruptly
# (an interrupt, a crash of pytest) still leaves no process behind.
_LIVE: set[_Program] = set()


@atexit.register
def _kill_leftovers() -> None:
    for program in list(_LIVE):
        program.kill()


def _wait(cond: Callable[[], bool], seconds: float, what: str, proc: _Program) -> None:
    """Poll ``cond`` until true; fail if the program exits or ``seconds`` (scaled) pass."""
    deadline = time.monotonic() + timeout(seconds)
    poll = 0.01
    while True:
        if proc.proc is not None and proc.proc.poll() is not None:
            raise AssertionError(
                f"{proc.name} exited with {proc.proc.returncode} while waiting for {what}\n{proc.tail()}")
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{proc.tail()}")
        time.sleep(poll)
        poll = min(poll * 2, 0.1)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _resp(port: int, *args: str, wait: float = 1.0) -> bytes | None:
    """Send one Redis command (RESP) and return the first reply chunk, or None if unreachable."""
    cmd = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
            s.sendall(cmd)
            return s.recv(65536)
    except OSError:
        return None


class _Program:
    """One subprocess with its log file; subclasses say how to start and when it is ready."""

    name = "program"

    def __init__(self, dir: Path, port: int | None) -> None:
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        if self.port == FORBIDDEN_PORT:
            raise ValueError("port 6379 is the shared Redis; tests never use it")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / f"{self.name}-{self.port}.log"

    # -- subclass hooks
    def argv(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str] | None:
        return None

    def cwd(self) -> Path | None:
        return None

    def ready(self) -> bool:
        return _accepts(self.port)

    ready_seconds = 10.0

    # -- life cycle
    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} is not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True) -> Self:
        """Start; with ``wait`` (the default), return once it answers (else fail with its log)."""
        assert not self.running, f"{self.name} is already running"
        with open(self.log_path, "ab") as log:
            log.write(f"--- start: {' '.join(self.argv())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=self.env(), cwd=self.cwd())
        _LIVE.add(self)
        if not wait:
            return self
        try:
            _wait(self.ready, self.ready_seconds, f"{self.name} on port {self.port} to answer", self)
        except BaseException:
            self.kill()
            raise
        return self

    def kill(self) -> int | None:
        """SIGKILL, as a crash or a power cut would; returns the exit code."""
        return self._signal(signal.SIGKILL)

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL if it does not exit in time)."""
        return self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> int | None:
        if self.proc is None:
            return None
        _LIVE.discard(self)
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=timeout(15))
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(timeout=timeout(15))

    def wait_ready(self, seconds: float | None = None) -> Self:
        """Wait until it answers (after ``start(wait=False)``, or after its backend came back)."""
        _wait(self.ready, seconds or self.ready_seconds, f"{self.name} on port {self.port} to answer", self)
        return self

    def restart(self) -> Self:
        """Stop (if running) and start again: same directory, same port, same data."""
        self.stop()
        return self.start()

    def tail(self, chars: int = 4000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return f"({self.name}: no log at {self.log_path})"
        return f"--- {self.name} log ({self.log_path}), last {chars} chars:\n{text[-chars:]}"

    # -- context managers; a failing block prints the log tail (pytest shows it with the failure)
    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        if et is not None:
            print(self.tail(), file=sys.stderr)
        self.kill() if et is not None else self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await asyncio.to_thread(self.__exit__, et, e, tb)

    async def astart(self, wait: bool = True) -> Self:
        return await asyncio.to_thread(self.start, wait)

    async def await_ready(self, seconds: float | None = None) -> Self:
        return await asyncio.to_thread(self.wait_ready, seconds)

    async def astop(self) -> int | None:
        return await asyncio.to_thread(self.stop)

    async def arestart(self) -> Self:
        return await asyncio.to_thread(self.restart)


class RedisServer(_Program):
    """``redis-server`` with AOF on, no RDB, in ``dir`` (restart keeps the AOF).

    ``replicaof=(host, port)`` makes it a replica of another RedisServer.
    ``conf=PATH`` runs that config file instead (a deployment's own), with
    only the port, bind address and directory overridden for the test."""

    name = "redis"

    def __init__(self, dir: Path, port: int | None = None, appendfsync: str = "always",
                 extra_args: Sequence[str] = (), replicaof: tuple[str, int] | None = None,
                 conf: Path | None = None) -> None:
        super().__init__(dir, port)
        self.appendfsync = appendfsync
        self.extra_args = list(extra_args)
        self.replicaof = replicaof
        self.conf = conf

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def argv(self) -> list[str]:
        if self.conf is not None:
            return [shutil.which("redis-server") or "redis-server", str(self.conf),
                    "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                    "--daemonize", "no", *self.extra_args]
        args = [shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", "",
                "--daemonize", "no", "--protected-mode", "no",
                # A replica's first sync starts at once (the default waits 5 s for more replicas).
                "--repl-diskless-sync-delay", "0"]
        if self.replicaof:
            args += ["--replicaof", self.replicaof[0], str(self.replicaof[1])]
        return args + self.extra_args

    def ready(self) -> bool:
        # PONG, not -LOADING: the AOF has been replayed.
        return (_resp(self.port, "PING") or b"").startswith(b"+PONG")

    def command(self, *args: str) -> bytes | None:
        """One raw command (a test's quick look; use redis-py for anything more)."""
        return _resp(self.port, *args)


class Sentinel(_Program):
    """One Redis Sentinel watching ``master_port`` under the master name ``launchday``.

    Short timings so a failover happens within seconds of the primary's death."""

    name = "sentinel"
    MASTER = "launchday"

    def __init__(self, dir: Path, master_port: int, quorum: int = 1, port: int | None = None,
                 down_after_ms: int = 1000, failover_timeout_ms: int = 5000) -> None:
        super().__init__(dir, port)
        self.master_port = master_port
        self.conf = self.dir / f"sentinel-{self.port}.conf"
        # Sentinel rewrites its own config file (known replicas, epochs); write it once.
        self.conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.dir}\nprotected-mode no\n"
            f"sentinel monitor {self.MASTER} 127.0.0.1 {master_port} {quorum}\n"
            f"sentinel down-after-milliseconds {self.MASTER} {down_after_ms}\n"
            f"sentinel failover-timeout {self.MASTER} {failover_timeout_ms}\n"
            f"sentinel parallel-syncs {self.MASTER} 1\n")

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.port}/{self.MASTER}/0"

    def argv(self) -> list[str]:
        return [shutil.which("redis-server") or "redis-server", str(self.conf), "--sentinel"]

    def ready(self) -> bool:
        return (_resp(self.port, "PING") or b"").startswith(b"+PONG")

    def command(self, *args: str) -> bytes | None:
        return _resp(self.port, *args)

    def master_port_now(self) -> int | None:
        """The port Sentinel currently names as the primary (changes after a failover)."""
        reply = _resp(self.port, "SENTINEL", "get-master-addr-by-name", self.MASTER)
        if not reply or not reply.startswith(b"*2"):
            return None
        return int(reply.split(b"\r\n")[4])


class LaunchdayProcess(_Program):
    """``launchday serve`` as a subprocess (the venv's python), organizer token ``tests.utils.ADMIN``."""

    name = "launchday"
    ready_seconds = 30.0

    def __init__(self, data_dir: Path, port: int | None = None, redis_url: str | None = None,
                 extra_args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.data = Path(data_dir)
        super().__init__(self.data.parent, port)
        self.log_path = self.data.parent / f"{self.data.name}-launchday-{self.port}.log"
        self.redis_url = redis_url
        self.extra_args = list(extra_args)
        self.extra_env = dict(env or {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        venv = ROOT / ".venv" / "bin" / "python"
        python = str(venv) if venv.exists() else sys.executable
        args = [python, "-m", "server.io.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--data", str(self.data)]
        if self.redis_url:
            args += ["--redis", self.redis_url]
        return args + self.extra_args

    def env(self) -> dict[str, str]:
        return {**os.environ, "LAUNCHDAY_ADMIN_TOKEN": ADMIN, "LAUNCHDAY_LOG_FORMAT": "console",
                "LAUNCHDAY_LOG_LEVEL": "info", **self.extra_env}

    def cwd(self) -> Path:
        return ROOT

    def ready(self) -> bool:
        return self.healthz() == 200

    def healthz(self) -> int | None:
        """The status of GET /healthz, or None if nothing answers."""
        try:
            with urlopen(self.url + "/healthz", timeout=2) as r:
                return int(r.status)
        except URLError as exc:
            code = getattr(exc, "code", None)
            return int(code) if code is not None else None
        except OSError:
            return None

    def terminate(self) -> int | None:
        """SIGTERM and wait: the clean shutdown a supervisor does."""
        return self.stop()


class Nginx(_Program):
    """Debian's nginx running the repo's config, rewritten for the test.

    The rewrite changes only where it listens, the upstream servers' addresses
    (each keeps the parameters of the config's first ``server`` line, so
    ``max_fails``/``fail_timeout`` are the repo's), the certificate's paths,
    and the pid, log and temp paths (into ``dir``); every proxy and TLS
    setting is the file's own.

    With ``tls=TlsFiles(...)`` it serves the config as written: HTTPS on
    ``port`` with that certificate, and the redirecting HTTP server on
    ``http_port``. Without, the HTTPS server is served as plain HTTP on
    ``port`` (its ``ssl`` and ``ssl_*`` lines dropped, the redirect server
    left out): the balancing and failover tests (test_nginx.py) speak plain
    HTTP; test_tls.py checks TLS on the same file."""

    name = "nginx"

    def __init__(self, conf_path: Path, dir: Path, listen_port: int | None = None,
                 upstream_ports: Sequence[int] = (), tls: TlsFiles | None = None) -> None:
        super().__init__(dir, listen_port)
        self.source = Path(conf_path)
        self.upstream_ports = list(upstream_ports)
        self.tls = tls
        self.http_port = free_port() if tls else self.port
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(rewrite_nginx_conf(self.source.read_text(), self.dir, self.port,
                                                self.upstream_ports, tls=tls, http_port=self.http_port))

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        return ["/usr/sbin/nginx", "-p", str(self.dir), "-c", str(self.conf),
                "-e", str(self.dir / "error.log"), "-g", "daemon off;"]

    def ready(self) -> bool:
        return _accepts(self.port) and _accepts(self.http_port)

    def tail(self, chars: int = 4000) -> str:
        err = self.dir / "error.log"
        extra = err.read_text(errors="replace")[-chars:] if err.exists() else ""
        return super().tail(chars) + f"\n--- nginx error.log:\n{extra}"


class TlsFiles:
    """A certificate chain and its key for nginx (``ssl_certificate``, ``ssl_certificate_key``)."""

    def __init__(self, fullchain: Path, privkey: Path) -> None:
        self.fullchain = Path(fullchain)
        self.privkey = Path(privkey)


def _block_span(text: str, start: int) -> int:
    """The index just past the ``}`` closing the block whose ``{`` is at or after ``start``."""
    i = text.index("{", start) + 1
    depth = 1
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return i


def _sub_once(pattern: str, repl: str, text: str, what: str) -> str:
    text, n = re.subn(pattern, repl, text, flags=re.M)
    if n != 1:
        raise ValueError(f"the nginx config has {n} {what} (expected one)")
    return text


def _tls_rewrite(text: str, dir: Path, port: int, tls: TlsFiles | None, http_port: int) -> str:
    """Listen addresses of a config with an HTTPS server (``listen 443 ssl``)."""
    text = re.sub(r"(?m)^\s*listen\s+\[::\][^;]*;[^\n]*\n", "", text)  # the IPv6 listeners
    if tls is not None:
        text = _sub_once(r"^(\s*)listen\s+443\s+ssl;", rf"\g<1>listen 127.0.0.1:{port} ssl;", text,
                         "HTTPS listeners")
        text = _sub_once(r"^(\s*)listen\s+80;", rf"\g<1>listen 127.0.0.1:{http_port};", text, "HTTP listeners")
        text = _sub_once(r"^(\s*ssl_certificate)\s[^;]*;", rf"\g<1> {tls.fullchain};", text, "certificates")
        text = _sub_once(r"^(\s*ssl_certificate_key)\s[^;]*;", rf"\g<1> {tls.privkey};", text, "keys")
        (dir / "acme").mkdir(exist_ok=True)
        return _sub_once(r"^(\s*)root\s+/var/www/acme;", rf"\g<1>root {dir}/acme;", text, "ACME webroots")
    # Plain HTTP: the redirect server is left out, the HTTPS server loses its TLS.
    m = re.search(r"(?m)^\s*server\s*\{(?=[^}]*?listen\s+80;)", text)
    if m is None:
        raise ValueError("the nginx config has no HTTP (port 80) server")
    text = text[:m.start()] + "\n" + text[_block_span(text, m.start()):]
    text = _sub_once(r"^(\s*)listen\s+443\s+ssl;", rf"\g<1>listen 127.0.0.1:{port};", text, "HTTPS listeners")
    return re.sub(r"(?m)^\s*ssl_\w+\s[^;]*;[^\n]*\n", "", text)


_PATH_DIRECTIVES = ("pid", "error_log", "user", "client_body_temp_path",
                    "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path")


def rewrite_nginx_conf(text: str, dir: Path, listen_port: int, upstream_ports: Sequence[int],
                       tls: TlsFiles | None = None, http_port: int | None = None) -> str:
    """The repo's nginx config with listen ports, upstreams and file paths made the test's."""
    for d in _PATH_DIRECTIVES:
        text = re.sub(rf"(?m)^\s*{d}\s[^;]*;[^\n]*\n", "", text)
    # access_log keeps its format (e.g. one that names the upstream), in ``dir``.
    text, logs = re.subn(r"(?m)^(\s*access_log\s+)\S+?(\s[^;]*)?;", rf"\g<1>{dir}/access.log\2;", text)
    if re.search(r"(?m)^\s*listen\s+443\s+ssl;", text):
        text = _tls_rewrite(text, dir, listen_port, tls, http_port or listen_port)
    else:
        text = re.sub(r"(?m)^(\s*)listen\s[^;]*;", rf"\g<1>listen 127.0.0.1:{listen_port};", text)

    def upstream(m: re.Match[str]) -> str:
        body = m.group(2)
        servers = re.findall(r"(?m)^\s*server\s+(\S+?)(\s[^;]*)?;", body)
        if not servers:
            raise ValueError("the upstream block has no server line")
        params = servers[0][1] or ""
        indent = re.search(r"(?m)^(\s*)server\s", body).group(1)  # type: ignore[union-attr]
        body = re.sub(r"(?m)^\s*server\s[^;]*;[^\n]*\n", "", body)
        lines = "".join(f"{indent}server 127.0.0.1:{p}{params};\n" for p in upstream_ports)
        return m.group(1) + "\n" + lines + body.lstrip("\n") + "}"

    if upstream_ports:
        text, n = re.subn(r"(upstream\s+\w+\s*\{)(.*?)\}", upstream, text, count=1, flags=re.S)
        if n != 1:
            raise ValueError("the nginx config has no upstream block")
    # As root, nginx's workers would otherwise run as nobody and could not write the temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    paths = f"{user}pid {dir}/nginx.pid;\nerror_log {dir}/error.log info;\n"
    temps = "".join(f"    {t}_temp_path {dir}/{t}_temp;\n"
                    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    access = "" if logs else f"    access_log {dir}/access.log;\n"
    text, n = re.subn(r"(?m)^(\s*http\s*\{)", rf"\1\n{access}{temps}", text, count=1)
    if n != 1:
        raise ValueError("the nginx config has no http block")
    return paths + text
