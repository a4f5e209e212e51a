"""Redis connections read by a protocol callback: one for SUBSCRIBE, one for pipelined PUBLISH.

redis-py opens them (URL, AUTH, TLS, database, client name). Then the connection's
transport is handed to a protocol of ours: replies are parsed as they arrive and matched
in order to the callers waiting for them, and a pushed message costs one callback and no
task switch, as on the PostgreSQL connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Collection

from redis.asyncio.connection import AbstractConnection

from scaffold.pubsub._errors import PubSubConnectionError, PubSubError

MessageCallback = Callable[[list[tuple[bytes, bytes]]], None]
"""Receives the (channel, payload) pairs of one read, in order."""

type Reply = bytes | int | list[Reply] | RedisErrorReply | None


_BULK, _ARRAY, _INTEGER, _SIMPLE_STRING, _ERROR = b"$*:+-"


class RedisErrorReply:
    """An error reply (`-ERR ...`): the server refused one command."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class _Incomplete(Exception):  # noqa: N818 - a signal, not an error
    """The buffer ends inside a reply: wait for more bytes."""


class RespReader:
    """Incremental RESP2 parser: `feed` bytes, get the replies they completed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Reply]:
        buffer = self._buffer
        buffer += data
        replies: list[Reply] = []
        position = 0
        try:
            while position < len(buffer):
                reply, position = self._parse(buffer, position)
                replies.append(reply)
        except _Incomplete:
            pass
        del buffer[:position]
        return replies

    def _parse(self, buffer: bytearray, position: int) -> tuple[Reply, int]:
        end = buffer.find(b"\r\n", position)
        if end < 0:
            raise _Incomplete
        kind = buffer[position]
        line = bytes(buffer[position + 1 : end])
        position = end + 2
        if kind == _BULK:
            length = int(line)
            stop = position + length
            if length < 0:
                return None, position
            if stop + 2 > len(buffer):
                raise _Incomplete
            return bytes(buffer[position:stop]), stop + 2
        if kind == _ARRAY:
            return self._parse_array(buffer, position, int(line))
        return self._simple(kind, line), position

    def _parse_array(self, buffer: bytearray, position: int, count: int) -> tuple[Reply, int]:
        if count < 0:
            return None, position
        items: list[Reply] = []
        for _ in range(count):
            item, position = self._parse(buffer, position)
            items.append(item)
        return items, position

    @staticmethod
    def _simple(kind: int, line: bytes) -> Reply:
        if kind == _INTEGER:
            return int(line)
        if kind == _SIMPLE_STRING:
            return line
        if kind == _ERROR:
            return RedisErrorReply(line.decode(errors="replace"))
        raise PubSubError(f"unexpected reply from Redis: {bytes([kind]) + line[:80]!r}")


def pack_command(*args: bytes) -> bytes:
    """A command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n" % len(arg))
        parts.append(arg)
        parts.append(b"\r\n")
    return b"".join(parts)


class RedisConnection(asyncio.Protocol):
    """The transport of a connected redis-py connection, now read by this protocol."""

    def __init__(self, connection: AbstractConnection, what: str) -> None:
        self._connection = connection  # kept for its orderly disconnect in `aclose`
        self._what = what
        self._loop = asyncio.get_running_loop()
        self._reader = RespReader()
        self.lost: asyncio.Future[None] = self._loop.create_future()
        streams = (connection._reader, connection._writer)  # noqa: SLF001 - see the module docstring
        stream_reader, writer = streams
        if stream_reader is None or writer is None:
            raise PubSubConnectionError(f"the Redis {what} connection is not open")
        self._transport = writer.transport
        # Everything redis-py sent so far has been answered and read; anything left in
        # its buffer would still be ours to parse.
        leftover = bytes(getattr(stream_reader, "_buffer", b""))
        self._transport.set_protocol(self)
        if leftover:
            self.data_received(leftover)

    def send(self, *args: bytes) -> None:
        if self.lost.done():
            raise PubSubConnectionError(f"the Redis {self._what} connection is closed")
        self._transport.write(pack_command(*args))

    async def aclose(self) -> None:
        self._fail(None)
        # nowait: the stream protocol redis-py would wait for no longer sees the close.
        await self._connection.disconnect(nowait=True)

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        try:
            replies = self._reader.feed(data)
        except (PubSubError, ValueError) as error:
            self._fail(error)
            self._transport.close()
            return
        for reply in replies:
            if type(reply) is RedisErrorReply:
                self.refused(reply)
            else:
                self.handle(reply)

    def eof_received(self) -> bool | None:
        self._fail(ConnectionResetError("the server closed the connection"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or ConnectionResetError("the connection was closed"))

    # for subclasses

    def handle(self, reply: Reply) -> None:
        raise NotImplementedError

    def refused(self, error: RedisErrorReply) -> None:
        raise NotImplementedError

    def fail_pending(self, error: PubSubError) -> None:
        raise NotImplementedError

    def _fail(self, cause: BaseException | None) -> None:
        if self.lost.done():
            return
        self.lost.set_result(None)
        if cause is None:
            error = PubSubConnectionError(f"the Redis {self._what} connection was closed")
        else:
            error = PubSubConnectionError(f"Redis connection lost: {cause}")
        self.fail_pending(error)


class RedisListenConnection(RedisConnection):
    def __init__(self, connection: AbstractConnection, on_message: MessageCallback) -> None:
        self._on_message = on_message
        self._confirmations: dict[tuple[bytes, bytes], deque[asyncio.Future[None]]] = {}
        self._pings: deque[asyncio.Future[None]] = deque()
        self._messages: list[tuple[bytes, bytes]] = []
        super().__init__(connection, "listening")

    async def listen(self, keys: Collection[str]) -> None:
        await self._command(b"subscribe", b"SUBSCRIBE", keys)

    async def unlisten(self, keys: Collection[str]) -> None:
        await self._command(b"unsubscribe", b"UNSUBSCRIBE", keys)

    async def ping(self) -> None:
        if self.lost.done():
            raise PubSubConnectionError("the Redis listening connection is closed")
        future = self._loop.create_future()
        self._pings.append(future)
        await _send_then_wait(self, (b"PING",), [future])

    async def _command(self, kind: bytes, command: bytes, keys: Collection[str]) -> None:
        if not keys:
            return
        if self.lost.done():
            raise PubSubConnectionError("the Redis listening connection is closed")
        futures = []
        encoded = [key.encode() for key in keys]
        for key in encoded:
            future: asyncio.Future[None] = self._loop.create_future()
            self._confirmations.setdefault((kind, key), deque()).append(future)
            futures.append(future)
        await _send_then_wait(self, (command, *encoded), futures)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        messages = self._messages
        if messages:
            self._messages = []
            self._on_message(messages)

    def handle(self, reply: Reply) -> None:
        if type(reply) is list and reply:
            kind = reply[0]
            if kind == b"message":
                channel, payload = reply[1], reply[2]
                if type(channel) is bytes and type(payload) is bytes:
                    self._messages.append((channel, payload))
            elif kind in {b"subscribe", b"unsubscribe"} and type(reply[1]) is bytes:
                confirmation = (kind, reply[1])
                futures = self._confirmations.get(confirmation)
                if futures:
                    _resolve(futures.popleft())
                    if not futures:
                        del self._confirmations[confirmation]
            elif kind == b"pong" and self._pings:
                _resolve(self._pings.popleft())
        elif reply == b"PONG" and self._pings:
            _resolve(self._pings.popleft())

    def refused(self, error: RedisErrorReply) -> None:
        self.fail_pending(PubSubError(f"Redis refused a command: {error.message}"))

    def fail_pending(self, error: PubSubError) -> None:
        confirmations, self._confirmations = self._confirmations, {}
        pings, self._pings = self._pings, deque()
        for futures in [*confirmations.values(), pings]:
            for future in futures:
                if not future.done():
                    future.set_exception(error)


class RedisSendConnection(RedisConnection):
    def __init__(self, connection: AbstractConnection) -> None:
        self._inflight: deque[asyncio.Future[None]] = deque()
        super().__init__(connection, "publishing")

    async def publish(self, key: str, payload: bytes) -> None:
        if self.lost.done():
            raise PubSubConnectionError("the Redis publishing connection is closed")
        future = self._loop.create_future()
        self._inflight.append(future)
        await _send_then_wait(self, (b"PUBLISH", key.encode(), payload), [future])

    def handle(self, reply: Reply) -> None:  # noqa: ARG002 - PUBLISH replies a receiver count
        if self._inflight:
            _resolve(self._inflight.popleft())

    def refused(self, error: RedisErrorReply) -> None:
        if self._inflight:
            future = self._inflight.popleft()
            if not future.done():
                future.set_exception(PubSubError(f"Redis refused the message: {error.message}"))

    def fail_pending(self, error: PubSubError) -> None:
        while self._inflight:
            future = self._inflight.popleft()
            if not future.done():
                future.set_exception(error)


async def _send_then_wait(
    connection: RedisConnection,
    command: tuple[bytes, ...],
    replies: list[asyncio.Future[None]],
) -> None:
    """Send a command and wait for its replies; never leave a reply future unobserved."""
    try:
        connection.send(*command)
        if len(replies) == 1:
            await replies[0]  # the common case (a publish) without gather's bookkeeping
        else:
            await asyncio.gather(*replies)
    except BaseException:
        for reply in replies:
            if not reply.done():
                reply.cancel()
            elif not reply.cancelled():
                reply.exception()  # already failed with the connection; mark it seen
        raise


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
