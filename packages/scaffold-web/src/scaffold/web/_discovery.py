"""Finding the controllers of a package by importing its modules."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from ._controller import is_controller

if TYPE_CHECKING:
    from types import ModuleType

    from ._controller import BaseController


def discover_controllers(package: str | ModuleType) -> list[type[BaseController]]:
    """Every `@controller` class defined in `package` and its subpackages, by module order.

    Classes imported into a module from elsewhere are not counted twice: a class belongs
    to the module that defines it.
    """
    root = importlib.import_module(package) if isinstance(package, str) else package
    modules = [root]
    search_path = getattr(root, "__path__", None)
    if search_path is not None:
        names = sorted(
            info.name for info in pkgutil.walk_packages(search_path, prefix=f"{root.__name__}.")
        )
        modules.extend(importlib.import_module(name) for name in names)
    found: list[type[BaseController]] = []
    for module in modules:
        found.extend(
            value
            for value in vars(module).values()
            if is_controller(value) and value.__module__ == module.__name__
        )
    return list(dict.fromkeys(found))
