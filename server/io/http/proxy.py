"""Behind a reverse proxy: whose address and which scheme a request has.

nginx ends TLS and passes the request on in plain HTTP, saying in
``X-Forwarded-Proto`` which scheme the phone used and in ``X-Forwarded-For``
which address it came from (deploy/nginx.conf). Anyone can send those
headers, so they are believed only from a peer in the configured proxy
networks (``--trusted-proxy`` / ``LAUNCHDAY_TRUSTED_PROXIES``; none by
default). From such a peer the request is handled as if it came from the
forwarded address over the forwarded scheme (aiohttp's ``request.clone``):

- ``request.secure`` is true for a phone on HTTPS, so the session cookie is
  ``Secure`` (server/io/http/rest.py, login);
- ``request.remote`` is the phone's address, which the failed-login limiter
  keys on (auth.client_address), instead of the proxy's shared by everyone.

``X-Forwarded-For`` is a list each proxy appends to: it is read from the
right, skipping the trusted proxies; the first address that is not one is
the client (an address a client wrote itself is further left, never
reached). See docs/protocol.md#behind-a-reverse-proxy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TRUSTED_KEY: web.AppKey[tuple[Network, ...]] = web.AppKey("trusted_proxies", tuple)


def parse_networks(spec: str | Sequence[str] | None) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.168.1.5"`` (or a list of them) as networks; a bare
    address is a /32 (/128). ValueError, naming the entry, on anything else."""
    if spec is None:
        return ()
    parts = [spec] if isinstance(spec, str) else list(spec)
    nets: list[Network] = []
    for part in parts:
        for item in part.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an address or CIDR network: {item!r}") from None
    return tuple(nets)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | None, nets: tuple[Network, ...]) -> bool:
    return addr is not None and any(addr in net for net in nets)


def forwarded_client(peer: str | None, forwarded_for: str, nets: tuple[Network, ...]) -> str | None:
    """The client's address behind trusted proxies, or None to keep the peer's.

    None when the peer is not a trusted proxy (the header is ignored), or
    the header names no valid address."""
    if not _trusted(_address(peer or ""), nets):
        return None
    client: str | None = None
    for hop in reversed(forwarded_for.split(",")):
        addr = _address(hop)
        if addr is None:
            break  # garbage: believe nothing further left
        client = str(addr)
        if not _trusted(addr, nets):
            break
    return client


def forwarded_scheme(peer: str | None, proto: str, nets: tuple[Network, ...]) -> str | None:
    """``http``/``https`` from a trusted proxy's ``X-Forwarded-Proto`` (its
    last entry: the proxy nearest to us), else None."""
    if not proto or not _trusted(_address(peer or ""), nets):
        return None
    last = proto.split(",")[-1].strip().lower()
    return last if last in ("http", "https") else None


@web.middleware
async def forwarded_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The request as the phone made it, when a trusted proxy says so."""
    nets = request.app.get(TRUSTED_KEY, ())
    if not nets:
        return await handler(request)
    remote = forwarded_client(request.remote, request.headers.get("X-Forwarded-For", ""), nets)
    scheme = forwarded_scheme(request.remote, request.headers.get("X-Forwarded-Proto", ""), nets)
    if remote is None and scheme is None:
        return await handler(request)
    changes: dict[str, str] = {}
    if remote is not None:
        changes["remote"] = remote
    if scheme is not None:
        changes["scheme"] = scheme
    return await handler(request.clone(**changes))  # type: ignore[arg-type]
