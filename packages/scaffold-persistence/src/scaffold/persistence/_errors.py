"""The exceptions of scaffold-persistence, re-exported from the package facade."""

from __future__ import annotations

from collections.abc import Sequence


class PersistenceError(Exception):
    """Base class of every error this package raises."""


class DatabaseUrlError(PersistenceError, ValueError):
    """A database URL that this package cannot use (unknown scheme, driver or path)."""


class DatabaseUnavailableError(PersistenceError):
    """The database server could not be reached, or the SQLite file could not be opened."""


class MappingError(PersistenceError):
    """A model or mapping that the repository cannot persist as an aggregate."""


class UnitOfWorkError(PersistenceError):
    """A unit of work used in a way its life cycle does not allow."""


class UnitOfWorkClosedError(UnitOfWorkError):
    """The unit of work (or one of its repositories) was used outside its active block."""


class NestedUnitOfWorkError(UnitOfWorkError):
    """A unit of work was entered while it (or another one on its session) was active."""


class EntityNotTrackedError(UnitOfWorkError):
    """An entity that this unit of work neither loaded nor added was passed to it."""


class DuplicateEntityError(PersistenceError):
    """An entity was added with an id that is already taken."""


class ConcurrencyError(PersistenceError):
    """Another unit of work changed or removed an aggregate after this one loaded it.

    Nothing of the failed commit was written. Load the aggregate again in a new unit of
    work and repeat the operation (or report the conflict to the user).
    """


class UnhandledEventsError(UnitOfWorkError):
    """Entities recorded domain events, but the unit of work has nowhere to deliver them."""


class EventCodecError(PersistenceError):
    """A domain event could not be encoded for the outbox, or decoded from it."""


class AfterCommitError(PersistenceError):
    """The transaction was committed, but callbacks or event delivery after it failed.

    The data is stored. `errors` holds every exception raised after the commit, in order.
    """

    def __init__(self, message: str, errors: Sequence[BaseException]) -> None:
        super().__init__(message)
        self.errors = tuple(errors)
