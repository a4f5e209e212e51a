"""The transactional outbox: domain events written in the committing transaction.

`Outbox` writes each event of a commit as a row of `scaffold_outbox` in the same
transaction as the aggregates, so the events exist exactly when the change does. Right
after the commit the unit of work delivers its own rows; an `OutboxRelay` (in the worker,
or a task in the web process) delivers whatever is left, for instance after a crash
between the commit and the delivery.

Each row is claimed (a row lock on PostgreSQL, a `claimed_at` stamp on SQLite; see
`_outbox_delivery`), handed to the dispatcher and deleted once the dispatcher returned.
So a delivered row is gone for good, two relays never deliver the same row, and an event
is delivered again only if the process died while the dispatcher was handling it. A
failing dispatcher leaves the row with its error, an attempt count and a time before
which it is not tried again (`retry_delay`, doubling per attempt up to
`max_retry_delay`), so that the attempts of a row span an outage of minutes rather than
a few relay rounds; after `max_attempts` the row stays in the table for inspection.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ._engine import Database
from ._ids import uuid7
from ._outbox_delivery import Claim, deliver_leased, deliver_locked
from .model import Base, UtcDateTime, utc_now

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .types import EventCodec, EventDispatcher

__all__ = ["Outbox", "OutboxRelay", "outbox_table"]

logger = logging.getLogger("scaffold.persistence.outbox")

outbox_table = sa.Table(
    "scaffold_outbox",
    Base.metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("payload", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("claimed_at", UtcDateTime(), nullable=True),
    sa.Column("retry_at", UtcDateTime(), nullable=True),
    comment="Domain events committed but not yet delivered (scaffold-persistence).",
)
"""The outbox table; part of `Base.metadata`, so Alembic's autogenerate creates it."""


class Outbox:
    """Writes domain events to the outbox table and delivers rows one at a time.

    Parameters:
        codec: turns events into a topic and a JSON text and back
            (`DataclassEventCodec` for dataclass events).
        max_attempts: failed deliveries after which a row is no longer retried.
        retry_delay: seconds before a row that failed once is tried again; the delay
            doubles with each further failure, up to `max_retry_delay` (with the defaults,
            ten attempts span about eight minutes). 0 retries at the next relay round.
        claim_timeout: seconds after which a row claimed on SQLite, but neither delivered
            nor released, counts as left behind by a process that died (keep it above the
            longest a dispatcher takes).
    """

    def __init__(
        self,
        codec: EventCodec,
        *,
        max_attempts: int = 10,
        claim_timeout: float = 60.0,
        retry_delay: float = 1.0,
        max_retry_delay: float = 300.0,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if claim_timeout < 0:
            raise ValueError(f"claim_timeout cannot be negative, got {claim_timeout}")
        if retry_delay < 0 or max_retry_delay < retry_delay:
            raise ValueError(
                "retry_delay must be at least 0 and at most max_retry_delay, got "
                f"retry_delay={retry_delay}, max_retry_delay={max_retry_delay}"
            )
        self.codec = codec
        self.max_attempts = max_attempts
        self.claim_timeout = claim_timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay

    def retry_after(self, attempts: int) -> float:
        """Seconds before a row that failed `attempts` times is tried again."""
        return min(self.retry_delay * 2.0 ** max(attempts - 1, 0), self.max_retry_delay)

    async def write(self, session: AsyncSession, events: Collection[object]) -> list[uuid.UUID]:
        """Insert one row per event in the session's transaction; return their ids."""
        ids: list[uuid.UUID] = []
        rows: list[dict[str, object]] = []
        for event in events:
            topic, payload = self.codec.encode(event)
            ids.append(uuid7())
            rows.append(
                {"id": ids[-1], "created_at": utc_now(), "topic": topic, "payload": payload}
            )
        await session.execute(sa.insert(outbox_table), rows)
        return ids

    async def deliver_now(
        self, session: AsyncSession, dispatcher: EventDispatcher, ids: Collection[uuid.UUID]
    ) -> None:
        """Deliver the given rows right after their commit, unless a relay took them."""
        try:
            for row_id in ids:
                await self.deliver_one(session, dispatcher, only=row_id)
        except Exception:
            # The rows are safe in the table; a relay delivers them.
            logger.exception("delivering committed events failed; an OutboxRelay will retry")
            await session.rollback()

    async def deliver_one(
        self,
        session: AsyncSession,
        dispatcher: EventDispatcher,
        *,
        only: uuid.UUID | None = None,
        skip: Collection[uuid.UUID] = (),
    ) -> tuple[uuid.UUID | None, bool]:
        """Claim the oldest due row (or `only` that one), dispatch it and delete it.

        Returns the row's id (None when there was none to claim) and whether it was
        delivered. A dispatcher failure is recorded on the row, not raised.
        """

        async def dispatch(claim: Claim) -> None:
            await dispatcher(self.codec.decode(claim.topic, claim.payload))

        if session.get_bind().dialect.name == "postgresql":
            delivery = await deliver_locked(
                session,
                outbox_table,
                dispatch,
                max_attempts=self.max_attempts,
                only=only,
                skip=skip,
            )
        else:
            delivery = await deliver_leased(
                session,
                outbox_table,
                dispatch,
                max_attempts=self.max_attempts,
                claim_timeout=self.claim_timeout,
                only=only,
                skip=skip,
            )
        if delivery.claimed is None:
            return None, False
        if delivery.error is not None:
            await self._record_failure(session, delivery.claimed, delivery.error)
            return delivery.claimed.id, False
        return delivery.claimed.id, True

    async def _record_failure(self, session: AsyncSession, claim: Claim, error: Exception) -> None:
        row_id, topic = claim.id, claim.topic
        table = outbox_table
        # The delay follows the count this claim saw; the count itself is incremented in
        # SQL, since on PostgreSQL another relay may claim the row once it was released.
        delay = self.retry_after(claim.attempts + 1)
        record = (
            sa.update(table)
            .where(table.c.id == row_id)
            .values(
                attempts=table.c.attempts + 1,
                last_error=f"{type(error).__name__}: {error}",
                claimed_at=None,
                retry_at=utc_now() + datetime.timedelta(seconds=delay),
            )
            .returning(table.c.attempts)
        )
        attempts = (await session.execute(record)).scalar_one()
        await session.commit()
        if attempts >= self.max_attempts:
            logger.error(
                "event %s (%s) failed %d times and is no longer retried; it stays in %s",
                row_id,
                topic,
                attempts,
                table.name,
                exc_info=error,
            )
        else:
            logger.warning(
                "delivering event %s (%s) failed (attempt %d of %d); it will be retried",
                row_id,
                topic,
                attempts,
                self.max_attempts,
                exc_info=error,
            )


class OutboxRelay:
    """Delivers the events left in the outbox: after a crash, or after failures.

    Parameters:
        sessions: a `Database`, or a callable returning a new `AsyncSession`.
        dispatcher: the same dispatcher the unit of work factory was given.
        outbox: the same `Outbox` the unit of work factory was given.
    """

    def __init__(
        self,
        sessions: Database | Callable[[], AsyncSession],
        dispatcher: EventDispatcher,
        outbox: Outbox,
    ) -> None:
        self._sessions = sessions.session if isinstance(sessions, Database) else sessions
        self._dispatcher = dispatcher
        self._outbox = outbox

    async def deliver_pending(self) -> int:
        """Deliver every row that is due now, oldest first; return how many were delivered.

        A row whose delivery fails is not tried again in the same call.
        """
        delivered = 0
        failed: set[uuid.UUID] = set()
        async with self._sessions() as session:
            while True:
                row_id, ok = await self._outbox.deliver_one(session, self._dispatcher, skip=failed)
                if row_id is None:
                    return delivered
                if ok:
                    delivered += 1
                else:
                    failed.add(row_id)

    async def run(self, *, poll_interval: float = 1.0) -> None:
        """Deliver pending events every `poll_interval` seconds until cancelled.

        Database errors (a server restart, a dropped connection) are logged and the next
        round tries again with a fresh connection.
        """
        while True:
            try:
                await self.deliver_pending()
            except Exception:
                logger.exception("outbox relay round failed; retrying in %.1f s", poll_interval)
            await asyncio.sleep(poll_interval)
