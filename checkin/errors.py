"""Errors the point client raises to its callers.

Awaiting a mutating call (docs/protocol.md#ws-point) ends in the ack, or in
one of these; the transport's own tree lives in :mod:`checkin.transport`::

    Exception
    ├── ServerError      the server answered the message with an ``error`` frame (has ``code``)
    ├── TokenInvalid     HTTP 401/403 or close 4401/4403: the token is wrong or was rotated
    ├── ClientStopped    stop() came first; the message stays in the outbox (and its file)
    └── TransportError   (checkin.transport)
        └── ProtocolError  the server broke the contract (no ``welcome`` first)
"""

from __future__ import annotations

from typing import Any

from checkin.transport import TransportError

__all__ = ["ClientStopped", "ProtocolError", "ServerError", "TokenInvalid"]


class ServerError(Exception):
    """The server answered a message with an ``error`` frame; ``code`` is machine-readable."""

    def __init__(self, code: str, message: str = "", frame: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.frame = frame or {}


class TokenInvalid(Exception):
    """The point token was refused: retrying cannot help, a new link is needed."""


class ClientStopped(Exception):
    """The client stopped before the server answered."""


class ProtocolError(TransportError):
    """The server broke the contract; treated like a dropped connection."""
