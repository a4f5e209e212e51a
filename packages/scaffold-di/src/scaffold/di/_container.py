"""The container: registrations, validation, and resolution at the root."""

from __future__ import annotations

import inspect
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol, get_origin, overload

from ._cleanup import close_async, close_sync
from ._errors import RegistrationError, ValidationError
from ._graph import Graph, target_nodes
from ._init import run_init_function, validate_init_functions
from ._keys import describe, is_key
from ._lifetime import Lifetime
from ._override import Override, OverrideLayer
from ._planset import PlanSet, missing_plan
from ._providers import Kind, provider_kind
from ._registration import MISSING, NO_INSTANCES, Registration
from ._scope import NO_CONTEXT, Scope, SyncScope
from ._validation import validate

if TYPE_CHECKING:
    import concurrent.futures
    from collections.abc import Awaitable, Callable, Mapping

    from ._compiler import Plan


_new_scope = object.__new__


class _Unbuilt(dict[object, "Plan"]):
    """Stands in for a plan table until the container is built; the first lookup builds."""

    __slots__ = ("_container", "_table")

    def __init__(self, container: Container, table: str) -> None:
        super().__init__()
        self._container = container
        self._table = table

    def __missing__(self, key: object) -> Plan:
        planset = self._container._build()  # noqa: SLF001 - the container's own helper
        return _plan(getattr(planset, self._table), key)


class Container:
    """A dependency injection container.

    Register services with `add_singleton`, `add_scoped`, `add_transient` and
    `add_instance`; resolve them with `resolve` (or `container[Service]`), `aresolve`, or
    inside a scope (`async with container.scope() as scope`). The whole graph is
    validated the first time it is used (or by `validate()` / `await init()`).

    Parameters:
        validate: check the graph when it is built and refuse it with a
            `ValidationError` listing every problem (the default). With False, problems
            surface as `ResolutionError` when the broken part is resolved.
    """

    def __init__(self, *, validate: bool = True) -> None:
        self._registrations: list[Registration] = []
        self._context_keys: list[object] = []
        self._sync_roots: list[object] = []
        self._init_functions: list[Callable[..., object]] = []
        self._validate = validate
        self._lock = threading.RLock()
        self._exits: list[Any] = []
        self._pending: dict[int, concurrent.futures.Future[Any]] = {}
        self._planset: PlanSet | None = None
        self._overrides: ContextVar[OverrideLayer | None] = ContextVar(
            "scaffold.di overrides", default=None
        )
        self._overrides_active = 0
        self._reset_tables()

    def _reset_tables(self) -> None:
        self._planset = None
        # The plan set scopes use when nothing is overridden anywhere: one check per scope.
        self._fast: PlanSet | None = None
        self._root_sync: dict[object, Plan] = _Unbuilt(self, "root_sync")
        self._root_async: dict[object, Plan] = _Unbuilt(self, "root_async")

    # Registration ---------------------------------------------------------------------

    def add_singleton(self, key: object, provider: Callable[..., object] | None = None) -> None:
        """Register `key` with one instance for the whole container, created on first use.

        Parameters:
            key: what is asked for: a class, an ABC or Protocol, `Repository[User]`, ...
            provider: a class to auto-wire, a factory function (sync, async, or a
                generator that cleans up after its `yield`), or a 0.9-style callable
                taking the container (`lambda c: ...`). Omitted: `key` itself.
        """
        self._add(key, provider, Lifetime.SINGLETON)

    def add_scoped(self, key: object, provider: Callable[..., object] | None = None) -> None:
        """Register `key` with one instance per scope (a request, a task run, a command)."""
        self._add(key, provider, Lifetime.SCOPED)

    def add_transient(self, key: object, provider: Callable[..., object] | None = None) -> None:
        """Register `key` with a new instance every time it is injected or resolved."""
        self._add(key, provider, Lifetime.TRANSIENT)

    def add_instance(self, key: object, instance: object) -> None:
        """Register an existing object as the singleton for `key`."""
        _check_key(key)
        if isinstance(key, type) and not _is_protocol(key) and not isinstance(instance, key):
            raise RegistrationError(
                f"add_instance({describe(key)}, ...): {instance!r} is not a {describe(key)}"
            )
        self._register(Registration(key, Lifetime.SINGLETON, Kind.INSTANCE, None, instance))

    def add_context(self, key: object) -> None:
        """Declare that scopes receive a `key` value in `container.scope(context={key: ...})`.

        Services may then depend on it (per-request objects such as the request itself);
        validation knows it exists, and a scope opened without it says so.
        """
        _check_key(key)
        with self._lock:
            if key not in self._context_keys:
                self._context_keys.append(key)
            self._reset_tables()

    def add_init_function(self, function: Callable[..., object]) -> None:
        """Run `function` (sync or async) in `await container.init()`, in registration order.

        It receives the container if it takes one unannotated parameter (the 0.9 form),
        otherwise its annotated parameters are resolved from the container.
        """
        if not callable(function):
            raise RegistrationError(f"add_init_function(): {function!r} is not callable")
        if provider_kind(function) in {Kind.GENERATOR, Kind.ASYNC_GENERATOR}:
            raise RegistrationError(
                f"add_init_function(): {describe(function)} is a generator; an init "
                "function runs once, so register a generator as a singleton provider instead"
            )
        with self._lock:
            self._init_functions.append(function)
            self._reset_tables()

    def expect_sync(self, *keys: object) -> None:
        """Declare that synchronous code resolves `keys` (with `resolve()` or `sync_scope()`).

        Validation then reports every async provider in their graphs. `get_factory()`
        declares its key this way.
        """
        with self._lock:
            for key in keys:
                _check_key(key)
                if key not in self._sync_roots:
                    self._sync_roots.append(key)
            self._reset_tables()

    def _add(self, key: object, provider: Callable[..., object] | None, lifetime: Lifetime) -> None:
        _check_key(key)
        if provider is None:
            provider = _implementation(key, lifetime)
        else:
            _check_provider(key, provider, lifetime)
        self._register(Registration(key, lifetime, provider_kind(provider), provider))

    def _register(self, registration: Registration) -> None:
        with self._lock:
            self._registrations.append(registration)
            self._reset_tables()

    def __contains__(self, key: object) -> bool:
        """Whether `key` is registered (or declared as scope context)."""
        return any(r.key == key for r in self._registrations) or key in self._context_keys

    # Building -----------------------------------------------------------------------

    def _graph(self, registrations: list[Registration]) -> Graph:
        return Graph(registrations, self._context_keys, {Container: "container", Scope: "scope"})

    def _checked(self, graph: Graph) -> Graph:
        if self._validate:
            problems = validate(graph, self._sync_roots)
            problems.extend(validate_init_functions(graph, self._init_functions))
            if problems:
                raise ValidationError(problems)
        return graph

    def _build(self) -> PlanSet:
        with self._lock:
            planset = self._planset
            if planset is None:
                graph = self._checked(self._graph(self._registrations))
                planset = PlanSet(graph, self._lock, {}, self._exits, self._pending)
                self._planset = planset
                self._fast = None if self._overrides_active else planset
                self._root_sync = planset.root_sync
                self._root_async = planset.root_async
            return planset

    def validate(self) -> None:
        """Check the whole graph now; raise `ValidationError` listing every problem.

        A valid graph is kept, so the first resolution does not build it again.
        """
        self._build()

    async def init(self) -> None:
        """Validate the graph, then run the init functions in registration order."""
        planset = self._build()
        for function in self._init_functions:
            await run_init_function(self, planset.graph, function)

    # Resolving ----------------------------------------------------------------------

    def _current(self) -> PlanSet:
        if self._overrides_active:
            layer = self._overrides.get()
            if layer is not None:
                return layer.planset
        planset = self._planset
        return self._build() if planset is None else planset

    @overload
    def resolve[T](self, key: type[T] | Callable[..., T]) -> T: ...
    @overload
    def resolve(self, key: object) -> Any: ...  # noqa: ANN401 - e.g. Annotated[str, "dsn"]: no static type
    def resolve(self, key: object) -> object:
        """Resolve a singleton or transient synchronously (scoped services need a scope)."""
        if self._overrides_active:
            layer = self._overrides.get()
            if layer is not None:
                return _plan(layer.planset.root_sync, key)(self)
        try:
            plan = self._root_sync[key]
        except KeyError:
            plan = missing_plan(self._root_sync, key)
        return plan(self)

    @overload
    def __getitem__[T](self, key: type[T] | Callable[..., T]) -> T: ...
    @overload
    def __getitem__(self, key: object) -> Any: ...  # noqa: ANN401 - as resolve()
    def __getitem__(self, key: object) -> object:
        return self.resolve(key)

    @overload
    def aresolve[T](self, key: type[T] | Callable[..., T]) -> Awaitable[T]: ...
    @overload
    def aresolve(self, key: object) -> Awaitable[Any]: ...
    def aresolve(self, key: object) -> Awaitable[Any]:
        """Resolve at the root, awaiting async providers: `await container.aresolve(key)`."""
        if self._overrides_active:
            layer = self._overrides.get()
            if layer is not None:
                return _plan(layer.planset.root_async, key)(self)  # type: ignore[no-any-return]
        return _plan(self._root_async, key)(self)  # type: ignore[no-any-return]

    def resolve_all[T](self, key: type[T] | Callable[..., T]) -> list[T]:
        """Every registration of `key`, in registration order (as `Sequence[key]` injects)."""
        return self.resolve(list[key])  # type: ignore[valid-type]

    def get_factory[T](self, key: type[T] | Callable[..., T]) -> Callable[[], T]:
        """A zero-argument callable resolving `key` synchronously (the 0.9 API)."""
        if key not in self._sync_roots:
            self.expect_sync(key)

        def factory() -> T:
            return self.resolve(key)

        return factory

    def scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A new scope for `async with`; `context` values are injectable inside it by type."""
        planset = self._fast
        if planset is None:
            planset = self._current()
        # Built without __init__: opening a scope is on every request's path.
        scope = _new_scope(Scope)
        scope._container = self  # noqa: SLF001 - see above
        scope._sync = planset.scope_sync  # noqa: SLF001 - same
        scope._async = planset.scope_async  # noqa: SLF001 - same
        scope._context = dict(context) if context else NO_CONTEXT  # noqa: SLF001 - same
        scope._cache = NO_INSTANCES  # noqa: SLF001 - same
        scope._exits = None  # noqa: SLF001 - same
        scope._busy = None  # noqa: SLF001 - same
        scope._waiters = None  # noqa: SLF001 - same
        return scope

    def sync_scope(self, context: Mapping[object, object] | None = None) -> Scope:
        """A new scope for `with` in synchronous code (sync providers only)."""
        planset = self._fast
        if planset is None:
            planset = self._current()
        # Built without __init__: opening a scope is on every request's path.
        scope = _new_scope(SyncScope)
        scope._container = self  # noqa: SLF001 - see above
        scope._sync = planset.scope_sync  # noqa: SLF001 - same
        scope._async = planset.sync_only  # noqa: SLF001 - same
        scope._context = dict(context) if context else NO_CONTEXT  # noqa: SLF001 - same
        scope._cache = NO_INSTANCES  # noqa: SLF001 - same
        scope._exits = None  # noqa: SLF001 - same
        return scope

    # Testing ------------------------------------------------------------------------

    def override(
        self,
        key: object,
        instance: object = MISSING,
        *,
        provider: Callable[..., object] | None = None,
    ) -> Override:
        """Replace `key` while the `with` block runs, in the current context only.

        Everything that depends on `key`, directly or not, gets the replacement
        (singletons included, rebuilt for the override). The graph is validated again
        when the override is applied. The override is held in a context variable, so
        concurrent tasks and threads (parallel tests) do not see each other's.

        Parameters:
            instance: the object to inject instead.
            provider: or a provider to use instead (same lifetime as the registration).
        """
        _check_key(key)
        if (instance is MISSING) == (provider is None):
            raise RegistrationError(
                f"override({describe(key)}, ...): give either an instance or provider=..."
            )
        existing = [r for r in self._registrations if r.key == key]
        if not existing:
            raise RegistrationError(
                f"override({describe(key)}, ...): nothing is registered for {describe(key)}, "
                "so there is nothing to override; register it first"
            )
        if provider is None:
            registration = Registration(key, Lifetime.SINGLETON, Kind.INSTANCE, None, instance)
        else:
            lifetime = existing[-1].lifetime
            _check_provider(key, provider, lifetime)
            registration = Registration(key, lifetime, provider_kind(provider), provider)
        return Override(self, registration)

    def _push_override(self, registration: Registration) -> OverrideLayer:
        """Build and validate the graph with `registration` replacing its key (Override)."""
        with self._lock:
            outer = self._overrides.get()
            replaced = {**(outer.replaced if outer else {}), registration.key: registration}
            registrations = [r for r in self._registrations if r.key not in replaced]
            registrations.extend(replaced.values())
            graph = self._checked(self._graph(registrations))
            new_ids = {r.id for r in replaced.values()}
            cells = _fresh_cells(graph, new_ids)
            planset = PlanSet(graph, self._lock, cells, [], self._pending)
            self._overrides_active += 1
            self._fast = None
        return OverrideLayer(planset, replaced)

    def _pop_override(self) -> None:
        with self._lock:
            self._overrides_active -= 1
            if not self._overrides_active:
                self._fast = self._planset

    # Closing ------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close singleton (and root transient) generators, newest first.

        Singletons are forgotten, so a container used again creates them anew.
        """
        try:
            await close_async(self._exits, None)
        finally:
            self._forget_singletons()

    def close(self) -> None:
        """`aclose()` for synchronous code (sync generator factories only)."""
        try:
            close_sync(self._exits, None)
        finally:
            self._forget_singletons()

    def _forget_singletons(self) -> None:
        with self._lock:
            for registration in self._registrations:
                for each in (registration, *registration.closed.values()):
                    if each.kind is not Kind.INSTANCE:
                        each.cell[0] = MISSING
            self._reset_tables()  # plans hold created singletons as constants


def _plan(table: dict[object, Plan], key: object) -> Plan:
    try:
        return table[key]
    except KeyError:
        return missing_plan(table, key)


def _fresh_cells(graph: Graph, replaced: set[int]) -> dict[int, list[object]]:
    """New singleton cells for every singleton that depends on a replaced registration."""
    memo: dict[int, bool] = {}

    def affected(node_id: int) -> bool:
        if node_id in memo:
            return memo[node_id]
        memo[node_id] = node_id in replaced
        node = nodes[node_id]
        result = node_id in replaced or any(
            affected(child.id) for edge in node.edges for child in target_nodes(edge.target)
        )
        memo[node_id] = result
        return result

    nodes = {node.id: node for node in graph.nodes}
    return {
        node.id: [MISSING]
        for node in graph.nodes
        if node.lifetime is Lifetime.SINGLETON
        and node.registration.kind is not Kind.INSTANCE
        and affected(node.id)
    }


def _check_key(key: object) -> None:
    if not is_key(key):
        raise RegistrationError(
            f"{key!r} cannot be a key: register a class, an ABC or Protocol, a parametrised "
            "generic such as Repository[User], Annotated[...], or a NewType"
        )


def _is_protocol(cls: type) -> bool:
    return bool(getattr(cls, "_is_protocol", False)) and Protocol in cls.__mro__


def _is_abstract(cls: type) -> bool:
    return _is_protocol(cls) or inspect.isabstract(cls)


def _implementation(key: object, lifetime: Lifetime) -> Callable[..., object]:
    """The provider when none is given: the key itself, if it can be instantiated."""
    cls = get_origin(key) if isinstance(get_origin(key), type) else key
    if not isinstance(cls, type):
        raise RegistrationError(
            f"add_{lifetime.value}({describe(key)}): a provider is needed, since "
            f"{describe(key)} is not a class"
        )
    if _is_abstract(cls):
        what = "a Protocol" if _is_protocol(cls) else "abstract"
        raise RegistrationError(
            f"add_{lifetime.value}({describe(key)}): {describe(key)} is {what} and cannot be "
            f"instantiated; register an implementation: "
            f"add_{lifetime.value}({describe(key)}, Implementation)"
        )
    return key  # type: ignore[return-value]


def _check_provider(key: object, provider: Callable[..., object], lifetime: Lifetime) -> None:
    if not callable(provider):
        raise RegistrationError(
            f"add_{lifetime.value}({describe(key)}, {provider!r}): the provider is not "
            "callable; give a class or a factory function, or use add_instance()"
        )
    implementation = get_origin(provider) or provider
    if not isinstance(implementation, type):
        return
    if _is_abstract(implementation):
        raise RegistrationError(
            f"add_{lifetime.value}({describe(key)}, {describe(provider)}): "
            f"{describe(provider)} is abstract and cannot be instantiated"
        )
    base = get_origin(key) or key
    if isinstance(base, type) and not _is_protocol(base) and not issubclass(implementation, base):
        raise RegistrationError(
            f"add_{lifetime.value}({describe(key)}, {describe(provider)}): "
            f"{describe(provider)} is not a subclass of {describe(key)}"
        )
    if isinstance(base, type) and _is_protocol(base):
        missing = [
            name
            for name, value in vars(base).items()
            if callable(value) and not name.startswith("_") and not hasattr(implementation, name)
        ]
        if missing:
            raise RegistrationError(
                f"add_{lifetime.value}({describe(key)}, {describe(provider)}): "
                f"{describe(provider)} does not implement the Protocol {describe(key)}: "
                f"it lacks {', '.join(missing)}"
            )
