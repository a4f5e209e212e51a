"""Compiling resolution plans: one generated Python function per key and calling mode.

A plan inlines the whole graph below the key it resolves, the way one would write the
factory by hand: singletons are read from their cell (and created by a separate, locked
function the first time), scoped instances are looked up in the scope's cache, transients
are constructed in place. In a fresh scope (an empty cache, the common case of a request)
the plan skips every lookup and stores all scoped instances with one dict display.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import linecache
from typing import TYPE_CHECKING, Any

from ._errors import ResolutionError
from ._graph import (
    AllTarget,
    ConstantTarget,
    ContextTarget,
    Node,
    NodeTarget,
    SpecialTarget,
    target_nodes,
)
from ._keys import describe
from ._lifetime import Lifetime
from ._providers import Kind
from ._registration import MISSING, NO_INSTANCES
from ._singletons import create_async_singleton

if TYPE_CHECKING:
    import concurrent.futures
    import threading
    from collections.abc import Callable, Mapping

    from ._graph import Graph, Target
    from ._scope import Scope

_files = itertools.count(1)

type Plan = Callable[[Any], Any]


def _ahead(path: tuple[str, ...]) -> str:
    return " -> ".join(path)


class _Function:
    """The body of one generated function, as source lines indented from zero."""

    def __init__(self, compiler: Compiler, *, is_async: bool, in_scope: bool, fast: bool) -> None:
        self.compiler = compiler
        self.is_async = is_async
        self.in_scope = in_scope
        self.fast = fast
        self.lines: list[str] = []
        self.count = 0
        self.awaits = False
        self.uses_cache = False
        self.scoped: list[tuple[int, str]] = []
        self.stack: list[Node] = []
        self.forget: str | None = None  # what a plan calls to drop itself from its table

    def var(self, prefix: str = "v") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def fail(self, indent: int, message: str) -> None:
        self.emit(indent, f"raise _E({self.compiler.const(message, 'm')})")

    @property
    def container(self) -> str:
        return "scope._container" if self.in_scope else "container"

    def target(  # noqa: PLR0911 - one return per kind of target
        self, target: Target, indent: int, known: dict[object, str], path: tuple[str, ...]
    ) -> str:
        if isinstance(target, NodeTarget):
            return self.node(target.node, indent, known, path)
        if isinstance(target, AllTarget):
            items = [self.node(node, indent, known, path) for node in target.nodes]
            if target.collection is tuple:
                return "(" + "".join(f"{item}, " for item in items) + ")"
            return "[" + ", ".join(items) + "]"
        if isinstance(target, ContextTarget):
            return self.context(target.key, indent, known, path)
        if isinstance(target, ConstantTarget):
            return self.compiler.const(target.value, "t")
        if target.what == "container":
            return self.container
        if not self.in_scope:
            self.fail(
                indent,
                f"{_ahead(path)}: a Scope is injected, so resolve "
                f"{path[0]} inside `container.scope()` or `container.sync_scope()`",
            )
            return "None"
        return "scope"

    def context(
        self, key: object, indent: int, known: dict[object, str], path: tuple[str, ...]
    ) -> str:
        name = describe(key)
        if not self.in_scope:
            self.fail(
                indent,
                f"{_ahead((*path, name))}: {name} is given per scope (context), "
                f"so resolve {path[0] if path else name} inside "
                f"`container.scope(context={{{name}: ...}})`",
            )
            return "None"
        marker = ("context", key)
        if marker in known:
            return known[marker]
        value = self.var()
        self.emit(indent, f"{value} = scope._context.get({self.compiler.const(key, 'k')}, _M)")
        self.emit(indent, f"if {value} is _M:")
        self.fail(
            indent + 1,
            f"{_ahead((*path, name))}: {name} is declared as scope context, "
            f"but this scope was opened without it; pass it as "
            f"`container.scope(context={{{name}: ...}})`",
        )
        known[marker] = value
        return value

    def node(  # noqa: PLR0911 - one return per lifetime and shortcut
        self, node: Node, indent: int, known: dict[object, str], path: tuple[str, ...]
    ) -> str:
        registration = node.registration
        if registration.kind is Kind.INSTANCE:
            return self.compiler.const(registration.instance, "i")
        if node.id in known:
            return known[node.id]
        path = (*path, node.name)
        if node.generic:
            self.fail(
                indent,
                f"{_ahead(path)}: {node.name} is registered as a generic; ask for "
                f"it with type arguments, e.g. {node.name}[...]",
            )
            return "None"
        if node in self.stack:
            self.fail(indent, f"{_ahead(path)}: dependency cycle")
            return "None"
        if node.lifetime is Lifetime.SINGLETON:
            return self.singleton(node, indent, known, path)
        if node.lifetime is Lifetime.TRANSIENT:
            return self.construct(node, indent, known, path)
        if not self.in_scope:
            self.fail(
                indent,
                f"{_ahead(path)}: {node.name} is scoped, so resolve {path[0]} "
                "inside `async with container.scope() as scope` (or "
                "`with container.sync_scope() as scope`)",
            )
            return "None"
        if self.fast:
            value = self.construct(node, indent, known, path)
            self.scoped.append((node.id, value))
            known[node.id] = value
            return value
        value = self.var()
        self.uses_cache = True
        self.emit(indent, f"{value} = cache.get({node.id}, _M)")
        self.emit(indent, f"if {value} is _M:")
        self.construct(node, indent + 1, dict(known), path, into=value)
        self.emit(indent + 1, f"cache[{node.id}] = {value}")
        known[node.id] = value
        return value

    def singleton(
        self, node: Node, indent: int, known: dict[object, str], path: tuple[str, ...]
    ) -> str:
        cells = self.compiler.cells.get(node.id, node.registration.cell)
        if cells[0] is not MISSING:
            # Created already: the plan uses it as a constant.
            return self.compiler.const(cells[0], "s")
        value = self.var()
        cell = self.compiler.cell(node)
        self.emit(indent, f"{value} = {cell}[0]")
        self.emit(indent, f"if {value} is _M:")
        if not node.needs_await:
            self.emit(indent + 1, f"{value} = {self.compiler.creator(node)}({self.container})")
        elif self.is_async:
            creator = self.compiler.async_creator(node)
            self.emit(indent + 1, f"{value} = await {creator}({self.container})")
            self.awaits = True
        else:
            self.fail(indent + 1, self.async_message(node, path))
        if self.forget is not None:
            # The plan drops itself from its table, to be compiled again next time with
            # the singleton as a constant. This runs once per singleton and plan.
            self.emit(indent + 1, f"{self.forget}()")
        known[node.id] = value
        return value

    def async_message(self, node: Node, path: tuple[str, ...]) -> str:
        root = path[0]
        return (
            f"{_ahead(path)}: {node.name} has an async provider in its graph and is not "
            f"created yet, so {root} cannot be resolved synchronously; use "
            f"`await scope.aresolve({root})` (or `await container.aresolve({root})`)"
        )

    def construct(
        self,
        node: Node,
        indent: int,
        known: dict[object, str],
        path: tuple[str, ...],
        into: str | None = None,
    ) -> str:
        registration = node.registration
        kind = registration.kind
        value = into or self.var()
        if kind.is_async and not self.is_async:
            self.fail(indent, self.async_message(node, path))
            self.emit(indent, f"{value} = None")
            return value
        self.stack.append(node)
        arguments = []
        for edge in node.edges:
            if edge.target is None:
                missing = describe(edge.missing)
                self.fail(
                    indent,
                    f"{_ahead((*path, missing))}: nothing is registered for "
                    f"parameter '{edge.parameter.name}' of {registration.provider_name}",
                )
                expression = "None"
            else:
                expression = self.target(edge.target, indent, known, path)
            arguments.append(f"{edge.parameter.name}={expression}" if edge.keyword else expression)
        self.stack.pop()
        provider = self.compiler.const(registration.provider, "f")
        call = f"{provider}({', '.join(arguments)})"
        if kind in {Kind.CONTAINER_CALL, Kind.ASYNC_CONTAINER_CALL}:
            call = f"{provider}({'scope' if self.in_scope else 'container'})"
        if kind in {Kind.AWAIT, Kind.ASYNC_CONTAINER_CALL}:
            self.awaits = True
            self.emit(indent, f"{value} = await {call}")
        elif kind in {Kind.GENERATOR, Kind.ASYNC_GENERATOR}:
            generator = self.var("g")
            self.emit(indent, f"{generator} = {call}")
            if kind is Kind.GENERATOR:
                self.emit(indent, f"{value} = next({generator}, _M)")
            else:
                self.awaits = True
                self.emit(indent, f"{value} = await anext({generator}, _M)")
            self.emit(indent, f"if {value} is _M:")
            self.fail(
                indent + 1,
                f"{_ahead(path)}: the generator factory "
                f"{registration.provider_name} finished without yielding an instance",
            )
            if self.in_scope:
                # A scope's exits: None, one generator (the common case), or a list.
                exits = self.var("x")
                self.emit(indent, f"{exits} = scope._exits")
                self.emit(indent, f"if {exits} is None:")
                self.emit(indent + 1, f"scope._exits = {generator}")
                self.emit(indent, f"elif type({exits}) is list:")
                self.emit(indent + 1, f"{exits}.append({generator})")
                self.emit(indent, "else:")
                self.emit(indent + 1, f"scope._exits = [{exits}, {generator}]")
            else:
                self.emit(indent, f"_exits.append({generator})")
        else:
            self.emit(indent, f"{value} = {call}")
        return value


class Compiler:
    """Generates and compiles the plans and singleton creators of one graph."""

    def __init__(
        self,
        graph: Graph,
        cells: Mapping[int, list[object]],
        lock: threading.RLock,
        exits: list[Any],
        pending: dict[int, concurrent.futures.Future[Any]],
    ) -> None:
        self.graph = graph
        self.cells = cells
        self.pending = pending
        self.namespace: dict[str, Any] = {
            "_M": MISSING,
            "_NOI": NO_INSTANCES,
            "_thaw": thaw,
            "_E": ResolutionError,
            "_lock": lock,
            "_exits": exits,
            "_pending": self.pending,
            "_create": create_async_singleton,
            "_task": asyncio.current_task,
        }
        self._consts: dict[int, str] = {}
        self._creators: dict[tuple[int, bool], str] = {}
        self._count = itertools.count(1)

    def const(self, value: object, prefix: str) -> str:
        name = self._consts.get(id(value))
        if name is None:
            name = f"_{prefix}{next(self._count)}"
            self._consts[id(value)] = name
            self.namespace[name] = value
        return name

    def cell(self, node: Node) -> str:
        return self.const(self.cells.get(node.id, node.registration.cell), "c")

    def _compile(self, name: str, source: str) -> Plan:
        filename = f"<scaffold.di plan {next(_files)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102 - our own generated code
        plan: Plan = self.namespace[name]
        return plan

    def creator(self, node: Node) -> str:
        """The name of the locked function creating the (sync) singleton `node`."""
        name = self._creators.get((node.id, False))
        if name is not None:
            return name
        name = f"_mk{node.id}"
        self._creators[node.id, False] = name
        body = _Function(self, is_async=False, in_scope=False, fast=False)
        cell = self.cell(node)
        value = body.construct(node, 0, {}, (node.name,))
        lines = [
            f"def {name}(container):",
            "    with _lock:",
            f"        done = {cell}[0]",
            "        if done is not _M:",
            "            return done",
            *("        " + line for line in body.lines),
            f"        {cell}[0] = {value}",
            f"        return {value}",
        ]
        self._compile(name, "\n".join(lines) + "\n")
        return name

    def async_creator(self, node: Node) -> str:
        """The name of the coroutine function creating the async singleton `node`."""
        name = self._creators.get((node.id, True))
        if name is not None:
            return name
        name = f"_amk{node.id}"
        self._creators[node.id, True] = name
        body = _Function(self, is_async=True, in_scope=False, fast=False)
        value = body.construct(node, 0, {}, (node.name,))
        cell = self.cell(node)
        lines = [
            f"async def _build{node.id}(container):",
            *("    " + line for line in body.lines),
            f"    return {value}",
            f"async def {name}(container):",
            (
                f"    return await _create(container, {cell}, _lock, _pending, id({cell}), "
                f"_build{node.id})"
            ),
        ]
        self._compile(name, "\n".join(lines) + "\n")
        return name

    def plan(
        self, key: object, table: dict[object, Any], *, is_async: bool, in_scope: bool
    ) -> Plan:
        """Compile the function that resolves `key` in one of the four calling modes."""
        target = self.graph.target(key)
        if target is None:
            return self._missing(key, is_async=is_async, in_scope=in_scope)
        forget = self.const(functools.partial(table.pop, key, None), "forget")
        name = f"_plan{next(self._count)}"
        argument = "scope" if in_scope else "container"
        prefix = "async def" if is_async else "def"
        nodes = _subgraph(target)
        fast = (
            in_scope
            and not any(node.opaque for node in nodes)
            and any(node.lifetime is Lifetime.SCOPED for node in nodes)
        )
        general = _Function(self, is_async=is_async, in_scope=in_scope, fast=False)
        general.forget = forget
        general_value = general.target(target, 0, {}, ())
        body = [*general.lines, f"return {general_value}"]
        if general.uses_cache:
            body = [
                "cache = scope._cache",
                "if cache is _NOI:",
                "    cache = scope._cache = {}",
                "elif type(cache) is tuple:",
                "    cache = scope._cache = _thaw(cache)",
                *body,
            ]
        if fast:
            quick = _Function(self, is_async=is_async, in_scope=in_scope, fast=True)
            quick.forget = forget
            quick_value = quick.target(target, 0, {}, ())
            ids = self.const(tuple(node_id for node_id, _ in quick.scoped), "ids")
            values = "".join(f", {value}" for _, value in quick.scoped)
            stored = ", ".join(f"{node_id}: {value}" for node_id, value in quick.scoped)
            body = [
                "cache = scope._cache",
                "if cache:",
                "    if type(cache) is tuple:",
                "        cache = scope._cache = _thaw(cache)",
                *("    " + line for line in general.lines),
                f"    return {general_value}",
                *quick.lines,
                # A fresh scope keeps its instances as one tuple (ids first), far cheaper
                # to build than a dict; the general path above turns it into a dict.
                *(
                    [
                        "if cache is _NOI:",
                        f"    scope._cache = ({ids}{values})",
                        "else:  # a provider that re-entered the scope owns the empty dict",
                        f"    cache.update({{{stored}}})",
                    ]
                    if any(node.opaque for node in self.graph.nodes)
                    else [f"scope._cache = ({ids}{values})"]  # nothing can re-enter
                ),
                f"return {quick_value}",
            ]
        lines = [f"{prefix} {name}({argument}):"]
        if is_async and in_scope and general.awaits:
            lines = self._serialized(name, body, nodes, lines)
        else:
            lines.extend("    " + line for line in body)
        return self._compile(name, "\n".join(lines) + "\n")

    def _serialized(
        self, name: str, body: list[str], nodes: list[Node], header: list[str]
    ) -> list[str]:
        """Async resolution in one scope runs one at a time, so a scoped instance built
        with an `await` in the middle is still created once per scope."""
        token = "_task()" if any(node.opaque for node in nodes) else "True"
        return [
            f"async def {name}_body(scope):",
            *("    " + line for line in body),
            *header,
            "    if scope._busy is None:",
            f"        scope._busy = {token}",
            "    elif not await scope._wait_turn():",
            f"        return await {name}_body(scope)",
            "    try:",
            *("        " + line for line in body),
            "    finally:",
            "        if scope._waiters:",
            "            scope._hand_over()",
            "        else:",
            "            scope._busy = None",
        ]

    def _missing(self, key: object, *, is_async: bool, in_scope: bool) -> Plan:
        """A key nothing is registered for: in a scope it may still be a context value
        given without `add_context()` (resolved directly, never injected)."""
        hint = self.graph.suggestions(key)
        message = f"nothing is registered for {describe(key)}" + (f"; {hint}" if hint else "")

        def lookup(scope: Scope) -> object:
            if in_scope:
                value = scope._context.get(key, MISSING)  # noqa: SLF001 - a plan reads its scope
                if value is not MISSING:
                    return value
            raise ResolutionError(message)

        async def alookup(scope: Scope) -> object:
            return lookup(scope)

        return alookup if is_async else lookup


def thaw(snapshot: tuple[Any, ...]) -> dict[int, object]:
    """The instance dict of a scope whose fresh-scope plan stored a tuple (ids, *values)."""
    return dict(zip(snapshot[0], snapshot[1:], strict=True))


def _subgraph(target: Target) -> list[Node]:
    """The nodes a plan for `target` builds itself (singletons' insides are built apart)."""
    seen: dict[int, Node] = {}
    stack = list(target_nodes(target))
    if isinstance(target, SpecialTarget) and target.what == "scope":
        stack = []
    while stack:
        node = stack.pop()
        if node.id in seen:
            continue
        seen[node.id] = node
        if node.lifetime is Lifetime.SINGLETON:
            continue
        for edge in node.edges:
            stack.extend(target_nodes(edge.target))
    return list(seen.values())
