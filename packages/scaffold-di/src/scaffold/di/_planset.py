"""The four plan tables of one graph, filled on first use of a key and kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cleanup import close_async, close_sync
from ._compiler import Compiler
from ._errors import ResolutionError

if TYPE_CHECKING:
    import concurrent.futures
    import threading
    from collections.abc import Callable, Mapping

    from ._compiler import Plan
    from ._graph import Graph


class Plans(dict[object, "Plan"]):
    """key -> plan; a key seen for the first time is compiled (once) under the lock."""

    __slots__ = ("_lock", "_make")

    def __init__(self, make: Callable[[object], Plan], lock: threading.RLock) -> None:
        super().__init__()
        self._make = make
        self._lock = lock

    def __missing__(self, key: object) -> Plan:
        with self._lock:
            plan = dict.get(self, key)
            if plan is None:
                plan = self._make(key)
                self[key] = plan
            return plan


class Refusing(dict[object, "Plan"]):
    """A plan table that refuses every key with one message (closed scope, sync-only scope)."""

    __slots__ = ("_message",)

    def __init__(self, message: str) -> None:
        super().__init__()
        self._message = message

    def __missing__(self, key: object) -> Plan:
        raise ResolutionError(self._message)


class PlanSet:
    """Everything compiled from one graph: the root and scope plans, in sync and async."""

    def __init__(
        self,
        graph: Graph,
        lock: threading.RLock,
        cells: Mapping[int, list[object]],
        exits: list[Any],
        pending: dict[int, concurrent.futures.Future[Any]],
    ) -> None:
        self.graph = graph
        self.exits = exits  # generators of singletons (and of transients resolved at the root)
        compiler = Compiler(graph, cells, lock, exits, pending)
        self.root_sync = Plans(lambda key: compiler.plan(key, is_async=False, in_scope=False), lock)
        self.root_async = Plans(lambda key: compiler.plan(key, is_async=True, in_scope=False), lock)
        self.scope_sync = Plans(lambda key: compiler.plan(key, is_async=False, in_scope=True), lock)
        self.scope_async = Plans(lambda key: compiler.plan(key, is_async=True, in_scope=True), lock)

    def close(self) -> None:
        close_sync(self.exits, None)

    async def aclose(self) -> None:
        await close_async(self.exits, None)
