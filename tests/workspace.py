"""Facts about the workspace that the workspace tests share."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Package:
    distribution: str
    modules: tuple[str, ...]
    directory: Path
    version: str
    dependencies: tuple[str, ...]

    @property
    def module(self) -> str:
        """The package's main module (the first one its wheel holds)."""
        return self.modules[0]

    @property
    def scaffold_dependencies(self) -> tuple[str, ...]:
        return tuple(d for d in self.dependencies if d.startswith("scaffold-"))


def dependency_name(requirement: str) -> str:
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop, 1)[0]
    return requirement


def packages() -> list[Package]:
    found = []
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text())
        project = data["project"]
        module_names = data["tool"]["uv"]["build-backend"]["module-name"]
        if isinstance(module_names, str):
            module_names = [module_names]
        found.append(
            Package(
                distribution=project["name"],
                modules=tuple(module_names),
                directory=pyproject.parent,
                version=project["version"],
                dependencies=tuple(dependency_name(d) for d in project["dependencies"]),
            )
        )
    return found
