"""Validation of the whole graph: every problem at once, each with its dependency path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import Problem
from ._graph import ContextTarget, Node, SpecialTarget, target_needs_scope, target_nodes
from ._keys import describe
from ._lifetime import Lifetime

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._graph import Edge, Graph, Target


class _Walk:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.problems: list[Problem] = []
        self.done: set[int] = set()
        self.cycles: set[frozenset[int]] = set()

    def run(self) -> list[Problem]:
        depended_on = {
            child.id
            for node in self.graph.nodes
            for edge in node.edges
            for child in target_nodes(edge.target)
        }
        roots = [node for node in self.graph.nodes if node.id not in depended_on]
        for node in [*roots, *self.graph.nodes]:
            self.visit(node, [])
        return self.problems

    def visit(self, node: Node, stack: list[Node]) -> None:
        if node in stack:
            self.cycle([*stack[stack.index(node) :], node])
            return
        if node.id in self.done:
            return
        stack.append(node)
        path = tuple(n.name for n in stack)
        for edge in node.edges:
            self.check_edge(node, edge, path)
            for child in target_nodes(edge.target):
                self.visit(child, stack)
        stack.pop()
        self.done.add(node.id)

    def cycle(self, nodes: list[Node]) -> None:
        members = frozenset(node.id for node in nodes)
        if members in self.cycles:
            return
        self.cycles.add(members)
        self.problems.append(
            Problem(
                tuple(node.name for node in nodes),
                "dependency cycle: each of these needs the next one to be created first; "
                "break it by injecting a factory or moving the shared part into a new service",
            )
        )

    def check_edge(self, node: Node, edge: Edge, path: tuple[str, ...]) -> None:
        parameter = edge.parameter.name
        owner = node.registration.provider_name
        if edge.problem is not None:
            self.problems.append(
                Problem(path, f"parameter '{parameter}' of {owner} {edge.problem}")
            )
            return
        generic = [child for child in target_nodes(edge.target) if child.generic]
        if generic:
            name = generic[0].name
            self.problems.append(
                Problem(
                    (*path, name),
                    f"{name} is registered as a generic, so parameter '{parameter}' of {owner} "
                    f"must say which one, e.g. {name}[...]",
                )
            )
            return
        if edge.target is None:
            hint = self.graph.suggestions(edge.missing)
            self.problems.append(
                Problem(
                    (*path, describe(edge.missing)),
                    f"nothing is registered for parameter '{parameter}' of {owner}"
                    + (f"; {hint}" if hint else ""),
                )
            )
            return
        if node.lifetime is Lifetime.SINGLETON and target_needs_scope(
            edge.target, lambda n: n.needs_scope
        ):
            chain = _scope_chain(edge.target)
            self.problems.append(
                Problem(
                    (*path, *chain),
                    f"{node.name} is a singleton but needs {chain[-1]}, which lives in a scope "
                    f"(parameter '{parameter}' of {owner}); the singleton would keep the first "
                    f"scope's {chain[-1]} forever. Make {node.name} scoped, or "
                    f"{chain[-1]} a singleton",
                )
            )


def _scope_chain(target: Target | None) -> list[str]:
    """The names from `target` down to the first thing that lives in a scope."""
    if isinstance(target, ContextTarget):
        return [describe(target.key)]
    if isinstance(target, SpecialTarget):
        return ["Scope"]
    for node in target_nodes(target):
        if not node.needs_scope:
            continue
        if node.lifetime is Lifetime.SCOPED:
            return [node.name]
        for edge in node.edges:
            if target_needs_scope(edge.target, lambda n: n.needs_scope):
                return [node.name, *_scope_chain(edge.target)]
    return ["?"]


def _async_chain(node: Node, seen: set[int]) -> list[Node] | None:
    """The nodes from `node` down to the first one with an async provider."""
    if node.id in seen:
        return None
    seen.add(node.id)
    if node.registration.kind.is_async:
        return [node]
    for edge in node.edges:
        for child in target_nodes(edge.target):
            chain = _async_chain(child, seen)
            if chain is not None:
                return [node, *chain]
    return None


def validate(graph: Graph, sync_roots: Iterable[object]) -> list[Problem]:
    """Every problem of the graph, in a stable order (roots first, then registration order)."""
    problems = _Walk(graph).run()
    for root in sync_roots:
        target = graph.target(root)
        if target is None:
            problems.append(
                Problem(
                    (describe(root),),
                    "nothing is registered for it, but it is resolved from synchronous code "
                    "(get_factory() or expect_sync())",
                )
            )
            continue
        for start in target_nodes(target):
            chain = _async_chain(start, set())
            if chain is None:
                continue
            last = chain[-1]
            problems.append(
                Problem(
                    tuple(node.name for node in chain),
                    f"{last.registration.provider_name} is async, but {describe(root)} is "
                    "resolved from synchronous code (get_factory() or expect_sync()); resolve "
                    f"it with `await scope.aresolve({describe(root)})` instead, or give "
                    f"{last.name} a sync provider",
                )
            )
    return problems
