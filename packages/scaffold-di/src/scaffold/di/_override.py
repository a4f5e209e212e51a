"""Test overrides, held in a context variable so parallel tests cannot see each other's."""

from __future__ import annotations

from contextvars import Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

from ._cleanup import close_async, close_sync

if TYPE_CHECKING:
    from types import TracebackType

    from ._container import Container
    from ._planset import PlanSet
    from ._registration import Registration


@dataclass(frozen=True, slots=True)
class OverrideLayer:
    """The plans of the graph with the overrides of this context (and its outer ones)."""

    planset: PlanSet
    replaced: dict[object, Registration]


class Override:
    """`with container.override(Service, fake):` (or `async with`, for async generators)."""

    def __init__(self, container: Container, registration: Registration) -> None:
        self._container = container
        self._registration = registration
        self._layer: OverrideLayer | None = None
        self._token: Token[OverrideLayer | None] | None = None

    def _enter(self) -> None:
        if self._token is not None:
            raise RuntimeError("this override is already applied; make a new one to nest")
        container = self._container
        layer = container._push_override(self._registration)  # noqa: SLF001 - its own container
        self._layer = layer
        self._token = container._overrides.set(layer)  # noqa: SLF001 - same

    def _leave(self) -> PlanSet:
        container = self._container
        assert self._token is not None  # noqa: S101 - _enter ran; mypy needs the narrowing
        assert self._layer is not None  # noqa: S101 - same
        try:
            container._overrides.reset(self._token)  # noqa: SLF001 - its own container
        except ValueError:
            # Left in another context than it was entered in (a test fixture's setup and
            # teardown may run in different tasks): drop back to what was outside it.
            outer = self._token.old_value
            container._overrides.set(None if outer is Token.MISSING else outer)  # noqa: SLF001 - same
        container._pop_override()  # noqa: SLF001 - same
        self._token = None
        return self._layer.planset

    def __enter__(self) -> Self:
        self._enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        close_sync(self._leave().exits, exc)

    async def __aenter__(self) -> Self:
        self._enter()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await close_async(self._leave().exits, exc)
