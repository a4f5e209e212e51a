"""What a command target needs: which parameters click fills and which the container does."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


class CommandDefinitionError(TypeError):
    """A command's function or class does not match its options and arguments."""


@dataclasses.dataclass(frozen=True)
class CommandPlan:
    """How to call a command target.

    For a function, `injected` are its parameters that no option or argument fills. For a
    class, `injected` are the parameters of `__init__`, and options and arguments go to
    `__call__`.
    """

    target: Callable[..., Any]
    name: str
    is_class: bool
    is_async: bool
    injected: tuple[str, ...]

    def dependency_types(self) -> dict[str, Any]:
        """The types to resolve, read when the command first runs (annotations may be lazy)."""
        annotated = self.target.__init__ if self.is_class else self.target
        try:
            hints = typing.get_type_hints(annotated)
        except NameError as error:
            raise CommandDefinitionError(
                f"command {self.name!r}: cannot read the type of a parameter to inject: {error}"
            ) from error
        return {name: hints[name] for name in self.injected}


def _parameters(function: object, *, skip_self: bool) -> list[inspect.Parameter]:
    if not callable(function):  # pragma: no cover - classes and their methods are callable
        raise CommandDefinitionError(f"{function!r} is not callable")
    parameters = list(inspect.signature(function).parameters.values())
    return parameters[1:] if skip_self else parameters


def _check_kinds(name: str, where: str, parameters: Iterable[inspect.Parameter]) -> None:
    for parameter in parameters:
        if parameter.kind in {parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD}:
            raise CommandDefinitionError(
                f"command {name!r}: {where} takes *{parameter.name}; a command takes named "
                "parameters only, each an option, an argument or a dependency to inject"
            )
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise CommandDefinitionError(
                f"command {name!r}: parameter {parameter.name!r} of {where} is positional-only;"
                " options and dependencies are passed by name"
            )


def _check_annotated(name: str, where: str, parameters: Iterable[inspect.Parameter]) -> None:
    for parameter in parameters:
        if parameter.annotation is parameter.empty:
            raise CommandDefinitionError(
                f"command {name!r}: parameter {parameter.name!r} of {where} is neither an option"
                " or argument nor annotated with the type to inject"
            )


def plan_command(target: Callable[..., Any], name: str, cli_names: Iterable[str]) -> CommandPlan:
    """Check `target` against the names of its click parameters; say what is wrong, early."""
    cli = set(cli_names)
    is_class = inspect.isclass(target)
    if is_class:
        call = getattr(target, "__call__", None)  # noqa: B004 - we need the method, not callable()
        if call is None or call is object.__call__:
            raise CommandDefinitionError(
                f"command {name!r}: class {target.__qualname__} needs a __call__ method to run"
            )
        call_parameters = _parameters(call, skip_self=True)
        init: object = target.__init__
        init_parameters = [] if init is object.__init__ else _parameters(init, skip_self=True)
        _check_kinds(name, f"{target.__qualname__}.__call__", call_parameters)
        _check_kinds(name, f"{target.__qualname__}.__init__", init_parameters)
        accepted = {p.name for p in call_parameters}
        not_from_cli = [p.name for p in call_parameters if p.name not in cli]
        if not_from_cli:
            raise CommandDefinitionError(
                f"command {name!r}: {target.__qualname__}.__call__ parameter(s) "
                f"{', '.join(not_from_cli)} match no option or argument; dependencies of a "
                "class command go to __init__"
            )
        dependencies = [p for p in init_parameters if p.default is p.empty]
        _check_annotated(name, f"{target.__qualname__}.__init__", dependencies)
        injected = tuple(p.name for p in dependencies)
        is_async = inspect.iscoroutinefunction(call)
    else:
        parameters = _parameters(target, skip_self=False)
        _check_kinds(name, f"{target.__qualname__}()", parameters)
        accepted = {p.name for p in parameters}
        dependencies = [p for p in parameters if p.name not in cli]
        _check_annotated(name, f"{target.__qualname__}()", dependencies)
        injected = tuple(p.name for p in dependencies)
        is_async = inspect.iscoroutinefunction(target)
    unmatched = sorted(cli - accepted)
    if unmatched:
        raise CommandDefinitionError(
            f"command {name!r}: option/argument {', '.join(unmatched)} has no parameter of that "
            f"name in {target.__qualname__}"
        )
    return CommandPlan(target, name, is_class, is_async, injected)
