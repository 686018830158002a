"""The connection seam of the point client.

Like httpx's transports (``_transports/base.py`` and ``MockTransport``), the
client takes its connection as an object: :class:`WebSocketConnector` speaks
real WebSocket through ``websockets``; :class:`MemoryConnector` hands out one
end of an in-memory pair so a test can play the server without a socket.

Both sides raise the same small error tree, so the client's reconnect logic
(docs/protocol.md#reconnect) has one set of cases::

    TransportError
    ├── HandshakeRejected   the server answered the upgrade with an HTTP status
    └── ConnectionClosed    the socket closed (carries the close code)
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import structlog
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

__all__ = [
    "Connection",
    "ConnectionClosed",
    "Connector",
    "HandshakeRejected",
    "MemoryConnection",
    "MemoryConnector",
    "TransportError",
    "WebSocketConnection",
    "WebSocketConnector",
    "memory_pair",
    "point_ws_url",
    "server_urls",
]

log = structlog.get_logger("checkin.transport")

#: Close code when the peer vanished without a close frame (RFC 6455 §7.1.5).
ABNORMAL_CLOSURE = 1006


def point_ws_url(base: str, token: str) -> str:
    """``http(s)://host[:port][/prefix]`` or ``ws(s)://...`` → ``ws(s)://.../ws/point?token=...``."""
    if "://" not in base:
        base = "ws://" + base
    parts = urlsplit(base)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"unsupported URL scheme in {base!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/ws/point"):
        path += "/ws/point"
    return urlunsplit((scheme, parts.netloc, path, "token=" + quote(token, safe=""), ""))


def server_urls(values: str | Sequence[str]) -> list[str]:
    """Server base URLs from one string or several, each possibly comma-separated.

    ``"http://a:8080,http://b:8080"``, ``["http://a:8080", "http://b:8080"]``
    and ``["http://a:8080,http://b:8080"]`` are the same list, in that order
    (the order is the client's preference: it starts with the first)."""
    items = [values] if isinstance(values, str) else list(values)
    urls = [u.strip() for item in items for u in str(item).split(",") if u.strip()]
    if not urls:
        raise ValueError("at least one server URL is needed")
    return urls


class TransportError(Exception):
    """Connecting failed or the connection broke."""


class HandshakeRejected(TransportError):
    """The server refused the WebSocket upgrade with an HTTP status (401/403 for a bad token)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(f"handshake rejected with HTTP {status}" + (f": {message}" if message else ""))
        self.status = status


class ConnectionClosed(TransportError):
    """The connection is closed; ``code`` is the WebSocket close code (1006 if none arrived)."""

    def __init__(self, code: int = ABNORMAL_CLOSURE, reason: str = "") -> None:
        super().__init__(f"connection closed with code {code}" + (f" ({reason})" if reason else ""))
        self.code = code
        self.reason = reason


class Connection(ABC):
    """One open connection carrying text frames, one JSON object each."""

    @abstractmethod
    async def send(self, text: str) -> None:
        """Send one text frame; raises :class:`ConnectionClosed` once closed."""

    @abstractmethod
    async def recv(self) -> str:
        """Receive the next text frame; raises :class:`ConnectionClosed` once closed."""

    @abstractmethod
    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close; idempotent."""


class Connector(ABC):
    """Opens connections; raises :class:`TransportError` subclasses on failure."""

    @abstractmethod
    async def connect(self, url: str) -> Connection: ...


# -- real WebSocket ---------------------------------------------------------


def _closed_from(exc: websockets.ConnectionClosed) -> ConnectionClosed:
    frame = exc.rcvd or exc.sent
    if frame is None:
        return ConnectionClosed(ABNORMAL_CLOSURE)
    return ConnectionClosed(frame.code, frame.reason)


class WebSocketConnection(Connection):
    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except websockets.ConnectionClosed as exc:
            raise _closed_from(exc) from exc

    async def recv(self) -> str:
        try:
            message = await self._ws.recv()
        except websockets.ConnectionClosed as exc:
            raise _closed_from(exc) from exc
        # The protocol uses text frames; tolerate a binary frame carrying UTF-8.
        return message.decode("utf-8", "replace") if isinstance(message, bytes) else message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._ws.close(code, reason)


class WebSocketConnector(Connector):
    """Connects with ``websockets``' asyncio client.

    Compression is off: frames are small JSON and per-message deflate costs
    CPU and memory per connection on the server, which fans out to thousands.
    ``max_size`` must be at least the protocol's 64 KiB frame limit; a
    welcome with a long agenda may approach it.
    """

    def __init__(
        self,
        *,
        open_timeout: float = 10.0,
        max_size: int = 1 << 20,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        close_timeout: float = 5.0,
        proxy: str | bool | None = True,
        user_agent: str = "launchday-checkin",
        **kwargs: Any,
    ) -> None:
        if max_size < 64 * 1024:
            raise ValueError("max_size must be at least 64 KiB (docs/protocol.md#websocket-frames)")
        self._options: dict[str, Any] = {
            "compression": None,
            "open_timeout": open_timeout,
            "max_size": max_size,
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "close_timeout": close_timeout,
            "proxy": proxy,
            "user_agent_header": user_agent,
            **kwargs,
        }

    async def connect(self, url: str) -> Connection:
        try:
            ws = await ws_connect(url, **self._options)
        except InvalidStatus as exc:
            raise HandshakeRejected(exc.response.status_code) from exc
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            raise TransportError(f"cannot connect to {url}: {exc!r}") from exc
        return WebSocketConnection(ws)


# -- in memory --------------------------------------------------------------


class _CloseFrame:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class MemoryConnection(Connection):
    """One end of an in-memory pair: what one end sends, the other receives, in order."""

    def __init__(self, url: str = "") -> None:
        self.url = url
        self._inbox: asyncio.Queue[str | _CloseFrame] = asyncio.Queue()
        self._peer: MemoryConnection | None = None
        self._closed: ConnectionClosed | None = None

    @property
    def closed(self) -> bool:
        return self._closed is not None

    @property
    def close_code(self) -> int | None:
        return None if self._closed is None else self._closed.code

    async def send(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError("only text frames are sent")
        if self._closed is not None:
            raise ConnectionClosed(self._closed.code, self._closed.reason)
        assert self._peer is not None
        if self._peer._closed is None:
            self._peer._inbox.put_nowait(text)

    async def recv(self) -> str:
        if self._closed is not None and self._inbox.empty():
            raise ConnectionClosed(self._closed.code, self._closed.reason)
        item = await self._inbox.get()
        if isinstance(item, _CloseFrame):
            if self._closed is None:
                self._closed = ConnectionClosed(item.code, item.reason)
            raise ConnectionClosed(self._closed.code, self._closed.reason)
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is not None:
            return
        self._closed = ConnectionClosed(code, reason)
        self._inbox.put_nowait(_CloseFrame(code, reason))  # wake our own reader
        assert self._peer is not None
        if self._peer._closed is None:
            self._peer._inbox.put_nowait(_CloseFrame(code, reason))


def memory_pair(url: str = "") -> tuple[MemoryConnection, MemoryConnection]:
    """``(client_end, server_end)``."""
    client, server = MemoryConnection(url), MemoryConnection(url)
    client._peer, server._peer = server, client
    return client, server


ServerHandler = Callable[[MemoryConnection], Awaitable[None]]


class MemoryConnector(Connector):
    """Hands out in-memory connections; a test plays the server.

    With a ``handler``, each connect runs ``handler(server_end)`` as a task
    (the server end is closed when it returns). Without one, the test takes
    server ends with :meth:`accept`. :meth:`fail_next` makes the next connects
    raise, e.g. ``HandshakeRejected(401)`` or ``TransportError()``.
    """

    def __init__(self, handler: ServerHandler | None = None) -> None:
        self.handler = handler
        self.urls: list[str] = []
        self._accepted: asyncio.Queue[MemoryConnection] = asyncio.Queue()
        self._failures: deque[BaseException] = deque()
        self._tasks: set[asyncio.Task[None]] = set()

    def fail_next(self, exc: BaseException, times: int = 1) -> None:
        self._failures.extend([exc] * times)

    async def accept(self) -> MemoryConnection:
        return await self._accepted.get()

    async def connect(self, url: str) -> Connection:
        self.urls.append(url)
        if self._failures:
            raise self._failures.popleft()
        client, server = memory_pair(url)
        if self.handler is None:
            self._accepted.put_nowait(server)
        else:
            task = asyncio.create_task(self._serve(server))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return client

    async def _serve(self, server: MemoryConnection) -> None:
        assert self.handler is not None
        try:
            await self.handler(server)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("memory_handler_failed", url=server.url)
        finally:
            with contextlib.suppress(ConnectionClosed):
                await server.close(1001, "handler returned")

    async def aclose(self) -> None:
        """Cancel running handlers (test teardown)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
