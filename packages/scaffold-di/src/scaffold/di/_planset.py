"""The four plan tables of one graph, filled on first use of a key and kept."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cleanup import close_async, close_sync
from ._compiler import Compiler
from ._errors import ResolutionError

if TYPE_CHECKING:
    import concurrent.futures
    import threading
    from collections.abc import Mapping

    from ._compiler import Plan
    from ._graph import Graph


# Plan tables are plain dicts (the interpreter's fastest lookup); two private keys carry
# what the table needs besides its plans.
COMPILE = object()  # -> the function compiling a plan for a key seen for the first time
SYNC_ONLY = object()  # in an async table: its stand-in inside a sync_scope()


def missing_plan(table: dict[object, Any], key: object) -> Plan:
    """The plan for `key`, not in `table` yet: compiled once and kept."""
    plan: Plan = table[COMPILE](key)
    return table.setdefault(key, plan)  # type: ignore[no-any-return]


class Refusing(dict[object, "Plan"]):
    """A plan table that refuses every key with one message (closed scope, sync-only scope).

    `plans` keeps the table it stands in for, so a sync scope can still open async children.
    """

    __slots__ = ("_message", "plans")

    def __init__(self, message: str, plans: dict[object, Plan] | None = None) -> None:
        super().__init__()
        self._message = message
        self.plans = plans

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

        def table(*, is_async: bool, in_scope: bool) -> dict[object, Any]:
            plans: dict[object, Any] = {}

            def make(key: object) -> Plan:
                with lock:
                    return compiler.plan(key, plans, is_async=is_async, in_scope=in_scope)

            plans[COMPILE] = make
            return plans

        self.root_sync = table(is_async=False, in_scope=False)
        self.root_async = table(is_async=True, in_scope=False)
        self.scope_sync = table(is_async=False, in_scope=True)
        self.scope_async = table(is_async=True, in_scope=True)
        self.sync_only = Refusing(
            "this scope was opened with sync_scope(), which resolves sync providers only; "
            "open it with `async with container.scope()` to use aresolve()",
            self.scope_async,
        )
        self.scope_async[SYNC_ONLY] = self.sync_only

    def close(self) -> None:
        close_sync(self.exits, None)

    async def aclose(self) -> None:
        await close_async(self.exits, None)
