"""Fixtures for the point client's tests: a fake server and a client factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from checkin.client import PointClient
from tests.checkin.fakes import FakeServer


@pytest.fixture
async def fake() -> AsyncIterator[FakeServer]:
    srv = FakeServer()
    yield srv
    await srv.connector.aclose()


@pytest.fixture
async def make_client(fake: FakeServer) -> AsyncIterator[Callable[..., PointClient]]:
    """Build clients on the fake server's connector; stopped at teardown."""
    clients: list[PointClient] = []

    def make(**kwargs: Any) -> PointClient:
        kwargs.setdefault("connector", fake.connector)
        kwargs.setdefault("ping_spacing_s", 0.005)
        kwargs.setdefault("backoff_base", 0.005)
        kwargs.setdefault("backoff_cap", 0.05)
        kwargs.setdefault("storm_window", 0.01)
        kwargs.setdefault("report_spread_s", 0.05)
        client = PointClient(kwargs.pop("urls", "http://fake:8080"), kwargs.pop("token", "tok"),
                             **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.stop()
