"""launchday's protocol client for a connection point (a site lead's device).

See :mod:`checkin.protocol` for the client's sans-I/O protocol state,
:mod:`checkin.client` for the asyncio client that drives it,
:mod:`checkin.clock` for the clock estimate and :mod:`checkin.transport` for
the connection seam; the wire contract is docs/protocol.md.
"""

from checkin.client import (
    ClientStopped,
    PointClient,
    ProtocolError,
    ServerError,
    TokenInvalid,
    backoff_delay,
    point_ws_url,
)
from checkin.clock import ClockEstimator, LocalClock, Sample, ServerClock, compute_sample
from checkin.events import Now
from checkin.protocol import PointProtocol
from checkin.transport import (
    Connection,
    ConnectionClosed,
    Connector,
    HandshakeRejected,
    MemoryConnection,
    MemoryConnector,
    TransportError,
    WebSocketConnector,
    memory_pair,
)

__all__ = [
    "ClientStopped",
    "ClockEstimator",
    "Connection",
    "ConnectionClosed",
    "Connector",
    "HandshakeRejected",
    "LocalClock",
    "MemoryConnection",
    "MemoryConnector",
    "Now",
    "PointClient",
    "PointProtocol",
    "ProtocolError",
    "Sample",
    "ServerClock",
    "ServerError",
    "TokenInvalid",
    "TransportError",
    "WebSocketConnector",
    "backoff_delay",
    "compute_sample",
    "memory_pair",
    "point_ws_url",
]
