"""Helpers for scaffold-web's tests: an app built on a real container, in a temp folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

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
