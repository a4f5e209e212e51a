"""Delivering one outbox row: claim it, hand it to the dispatcher, delete it.

PostgreSQL claims a row by locking it (`FOR UPDATE SKIP LOCKED`) in a transaction that
stays open while the dispatcher runs and deletes the row before committing: other relays
skip the locked row, and a crash rolls the claim back. SQLite has one write lock for the
whole database, which a dispatcher that writes to the same database (enqueueing a task,
say) would wait for; so there a row is claimed by stamping `claimed_at` in a short
transaction, dispatched outside any transaction, and deleted afterwards. A claim older
than `claim_timeout` is taken to belong to a process that died.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa

from .model import utc_now

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession


class Claim(NamedTuple):
    id: uuid.UUID
    topic: str
    payload: str
    attempts: int
    """Failed deliveries before this one."""


type Dispatch = Callable[[Claim], Awaitable[None]]


class Delivery(NamedTuple):
    """What one attempt did: the row it claimed (None: nothing due) and whether it went out."""

    claimed: Claim | None
    delivered: bool
    error: Exception | None = None


def _pick(
    table: sa.Table,
    max_attempts: int,
    only: uuid.UUID | None,
    skip: Collection[uuid.UUID],
) -> sa.Select[tuple[uuid.UUID]]:
    pick = sa.select(table.c.id).where(
        table.c.attempts < max_attempts,
        sa.or_(table.c.retry_at.is_(None), table.c.retry_at <= utc_now()),
    )
    if only is not None:
        pick = pick.where(table.c.id == only)
    if skip:
        pick = pick.where(table.c.id.not_in(list(skip)))
    return pick.order_by(table.c.id).limit(1)


async def deliver_locked(
    session: AsyncSession,
    table: sa.Table,
    dispatch: Dispatch,
    *,
    max_attempts: int,
    only: uuid.UUID | None,
    skip: Collection[uuid.UUID],
) -> Delivery:
    """PostgreSQL: claim by row lock, dispatch, delete, commit: all one transaction."""
    chosen = _pick(table, max_attempts, only, skip).with_for_update(skip_locked=True)
    claim = (
        sa.delete(table)
        .where(table.c.id == chosen.scalar_subquery())
        .returning(table.c.id, table.c.topic, table.c.payload, table.c.attempts)
    )
    row = (await session.execute(claim)).one_or_none()
    if row is None:
        await session.rollback()
        return Delivery(None, delivered=False)
    claimed = Claim(row.id, row.topic, row.payload, row.attempts)
    try:
        await dispatch(claimed)
    except Exception as error:  # noqa: BLE001 - the caller records it on the row
        await session.rollback()
        return Delivery(claimed, delivered=False, error=error)
    await session.commit()
    return Delivery(claimed, delivered=True)


async def deliver_leased(
    session: AsyncSession,
    table: sa.Table,
    dispatch: Dispatch,
    *,
    max_attempts: int,
    claim_timeout: float,
    only: uuid.UUID | None,
    skip: Collection[uuid.UUID],
) -> Delivery:
    """SQLite: stamp the claim and commit, dispatch outside a transaction, then delete."""
    now = utc_now()
    stale = now - datetime.timedelta(seconds=claim_timeout)
    chosen = _pick(table, max_attempts, only, skip).where(
        sa.or_(table.c.claimed_at.is_(None), table.c.claimed_at < stale)
    )
    claim = (
        sa.update(table)
        .where(table.c.id == chosen.scalar_subquery())
        .values(claimed_at=now)
        .returning(table.c.id, table.c.topic, table.c.payload, table.c.attempts)
    )
    row = (await session.execute(claim)).one_or_none()
    await session.commit()
    if row is None:
        return Delivery(None, delivered=False)
    claimed = Claim(row.id, row.topic, row.payload, row.attempts)
    try:
        await dispatch(claimed)
    except Exception as error:  # noqa: BLE001 - the caller records it on the row
        return Delivery(claimed, delivered=False, error=error)
    await session.execute(sa.delete(table).where(table.c.id == claimed.id))
    await session.commit()
    return Delivery(claimed, delivered=True)
