from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.io.app import create_app
from tests.utils import ADMIN, Api


@dataclass
class LiveServer:
    base: str
    app: web.Application
    data: Path
    api: Api

    @property
    def ws(self) -> str:
        return self.base.replace("http", "ws", 1)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A real server on a random port, in this process (its state is inspectable)."""
    data = tmp_path / "data"
    app = create_app(data, token=ADMIN)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        yield LiveServer(base, app, data, Api(base, session))
    await runner.cleanup()


def pytest_configure(config: pytest.Config) -> None:
    from server.io import logs

    logs.configure("warning", "console")
