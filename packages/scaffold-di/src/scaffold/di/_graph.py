"""The dependency graph: every registration with its parameters matched to what provides them."""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, get_args, get_origin

from ._keys import annotated_base, describe, optional_inner, sequence_item
from ._lifetime import Lifetime
from ._providers import Kind, Parameter, parameters
from ._registration import Registration

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping


@dataclass(eq=False, slots=True)
class Node:
    """A registration in the graph, with an edge per injected parameter."""

    registration: Registration
    edges: list[Edge] = field(default_factory=list)
    needs_scope: bool = False  # it (or a transient part of it) lives in a scope
    needs_await: bool = False  # an async provider is somewhere in its graph
    opaque: bool = False  # a 0.9 `lambda c:` provider or a Scope parameter: may re-enter
    generic: bool = False  # `add_scoped(Repository, SqlRepository)`: a template, not a service

    @property
    def id(self) -> int:
        return self.registration.id

    @property
    def name(self) -> str:
        return self.registration.name

    @property
    def lifetime(self) -> Lifetime:
        return self.registration.lifetime


@dataclass(frozen=True, slots=True)
class NodeTarget:
    node: Node


@dataclass(frozen=True, slots=True)
class AllTarget:
    """`Sequence[T]`: every registration of `T`, in registration order."""

    item: object
    nodes: tuple[Node, ...]
    collection: type


@dataclass(frozen=True, slots=True)
class ContextTarget:
    """A value given in `container.scope(context={...})`."""

    key: object


@dataclass(frozen=True, slots=True)
class SpecialTarget:
    """The container itself, or the current scope."""

    what: str  # "container" or "scope"


@dataclass(frozen=True, slots=True)
class ConstantTarget:
    """A value known when the graph is built: `type[T]` of a generic implementation."""

    value: object


type Target = NodeTarget | AllTarget | ContextTarget | SpecialTarget | ConstantTarget


@dataclass(frozen=True, slots=True)
class Edge:
    """A parameter of a provider and what is injected into it (None: nothing found)."""

    parameter: Parameter
    keyword: bool
    target: Target | None
    problem: str | None = None  # what is wrong with the parameter itself ("has no ...")
    missing: object = None  # the key nothing is registered for


class Graph:
    """Registrations matched up: built once per validation, read by validation and codegen."""

    def __init__(
        self,
        registrations: Iterable[Registration],
        context_keys: Collection[object],
        special: Mapping[object, str],
    ) -> None:
        self.nodes: list[Node] = []
        self.by_key: dict[object, list[Node]] = {}
        self.context_keys = frozenset(context_keys)
        self.special = dict(special)
        self._scope_memo: dict[int, bool] = {}
        self._await_memo: dict[int, bool] = {}
        self._marked = False
        self._connected: set[int] = set()
        for registration in registrations:
            node = Node(registration)
            self.nodes.append(node)
            self.by_key.setdefault(registration.key, []).append(node)
        self._names_found = self._names()
        for node in self.nodes:  # grows while it runs when open generics get closed
            self._connect(node, self._names_found)
        self._mark()

    def _names(self) -> dict[str, object]:
        names: dict[str, object] = {}
        for key in [*self.by_key, *self.context_keys, *self.special]:
            base = get_origin(key) or key
            name = getattr(base, "__name__", None)
            if isinstance(name, str):
                names.setdefault(name, base)
            for node in self.by_key.get(key, ()):
                provider = node.registration.provider
                provider_name = getattr(get_origin(provider) or provider, "__name__", None)
                if isinstance(provider, type) and isinstance(provider_name, str):
                    names.setdefault(provider_name, provider)
        return names

    def _connect(self, node: Node, names: Mapping[str, object]) -> None:
        if node.id in self._connected:
            return
        self._connected.add(node.id)
        registration = node.registration
        if registration.kind in {Kind.CONTAINER_CALL, Kind.ASYNC_CONTAINER_CALL}:
            node.opaque = True
            return
        if registration.provider is None:
            return
        if (
            isinstance(registration.provider, type)
            and bool(getattr(registration.provider, "__parameters__", ()))
            and get_origin(registration.key) is None
        ):
            # Open generic: each parametrisation asked for becomes a node of its own.
            node.generic = True
            return
        keyword = False
        for parameter in parameters(registration.provider, names):
            edge = self._edge(parameter, keyword=keyword or parameter.keyword_only)
            if edge is None:
                # Left out: its default is used, and what follows must go by keyword.
                keyword = True
                continue
            if edge.target is not None and edge.parameter.positional_only and edge.keyword:
                edge = Edge(
                    parameter,
                    keyword=True,
                    target=None,
                    problem="is positional-only and comes after a parameter left to its "
                    "default, so it cannot be passed; register the earlier parameter's type "
                    "or make this one keyword-capable",
                )
            node.edges.append(edge)
            if edge.target == SpecialTarget("scope"):
                node.opaque = True

    def _edge(self, parameter: Parameter, *, keyword: bool) -> Edge | None:
        if parameter.error is not None:
            return Edge(parameter, keyword, None, problem=parameter.error)
        if parameter.annotation is inspect.Parameter.empty:
            if parameter.has_default:
                return None
            return Edge(
                parameter,
                keyword,
                None,
                problem="has no type annotation, so there is nothing to look up; annotate it "
                "or give it a default",
            )
        target = self.target(parameter.annotation)
        if target is None:
            if parameter.has_default:
                return None
            return Edge(parameter, keyword, None, missing=parameter.annotation)
        return Edge(parameter, keyword, target)

    def target(self, annotation: object) -> Target | None:  # noqa: PLR0911 - one per rule
        """What provides `annotation`: a registration, every registration, context, ..."""
        try:
            nodes = self.by_key.get(annotation)
            if nodes:
                return NodeTarget(nodes[-1])
            if annotation in self.context_keys:
                return ContextTarget(annotation)
            if annotation in self.special:
                return SpecialTarget(self.special[annotation])
        except TypeError:  # an unhashable annotation cannot be registered either
            return None
        base = annotated_base(annotation)
        if base is not None:
            return self.target(base)
        inner = optional_inner(annotation)
        if inner is not None:
            return self.target(inner)
        many = sequence_item(annotation)
        if many is not None:
            collection, item = many
            return AllTarget(item, tuple(self.by_key.get(item, ())), collection)
        if get_origin(annotation) is type and isinstance(get_args(annotation)[0], type):
            # `model: type[T]` in SqlRepository[T], closed as SqlRepository[User]: User.
            return ConstantTarget(get_args(annotation)[0])
        closed = self._close_generic(annotation)
        return None if closed is None else NodeTarget(closed)

    def _close_generic(self, annotation: object) -> Node | None:
        """`Repository[User]` from an open registration `add_scoped(Repository, SqlRepository)`:
        the implementation parametrised the same way, `SqlRepository[User]`."""
        origin = get_origin(annotation)
        nodes = self.by_key.get(origin) if isinstance(origin, type) else None
        if not nodes:
            return None
        open_registration = nodes[-1].registration
        provider = open_registration.provider
        if not isinstance(provider, type) or not getattr(provider, "__parameters__", ()):
            return None
        arguments = get_args(annotation)
        registration = open_registration.closed.get(arguments)
        if registration is None:
            try:
                implementation = provider[arguments]  # type: ignore[index]
            except TypeError:
                return None
            registration = Registration(
                annotation, open_registration.lifetime, Kind.CALL, implementation
            )
            open_registration.closed[arguments] = registration
        node = Node(registration)
        self.nodes.append(node)
        self.by_key[annotation] = [node]
        self._connect(node, self._names_found)
        if self._marked:
            node.needs_scope = self._needs_scope(node, self._scope_memo)
            node.needs_await = self._needs_await(node, self._await_memo)
        return node

    def _mark(self) -> None:
        """Work out `needs_scope` and `needs_await` for every node (cycles are tolerated)."""
        for node in self.nodes:
            node.needs_scope = self._needs_scope(node, self._scope_memo)
            node.needs_await = self._needs_await(node, self._await_memo)
        self._marked = True

    def _needs_scope(self, node: Node, memo: dict[int, bool]) -> bool:
        if node.id in memo:
            return memo[node.id]
        if node.lifetime is Lifetime.SCOPED:
            memo[node.id] = True
            return True
        if node.lifetime is Lifetime.SINGLETON:
            memo[node.id] = False
            return False
        memo[node.id] = False  # provisional, breaks cycles
        result = any(
            target_needs_scope(edge.target, lambda n: self._needs_scope(n, memo))
            for edge in node.edges
        )
        memo[node.id] = result
        return result

    def _needs_await(self, node: Node, memo: dict[int, bool]) -> bool:
        if node.id in memo:
            return memo[node.id]
        memo[node.id] = node.registration.kind.is_async
        result = node.registration.kind.is_async or any(
            self._needs_await(child, memo)
            for edge in node.edges
            for child in target_nodes(edge.target)
        )
        memo[node.id] = result
        return result

    def suggestions(self, missing: object) -> str:
        """A "did you mean" hint for a key nothing is registered for ('' when none fits)."""
        hints: list[str] = []
        if isinstance(missing, type):
            for key, nodes in self.by_key.items():
                provider = nodes[-1].registration.provider
                implementation = provider if isinstance(provider, type) else key
                if (
                    isinstance(implementation, type)
                    and implementation is not missing
                    and issubclass(implementation, missing)
                ):
                    hints.append(
                        f"did you mean add_{nodes[-1].lifetime.value}({describe(missing)}, "
                        f"{describe(implementation)})? {describe(implementation)} is "
                        f"registered, but not for {describe(missing)}"
                    )
                    break
        if not hints:
            names = {describe(key): key for key in self.by_key}
            close = difflib.get_close_matches(describe(missing), list(names), n=3, cutoff=0.6)
            if close:
                hints.append("did you mean " + " or ".join(close) + "?")
        return "; ".join(hints)


def target_nodes(target: Target | None) -> tuple[Node, ...]:
    if isinstance(target, NodeTarget):
        return (target.node,)
    if isinstance(target, AllTarget):
        return target.nodes
    return ()


def target_needs_scope(target: Target | None, needs_scope: Callable[[Node], bool]) -> bool:
    """Whether what `target` injects can only exist inside a scope."""
    if isinstance(target, ContextTarget):
        return True
    if isinstance(target, SpecialTarget):
        return target.what == "scope"
    return any(needs_scope(node) for node in target_nodes(target))
