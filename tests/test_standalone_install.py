"""Each package builds alone and installs alone, with only its declared dependencies."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from workspace import ROOT, Package, packages

pytestmark = pytest.mark.slow

PACKAGES = {p.distribution: p for p in packages()}
ALL_MODULES = {m for p in PACKAGES.values() for m in p.modules}


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build the packages; install it with `pip install uv`")
    return found


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(  # noqa: PLW1510 - the return code is checked below with context
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build every package's wheel once, each with `uv build --package NAME`."""
    out = tmp_path_factory.mktemp("wheels")
    for name in PACKAGES:
        run(uv(), "build", "--package", name, "--wheel", "--out-dir", out, "--quiet")
    built = {}
    for wheel in out.glob("*.whl"):
        distribution = wheel.name.split("-", 1)[0].replace("_", "-")
        built[distribution] = wheel
    assert set(built) == set(PACKAGES)
    return built


def closure(name: str) -> list[str]:
    """The package and the Scaffold packages it depends on, transitively."""
    seen: list[str] = []
    stack = [name]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.append(current)
            stack.extend(PACKAGES[current].scaffold_dependencies)
    return seen


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    env = tmp_path / "venv"
    run(uv(), "venv", "--quiet", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}", env)
    return env / "bin" / "python"


def installed(python: Path) -> set[str]:
    listing = run(uv(), "pip", "list", "--python", python, "--format", "freeze")
    return {line.split("==", 1)[0].lower() for line in listing.splitlines() if line}


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_package_installs_alone_and_imports(name: str, wheels: dict[str, Path], venv: Path) -> None:
    """A fresh environment with only this package (and what it declares) can import it."""
    package: Package = PACKAGES[name]
    needed = closure(name)
    run(uv(), "pip", "install", "--quiet", "--python", venv, *(wheels[n] for n in needed))

    have = installed(venv)
    scaffold_installed = {d for d in have if d.startswith("scaffold-")}
    assert scaffold_installed == set(needed), "only the declared Scaffold packages come along"

    others = sorted(ALL_MODULES - {m for n in needed for m in PACKAGES[n].modules})
    probe = (
        "import importlib, importlib.util, sys\n"
        f"for module in {list(package.modules)!r}: importlib.import_module(module)\n"
        f"absent = [m for m in {others!r} if importlib.util.find_spec(m) is not None]\n"
        "sys.exit(f'unexpectedly importable: {absent}' if absent else 0)\n"
    )
    run(venv, "-c", probe)


def test_scaffold_di_installs_with_no_third_party_package(
    wheels: dict[str, Path], venv: Path
) -> None:
    """scaffold-di installs from its wheel alone, with no index at all, and brings nothing."""
    run(uv(), "pip", "install", "--quiet", "--no-index", "--python", venv, wheels["scaffold-di"])
    assert installed(venv) == {"scaffold-di"}
    run(venv, "-c", "import scaffold.di")
