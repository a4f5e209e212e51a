"""The task that owns a listening connection: it follows the channels subscribers want,
checks the connection's health, reconnects with backoff and queues the gap signals.

Backends provide the connection (`ListenConnection`); the logic here is shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import PubSubClosedError, PubSubConnectionError
from scaffold.pubsub._hub import Hub

logger = logging.getLogger("scaffold.pubsub")


class ListenConnection(Protocol):
    """One connection that receives messages and hands them to the hub."""

    @property
    def lost(self) -> asyncio.Future[None]:
        """Done once the connection is gone."""
        ...

    async def listen(self, keys: Collection[str]) -> None: ...

    async def unlisten(self, keys: Collection[str]) -> None: ...

    async def ping(self) -> None: ...

    async def aclose(self) -> None: ...


Connect = Callable[[], Awaitable[ListenConnection]]


class Listener:
    """Keeps one `ListenConnection` listening to exactly the hub's channels."""

    def __init__(
        self,
        hub: Hub,
        connect: Connect,
        *,
        what: str,
        backoff: Backoff,
        health_check_interval: float,
        health_check_timeout: float,
    ) -> None:
        self._hub = hub
        self._connect = connect
        self._what = what
        self._backoff = backoff
        self._interval = health_check_interval
        self._timeout = health_check_timeout
        self._listening: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._dirty = False
        self._wakeup: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Future[None] | None = None
        self._interrupted = False
        self._closing = False
        self.connected = False
        self.reconnects = 0

    @property
    def listening(self) -> int:
        return len(self._listening)

    async def ensure(self, key: str) -> None:
        """Return once `key` is listened to on a live connection."""
        await self._ensure_started()
        if key in self._listening:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        self.wake()
        try:
            await waiter
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[key]

    def wake(self) -> None:
        """The hub's channels changed: reconcile soon."""
        self._dirty = True
        wakeup = self._wakeup
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    async def aclose(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._fail_waiters(PubSubClosedError("the pub/sub was closed"))

    async def _ensure_started(self) -> None:
        while self._task is None:
            self._check_open()
            starting = self._starting
            if starting is None:
                await self._start()
                return
            await asyncio.wait((starting,))
            if not starting.cancelled() and (error := starting.exception()) is not None:
                raise error

    async def _start(self) -> None:
        # The first connection is made in the caller's task so that a wrong URL or an
        # unreachable server is the subscriber's error, not a silent retry loop.
        starting = self._starting = asyncio.get_running_loop().create_future()
        try:
            connection = await self._connect()
            try:
                self._check_open()
            except PubSubClosedError:
                await self._close_quietly(connection)
                raise
        except asyncio.CancelledError:
            self._starting = None
            starting.cancel()
            raise
        except BaseException as error:
            self._starting = None
            starting.set_exception(error)
            starting.exception()  # marked as retrieved: the waiters re-raise it
            raise
        self._starting = None
        self._task = asyncio.create_task(self._run(connection), name=f"{self._what} listener")
        starting.set_result(None)

    def _check_open(self) -> None:
        if self._closing:
            raise PubSubClosedError("the pub/sub was closed")

    async def _run(self, connection: ListenConnection) -> None:
        while True:
            try:
                await self._serve(connection)
            except asyncio.CancelledError:
                await self._close_quietly(connection)
                raise
            except Exception as error:  # noqa: BLE001 - any failure means: reconnect
                logger.warning("%s listener lost its connection: %s", self._what, error)
            # Before any await: a subscriber starting now must wait for the new connection.
            self.connected = False
            self._listening.clear()
            if not self._interrupted:
                self._interrupted = True
                self._hub.interrupt()
            await self._close_quietly(connection)
            connection = await self._reconnect()
            self.reconnects += 1
            logger.info("%s listener reconnected", self._what)

    async def _serve(self, connection: ListenConnection) -> None:
        self.connected = True
        loop = asyncio.get_running_loop()
        self._dirty = True
        while True:
            if self._dirty:
                self._dirty = False
                async with asyncio.timeout(self._timeout):
                    await self._reconcile(connection)
                if self._interrupted:
                    self._interrupted = False
                    self._hub.release_gaps()
                continue
            self._wakeup = wakeup = loop.create_future()
            done, _ = await asyncio.wait(
                (wakeup, connection.lost),
                timeout=self._interval,
                return_when=asyncio.FIRST_COMPLETED,
            )
            self._wakeup = None
            if connection.lost.done():
                raise PubSubConnectionError(f"the {self._what} listening connection closed")
            if not done:
                async with asyncio.timeout(self._timeout):
                    await connection.ping()

    async def _reconcile(self, connection: ListenConnection) -> None:
        wanted = set(self._hub.keys())
        stale = self._listening - wanted
        if stale:
            # Forget them first: a subscriber arriving meanwhile must wait for a new LISTEN.
            self._listening -= stale
            await connection.unlisten(sorted(stale))
        missing = wanted - self._listening
        if missing:
            await connection.listen(sorted(missing))
            self._listening |= missing
        for key in [key for key in self._waiters if key in self._listening]:
            for waiter in self._waiters.pop(key):
                if not waiter.done():
                    waiter.set_result(None)

    async def _reconnect(self) -> ListenConnection:
        attempt = 0
        while True:
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1
            try:
                return await self._connect()
            except Exception as error:  # noqa: BLE001 - keep trying until closed
                logger.warning(
                    "%s listener could not reconnect (attempt %d): %s", self._what, attempt, error
                )

    def _fail_waiters(self, error: BaseException) -> None:
        waiters, self._waiters = self._waiters, {}
        for futures in waiters.values():
            for waiter in futures:
                if not waiter.done():
                    waiter.set_exception(error)

    @staticmethod
    async def _close_quietly(connection: ListenConnection) -> None:
        with contextlib.suppress(Exception):
            await connection.aclose()
