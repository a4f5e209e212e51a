"""Wake-ups from PostgreSQL NOTIFY on a connection that does nothing but listen.

On psycopg 3 a connection waiting in `notifies()` holds its lock, so any query on it
would wait for the next notification: the listener therefore gets a connection of its
own. A notification is only a hint. After (re)connecting the listener reports a wake-up,
so the worker claims whatever arrived while nobody was listening (a full resync), and the
worker polls on a timer in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Self

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

logger = logging.getLogger("scaffold.tasks")

# TCP keepalives notice a dead peer on a connection that never sends anything itself.
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5,
               "keepalives_count": 3}  # fmt: skip
_MAX_BACKOFF = 5.0


class PostgresWakeups:
    """Listens on the queue's channel in a background task while the context is open."""

    def __init__(self, conninfo: str, channel: str, queues: Sequence[str]) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._queues = frozenset(queues)
        self._event = asyncio.Event()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.reconnects = 0

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._listen(), name="scaffold-tasks listener")
        # Wait briefly for the first LISTEN, so work enqueued right after start is heard;
        # if the database is down the worker starts anyway and relies on polling.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await self._listening.wait()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def event(self) -> asyncio.Event:
        return self._event

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    make_conninfo(self._conninfo, **_KEEPALIVES), autocommit=True
                )
            except psycopg.OperationalError as error:
                logger.warning("task queue listener cannot connect (retrying): %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            try:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                self._listening.set()
                self._event.set()  # resync: claim what arrived while nobody listened
                backoff = 0.05
                async for notify in conn.notifies():
                    if not notify.payload or notify.payload in self._queues:
                        self._event.set()
            except psycopg.OperationalError as error:
                self._listening.clear()
                self.reconnects += 1
                logger.warning("task queue listener lost its connection (reconnecting): %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
            finally:
                await conn.close()
