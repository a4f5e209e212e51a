"""`GenericSqlUnitOfWork`, the SQL unit of work an application subclasses, and its factory.

As in the 0.9 tutorial, the application's unit of work takes the session and builds its
repositories on it:

    class SqlUnitOfWork(GenericSqlUnitOfWork, UnitOfWork):
        def __init__(self, session: AsyncSession) -> None:
            super().__init__(session)
            self.messages = SqlMessageRepository(session)

and the application code runs `async with uow: ... await uow.commit()`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ._binding import binding_of
from ._engine import Database
from ._errors import ConcurrencyError, DuplicateEntityError
from ._lifecycle import UnitOfWorkBase
from .repository import GenericSqlRepository

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from .outbox import Outbox
    from .types import EventDispatcher

__all__ = ["GenericSqlUnitOfWork", "UnitOfWorkFactory"]

# SQLSTATEs of serialization_failure and deadlock_detected.
_CONFLICT_STATES = frozenset({"40001", "40P01"})


class GenericSqlUnitOfWork(UnitOfWorkBase):
    """One database transaction over the repositories built on `session`.

    Besides commit and rollback it offers `execute_sql` and `dialect_name` (raw SQL in
    the same transaction, the seam scaffold-tasks uses to enqueue transactionally) and
    `after_commit` (callbacks that run only once the data is committed).
    """

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(binding_of(session))
        self._session = session
        self._outbox: Outbox | None = None
        self._outbox_ids: list[uuid.UUID] = []

    @property
    def session(self) -> AsyncSession:
        """The SQLAlchemy session this unit of work commits."""
        return self._session

    @property
    def dialect_name(self) -> str:
        """`"postgresql"` or `"sqlite"`: the database this unit of work writes to."""
        return self._session.get_bind().dialect.name

    async def execute_sql(self, statement: str, parameters: Mapping[str, object]) -> None:
        """Run a `text()` statement with `:name` parameters in this unit's transaction.

        What it writes commits or rolls back together with the aggregates. Pending
        inserts of added aggregates are flushed first, so the statement can refer to them.
        """
        self.require_open("execute_sql()")
        await self._session.execute(sa.text(statement), dict(parameters))

    async def flush(self) -> None:
        """Send the changes made so far to the database without committing.

        Queries see added and removed aggregates without it (autoflush); changes made to
        loaded entities reach the database only at commit or here.
        """
        self.require_open("flush()")
        async with self._explained_errors():
            await self._session.run_sync(self._write_changes)
            await self._session.flush()

    def use_events(self, dispatcher: EventDispatcher, outbox: Outbox | None = None) -> None:
        """Deliver domain events to `dispatcher` after commit, through `outbox` if given.

        `UnitOfWorkFactory` calls this for every unit it creates.
        """
        self._dispatcher = dispatcher
        self._outbox = outbox

    # The transaction.

    async def _commit_transaction(self, events: list[object]) -> None:
        self._outbox_ids = []
        async with self._explained_errors():
            await self._session.run_sync(self._write_changes)
            if events and self._outbox is not None:
                self._outbox_ids = await self._outbox.write(self._session, events)
            await self._session.flush()
        await self._session.commit()

    async def _rollback_transaction(self) -> None:
        await self._session.rollback()

    async def _end(self) -> None:
        await self._session.close()

    async def _deliver_events(self, events: list[object]) -> list[Exception]:
        if self._outbox is None:
            return await super()._deliver_events(events)
        assert self._dispatcher is not None  # noqa: S101 - set together with the outbox
        # Delivery failures stay in the outbox for the relay to retry, so they are not
        # errors of this commit.
        await self._outbox.deliver_now(self._session, self._dispatcher, self._outbox_ids)
        return []

    @contextlib.asynccontextmanager
    async def _explained_errors(self) -> AsyncIterator[None]:
        try:
            yield
        except StaleDataError as error:
            raise ConcurrencyError(
                "another unit of work changed or removed an aggregate that this one loaded "
                f"({error}); nothing was written: load it again and retry"
            ) from error
        except IntegrityError as error:
            duplicate = await self._find_duplicate()
            if duplicate is not None:
                raise DuplicateEntityError(duplicate) from error
            raise
        except DBAPIError as error:
            # PostgreSQL gives up on one of two transactions that wait for each other
            # (deadlock) or that cannot be serialised: the same conflict, seen earlier.
            if getattr(error.orig, "sqlstate", None) in _CONFLICT_STATES:
                raise ConcurrencyError(
                    f"a concurrent transaction conflicted with this unit of work ({error.orig}); "
                    "nothing was written: load the aggregates again and retry"
                ) from error
            raise

    def _write_changes(self, session: Session) -> None:
        for repository in self._binding.repositories:
            if isinstance(repository, GenericSqlRepository):
                repository._write_changes(session)  # noqa: SLF001 - the unit drives its repositories

    async def _find_duplicate(self) -> str | None:
        """After a failed insert: name an added aggregate whose id was already taken."""
        candidates: list[tuple[type[Any], list[object]]] = []
        for repository in self._binding.repositories:
            if isinstance(repository, GenericSqlRepository):
                keys = repository._new_keys()  # noqa: SLF001 - the unit drives its repositories
                if keys:
                    candidates.append((repository.dto_class, keys))
        if not candidates:
            return None
        await self._session.rollback()
        for model, keys in candidates:
            column = sa.inspect(model).primary_key[0]
            taken = (await self._session.scalars(sa.select(column).where(column.in_(keys)))).all()
            if taken:
                return (
                    f"cannot add {model.__name__} {taken[0]}: a row with this id already "
                    "exists; nothing was written"
                )
        return None


class UnitOfWorkFactory[U: GenericSqlUnitOfWork]:
    """Creates the application's unit of work on a new session, with its event delivery.

    Parameters:
        sessions: a `Database`, or any callable returning a new `AsyncSession`.
        unit_of_work: the application's unit of work class (or a callable taking the
            session).
        dispatcher: receives each domain event after the transaction committed.
        outbox: writes the events to the outbox table in the same transaction, so that
            a crash between commit and delivery loses none (an `OutboxRelay` delivers
            what is left).
    """

    def __init__(
        self,
        sessions: Database | Callable[[], AsyncSession],
        unit_of_work: Callable[[AsyncSession], U],
        *,
        dispatcher: EventDispatcher | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        if outbox is not None and dispatcher is None:
            raise ValueError("an outbox needs a dispatcher to deliver the events it keeps")
        self._sessions = sessions.session if isinstance(sessions, Database) else sessions
        self._unit_of_work = unit_of_work
        self._dispatcher = dispatcher
        self._outbox = outbox

    def create(self) -> U:
        """A new unit of work on a new session; use it as `async with uow:`."""
        unit = self._unit_of_work(self._sessions())
        if self._dispatcher is not None:
            unit.use_events(self._dispatcher, self._outbox)
        return unit
