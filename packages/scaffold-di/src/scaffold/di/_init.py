"""Init functions (the 0.9 `add_init_function`): checked with the graph, run by `init()`."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from ._errors import Problem
from ._graph import NodeTarget, target_needs_scope
from ._keys import describe
from ._providers import Kind, display_name, parameters, provider_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ._container import Container
    from ._graph import Graph
    from ._providers import Parameter


def _injected(function: Callable[..., object]) -> bool:
    return provider_kind(function) not in {Kind.CONTAINER_CALL, Kind.ASYNC_CONTAINER_CALL}


def _label(function: Callable[..., object]) -> str:
    return f"init function {display_name(function)}"


def validate_init_functions(
    graph: Graph, functions: Iterable[Callable[..., object]]
) -> list[Problem]:
    """Problems with what init functions ask for: missing, scoped, or unannotated."""
    problems = []
    for function in functions:
        if not _injected(function):
            continue
        for parameter in parameters(function, {}):
            message = _problem(graph, parameter)
            if message is not None:
                problems.append(Problem((_label(function),), message))
    return problems


def _problem(graph: Graph, parameter: Parameter) -> str | None:  # noqa: PLR0911 - one per check
    if parameter.error is not None:
        return f"parameter '{parameter.name}' {parameter.error}"
    if parameter.annotation is inspect.Parameter.empty:
        if parameter.has_default:
            return None
        return (
            f"parameter '{parameter.name}' has no type annotation, so there is nothing to look up"
        )
    target = graph.target(parameter.annotation)
    if target is None:
        if parameter.has_default:
            return None
        hint = graph.suggestions(parameter.annotation)
        return (
            f"nothing is registered for parameter '{parameter.name}' "
            f"({describe(parameter.annotation)})" + (f"; {hint}" if hint else "")
        )
    if target_needs_scope(target, lambda node: node.needs_scope):
        name = (
            target.node.name if isinstance(target, NodeTarget) else describe(parameter.annotation)
        )
        return (
            f"parameter '{parameter.name}' needs {name}, which lives in a scope; init "
            "functions run outside any scope"
        )
    return None


async def run_init_function(
    container: Container, graph: Graph, function: Callable[..., object]
) -> None:
    """Call `function` with the container (0.9 form) or its resolved parameters."""
    if not _injected(function):
        result: Any = function(container)
    else:
        arguments: list[object] = []
        keywords: dict[str, object] = {}
        for parameter in parameters(function, {}):
            if parameter.annotation is inspect.Parameter.empty or (
                parameter.has_default and graph.target(parameter.annotation) is None
            ):
                continue
            value = await container.aresolve(parameter.annotation)
            if parameter.positional_only:
                arguments.append(value)
            else:
                keywords[parameter.name] = value
        result = function(*arguments, **keywords)
    if inspect.isawaitable(result):
        await result
