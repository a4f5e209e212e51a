"""The `[tool.scaffold]` table of the project in the current folder: where its parts are."""

from __future__ import annotations

import dataclasses
import importlib
import tomllib
from pathlib import Path
from typing import Final

_KEYS: Final = ("container", "web", "worker", "database-url", "migrations")


class ProjectConfigError(Exception):
    """`[tool.scaffold]` is missing, malformed, or names something that cannot be imported."""


@dataclasses.dataclass(frozen=True)
class ProjectConfig:
    """Entry points of a generated project, as `module:attribute` strings.

    `root` is the folder of the project's pyproject.toml; paths are relative to it.
    """

    root: Path
    values: dict[str, str]

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def require(self, key: str) -> str:
        value = self.values.get(key)
        if value is None:
            raise ProjectConfigError(
                f"{self.root / 'pyproject.toml'} has no `{key}` in [tool.scaffold]; add e.g. "
                f'{key} = "my_app.entrypoints:{key.replace("-", "_")}"'
            )
        return value

    def path(self, key: str, default: str) -> Path:
        return self.root / self.values.get(key, default)


def find_project(start: Path | None = None) -> ProjectConfig:
    """Read `[tool.scaffold]` from the nearest pyproject.toml at or above `start` (the cwd)."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            break
    else:
        raise ProjectConfigError(f"no pyproject.toml in {folder} or above: run this in a project")
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProjectConfigError(f"{pyproject} is not valid TOML: {error}") from error
    section = table.get("tool", {}).get("scaffold")
    if not isinstance(section, dict):
        raise ProjectConfigError(
            f"{pyproject} has no [tool.scaffold] table saying where the application is "
            "(projects made by `scaffold new` have one)"
        )
    unknown = sorted(set(section) - set(_KEYS))
    if unknown:
        raise ProjectConfigError(
            f"[tool.scaffold] in {pyproject} has unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(_KEYS)}"
        )
    values = {}
    for key, value in section.items():
        if not isinstance(value, str):
            raise ProjectConfigError(f"[tool.scaffold] {key} in {pyproject} must be a string")
        values[key] = value
    return ProjectConfig(candidate, values)


def load_object(reference: str) -> object:
    """Import `module:attribute` (attribute may be dotted) and return the object."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ProjectConfigError(f"{reference!r} is not of the form module:attribute")
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise ProjectConfigError(
            f"cannot import {module_name} (from {reference!r}): {error}"
        ) from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ProjectConfigError(f"{module_name} has no attribute {attribute!r}") from None
    return target
