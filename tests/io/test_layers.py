"""The layer rules of docs/architecture.md, read from the source's imports."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = {f"server.io.http.{m}" for m in ("rest", "people", "reports", "ceremony", "links", "pages", "openapi")} | {
    "server.io.ws.point", "server.io.ws.console"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_handler_imports_another_handler() -> None:
    """Catches a handler reaching into another for a helper (shared helpers
    live in clock.py, limits.py, effects.py, ws/hub.py, http/auth.py, http/files.py, http/qr.py);
    only the route table and the app that assembles them import the handlers."""
    found = []
    for path in sorted((ROOT / "server" / "io").rglob("*.py")):
        name = _module(path)
        if name in ("server.io.http.routes", "server.io.app"):  # they assemble the handlers
            continue
        bad = (_imports(path) & HANDLERS) - {name}
        if bad:
            found.append((name, sorted(bad)))
    assert found == []


def test_the_core_does_no_io() -> None:
    """Catches server/core importing aiohttp, redis, asyncio or a shell module."""
    banned = ("aiohttp", "redis", "asyncio", "server.io", "socket", "sqlite3")
    found = []
    for path in sorted((ROOT / "server" / "core").rglob("*.py")):
        bad = sorted(i for i in _imports(path) if i.split(".")[0] in banned or i.startswith("server.io"))
        if bad:
            found.append((_module(path), bad))
    assert found == []


def test_store_presence_and_gcpolicy_form_no_circle() -> None:
    """Catches presence.py or gcpolicy.py importing the store (even for typing)."""
    for name in ("presence", "gcpolicy"):
        assert not any(i.startswith("server.io.store") for i in _imports(ROOT / "server" / "io" / f"{name}.py")), name


def test_no_module_is_over_about_500_lines() -> None:
    """Catches a module growing past what one reader holds (STYLE.md: about 500)."""
    big = {}
    for base in ("server", "checkin"):
        for path in (ROOT / base).rglob("*.py"):
            n = len(path.read_text(encoding="utf-8").splitlines())
            if n > 520:
                big[_module(path)] = n
    assert big == {}
