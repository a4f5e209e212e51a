"""Every package is a separate distribution in the shared `scaffold` namespace."""

import importlib
import tomllib

import pytest
from workspace import ROOT, Package, packages

PACKAGES = packages()
EXPECTED = {
    "scaffold-di",
    "scaffold-persistence",
    "scaffold-tasks",
    "scaffold-pubsub",
    "scaffold-mail",
    "scaffold-web",
    "scaffold-cli",
    "scaffold-framework",
}


def by_name(package: Package) -> str:
    return package.distribution


def test_every_package_is_in_the_workspace() -> None:
    """The workspace holds exactly the packages that ARCHITECTURE.md names."""
    assert {p.distribution for p in PACKAGES} == EXPECTED


@pytest.mark.parametrize("package", PACKAGES, ids=by_name)
def test_package_has_its_own_files(package: Package) -> None:
    """Each package carries README, CHANGELOG, py.typed and a tests folder of its own."""
    module_dir = package.directory / "src" / package.module.replace(".", "/")
    for path in (
        package.directory / "README.md",
        package.directory / "CHANGELOG.md",
        package.directory / "tests",
        module_dir / "py.typed",
        module_dir / "__init__.py",
    ):
        assert path.exists(), f"{package.distribution} lacks {path.relative_to(ROOT)}"
    assert package.version in (package.directory / "CHANGELOG.md").read_text()


@pytest.mark.parametrize("package", PACKAGES, ids=by_name)
def test_namespace_has_no_init(package: Package) -> None:
    """`scaffold` is a PEP 420 namespace: no package may own `scaffold/__init__.py`."""
    assert not (package.directory / "src" / "scaffold" / "__init__.py").exists()


@pytest.mark.parametrize("package", PACKAGES, ids=by_name)
def test_package_imports_and_declares_its_public_names(package: Package) -> None:
    """Each facade imports in the workspace and names its public API in `__all__`."""
    module = importlib.import_module(package.module)
    assert isinstance(module.__all__, list)
    for name in module.__all__:
        assert hasattr(module, name), f"{package.module}.__all__ names missing {name!r}"


def test_scaffold_di_has_no_runtime_dependency() -> None:
    """The DI container is a product on its own: it depends on nothing at all."""
    di = next(p for p in PACKAGES if p.distribution == "scaffold-di")
    assert di.dependencies == ()


def test_umbrella_depends_on_every_package() -> None:
    """`pip install scaffold-framework` brings the whole framework."""
    umbrella = next(p for p in PACKAGES if p.distribution == "scaffold-framework")
    assert set(umbrella.scaffold_dependencies) == EXPECTED - {"scaffold-framework"}


def test_lock_covers_every_package() -> None:
    """uv.lock is committed and lists every workspace member at its declared version."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p.get("version") for p in lock["package"]}
    for package in PACKAGES:
        assert locked.get(package.distribution) == package.version
