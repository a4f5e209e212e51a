"""One PostgreSQL connection driven in libpq pipeline mode, straight from the event loop.

psycopg opens the connection (URL parsing, authentication, TLS); after that, statements
are sent without waiting for the previous one's result, each followed by a Sync so that
each runs in its own transaction, and results are matched to callers in order. The same
socket callback reads asynchronous notifications and hands each read's batch to a
callback, so a notification costs one callback and no task switch. Publishing and
listening each use their own connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg import pq

from scaffold.pubsub._errors import PubSubConnectionError, PubSubError

NotifyCallback = Callable[[list[tuple[bytes, bytes]]], None]
"""Receives the (channel, payload) pairs of one read, in order."""

_SYNC = pq.ExecStatus.PIPELINE_SYNC
_FATAL = pq.ExecStatus.FATAL_ERROR


class PgPipe:
    """Statements in, results out, in order; notifications to a callback."""

    def __init__(
        self, connection: psycopg.AsyncConnection[Any], on_notify: NotifyCallback | None
    ) -> None:
        self._connection = connection  # kept: psycopg closes the socket when it is collected
        self._pg = pg = connection.pgconn
        self._fd = pg.socket
        self._loop = asyncio.get_running_loop()
        self._on_notify = on_notify
        self._inflight: deque[asyncio.Future[None]] = deque()
        self._error: PubSubError | None = None
        self._writing = False
        self.lost: asyncio.Future[None] = self._loop.create_future()
        self._escaping = pq.Escaping(pg)
        pg.nonblocking = 1
        pg.enter_pipeline_mode()
        self._loop.add_reader(self._fd, self._on_readable)

    @classmethod
    async def connect(cls, conninfo: str, on_notify: NotifyCallback | None = None) -> PgPipe:
        connection = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        try:
            return cls(connection, on_notify)
        except BaseException:
            await connection.close()
            raise

    @property
    def backend_pid(self) -> int:
        return self._pg.backend_pid

    def identifier(self, name: str) -> bytes:
        """`name` quoted as an SQL identifier, by libpq."""
        return self._escaping.escape_identifier(name.encode())

    def literal(self, value: bytes) -> bytes:
        """`value` quoted as an SQL string literal, by libpq (aware of the settings)."""
        return self._escaping.escape_literal(value)

    def send(self, query: bytes, params: Sequence[bytes] | None = None) -> asyncio.Future[None]:
        """Queue a statement; the future completes when the server has run it."""
        if self.lost.done():
            raise PubSubConnectionError("the PostgreSQL connection is closed")
        try:
            self._pg.send_query_params(query, params)
            self._pg.pipeline_sync()
        except psycopg.Error as error:
            self._fail(error)
            raise PubSubConnectionError(f"PostgreSQL connection lost: {error}") from error
        future = self._loop.create_future()
        self._inflight.append(future)
        self._flush()
        return future

    async def execute(self, query: bytes, params: Sequence[bytes] | None = None) -> None:
        await self.send(query, params)

    async def aclose(self) -> None:
        self._fail(None)

    def _flush(self) -> None:
        try:
            pending = self._pg.flush()
        except psycopg.Error as error:
            self._fail(error)
            return
        if pending and not self._writing:
            self._loop.add_writer(self._fd, self._flush)
            self._writing = True
        elif not pending and self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False

    def _on_readable(self) -> None:
        pg = self._pg
        try:
            pg.consume_input()
            if self._inflight:
                self._read_results()
            on_notify = self._on_notify
            if on_notify is not None:
                notifies = []
                while (notify := pg.notifies()) is not None:
                    notifies.append((notify.relname, notify.extra))
                if notifies:
                    on_notify(notifies)
        except psycopg.Error as error:
            self._fail(error)

    def _read_results(self) -> None:
        pg = self._pg
        inflight = self._inflight
        separators = 0
        while inflight and not pg.is_busy():
            result = pg.get_result()
            if result is None:
                # One NULL ends each statement's results; two in a row means nothing is
                # left to read right now.
                separators += 1
                if separators > 1:
                    return
                continue
            separators = 0
            status = result.status
            if status == _SYNC:
                future = inflight.popleft()
                error, self._error = self._error, None
                if not future.done():
                    if error is None:
                        future.set_result(None)
                    else:
                        future.set_exception(error)
            elif status == _FATAL:
                message = (result.error_message or b"").decode(errors="replace").strip()
                self._error = PubSubError(f"PostgreSQL refused the statement: {message}")

    def _fail(self, cause: BaseException | None) -> None:
        if self.lost.done():
            return
        self.lost.set_result(None)
        self._loop.remove_reader(self._fd)
        if self._writing:
            self._loop.remove_writer(self._fd)
            self._writing = False
        if cause is None:
            error = PubSubConnectionError("the PostgreSQL connection was closed")
        else:
            error = PubSubConnectionError(f"PostgreSQL connection lost: {cause}")
        while self._inflight:
            future = self._inflight.popleft()
            if not future.done():
                future.set_exception(error)
        self._pg.finish()
