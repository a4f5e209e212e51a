"""What ties repositories to the unit of work that shares their session.

Application code builds a unit of work and its repositories from the same session (the
0.9 tutorial: `self.messages = SqlMessageRepository(session)`). The session carries a
`Binding`, so each side finds the other: the unit of work finds every repository whose
entities it must write at commit, and a repository refuses work when no unit of work is
active on its session.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from ._errors import UnitOfWorkClosedError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from ._lifecycle import UnitOfWorkBase

_INFO_KEY = "scaffold.persistence.binding"


class TrackingRepository(Protocol):
    """The side of a repository that its unit of work drives."""

    def _tracked_entities(self) -> Iterable[object]: ...

    def _forget_all(self) -> None: ...


class Binding:
    """The repositories created on one session, and the unit of work active on it."""

    __slots__ = ("active", "repositories")

    def __init__(self) -> None:
        self.repositories: list[TrackingRepository] = []
        self.active: UnitOfWorkBase | None = None

    def register(self, repository: TrackingRepository) -> None:
        self.repositories.append(repository)

    def require_active(self, repository: object, action: str) -> None:
        """Raise `UnitOfWorkClosedError` unless a unit of work is open on this session."""
        active = self.active
        if active is None:
            raise UnitOfWorkClosedError(
                f"{type(repository).__name__}.{action}() needs an active unit of work: create "
                "the repository with the unit of work's session and use it inside "
                "`async with uow:`"
            )
        if not active.is_open:
            active.require_open(f"{type(repository).__name__}.{action}()")


def binding_of(session: AsyncSession | Session) -> Binding:
    """The binding of a SQLAlchemy session, created on first use (kept in `session.info`)."""
    info = session.info
    binding = info.get(_INFO_KEY)
    if binding is None:
        binding = info[_INFO_KEY] = Binding()
    assert isinstance(binding, Binding)  # noqa: S101 - the key is ours alone
    return binding
