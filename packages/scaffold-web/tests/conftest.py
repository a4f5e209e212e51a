"""Helpers for scaffold-web's tests: an app built on a real container, in a temp folder."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from scaffold.di import Container
from scaffold.web import BaseController, WebApp, WebSettings

SECRET = "test-secret-key-that-is-long-enough-0123456789"  # noqa: S105 - a test value

type MakeApp = Callable[..., WebApp]


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """Build a WebApp rooted in tmp_path with the given controllers, services and files."""

    def build(
        *controllers: type[BaseController],
        services: Iterable[type[Any]] = (),
        instances: Mapping[type[Any], object] | None = None,
        templates: Mapping[str, str] | None = None,
        assets: Mapping[str, str] | None = None,
        container: Container | None = None,
        **settings: Any,
    ) -> WebApp:
        container = container if container is not None else Container()
        for service in services:
            container.add_scoped(service)
        for service, instance in (instances or {}).items():
            container.add_instance(service, instance)
        write_files(tmp_path / "templates", templates or {})
        write_files(tmp_path / "assets", assets or {})
        settings.setdefault("secret_key", SECRET)
        settings.setdefault("environment", "test")
        settings.setdefault("data_dir", tmp_path / "data")
        return WebApp(
            "scaffold_web_test_app",
            container,
            settings=WebSettings(**settings),
            controllers=controllers,
            root_path=str(tmp_path),
        )

    return build


@contextlib.asynccontextmanager
async def _serving(app: Any) -> AsyncIterator[int]:
    """Serve `app` with Hypercorn on a free loopback port, in this event loop."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.025)
            continue
        writer.close()
        break
    try:
        yield port
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


@pytest.fixture
def serve_app() -> Callable[[Any], contextlib.AbstractAsyncContextManager[int]]:
    """``async with serve_app(app) as port``: the app on a real server (Hypercorn)."""
    return _serving
