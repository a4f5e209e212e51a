"""Publishing after a unit of work commits (scaffold-persistence with scaffold-pubsub, wired
as docs/pubsub.md "Publishing after a commit" shows, against real servers).

A subscriber runs in a task of its own, with a pub/sub and a database connection of its
own, like another process would: for every id it receives it reads the row in a new unit
of work, and it must always find it. What was published is checked by publishing a
sentinel last: the sentinel is the next message after the expected ones, so a unit of work
that rolled back or failed to commit published nothing, and no event went out twice.

Runs with the data and the pub/sub on PostgreSQL, and with the data on SQLite and the
pub/sub in memory (the embedded default); the pub/sub outage test runs the data on either
database and the pub/sub on PostgreSQL behind a proxy that can be stopped.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from scaffold.persistence import (
    AfterCommitError,
    Base,
    ConcurrencyError,
    Database,
    DataclassEventCodec,
    DuplicateEntityError,
    EntityMixin,
    EventDispatcher,
    EventRecorder,
    GenericSqlRepository,
    GenericSqlUnitOfWork,
    Outbox,
    OutboxRelay,
    UnitOfWorkFactory,
    VersionMixin,
    outbox_table,
    uuid7,
)
from scaffold.pubsub import PubSub, from_url

WAIT = 15.0
"""Seconds any single wait may take before the test fails instead of hanging."""

SCHEMA = "pubsub_after_commit"

# The domain ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MessageId:
    value: uuid.UUID


@dataclasses.dataclass(frozen=True)
class MessageAdded:
    user_id: uuid.UUID
    message_id: uuid.UUID


class Message(EventRecorder):
    def __init__(self, message_id: MessageId, user_id: uuid.UUID, text: str) -> None:
        self.id = message_id
        self.user_id = user_id
        self.text = text

    @classmethod
    def post(cls, user_id: uuid.UUID, text: str) -> Message:
        """A new message that records `MessageAdded` (for the event tests)."""
        message = cls(MessageId(uuid7()), user_id, text)
        message.record_event(MessageAdded(user_id, message.id.value))
        return message


# The persistence -------------------------------------------------------------------------


class MessageRow(EntityMixin, VersionMixin, Base):
    __tablename__ = "pubsub_after_commit_message"
    user_id: Mapped[uuid.UUID]
    text: Mapped[str]


TABLES = [Base.metadata.tables[MessageRow.__tablename__], outbox_table]
CODEC = DataclassEventCodec([MessageAdded])


class SqlMessages(GenericSqlRepository[Message, MessageId, MessageRow]):
    def _map_entity_to_dto(self, entity: Message) -> MessageRow:
        return MessageRow(id=entity.id.value, user_id=entity.user_id, text=entity.text)

    def _map_dto_to_entity(self, dto: MessageRow) -> Message:
        return Message(MessageId(dto.id), dto.user_id, dto.text)


class SqlUnitOfWork(GenericSqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.messages = SqlMessages(session)


# The application code, as docs/pubsub.md shows it -----------------------------------------


async def post_message(
    uow_factory: UnitOfWorkFactory[SqlUnitOfWork], pub_sub: PubSub, channel: str, message: Message
) -> None:
    """The after-commit way: publish the id from a callback of the unit of work."""
    async with uow_factory.create() as uow:
        uow.messages.add(message)
        uow.after_commit(lambda: pub_sub.publish(channel, str(message.id.value)))
        await uow.commit()


def event_publisher(pub_sub: PubSub) -> EventDispatcher:
    """The events way: the dispatcher given to the unit of work factory (and the relay)."""

    async def publish_events(event: object) -> None:
        if isinstance(event, MessageAdded):
            await pub_sub.publish(f"user:{event.user_id}:messages", str(event.message_id))

    return publish_events


async def add_message(uow_factory: UnitOfWorkFactory[SqlUnitOfWork], message: Message) -> None:
    async with uow_factory.create() as uow:
        uow.messages.add(message)
        await uow.commit()


# The subscriber ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Receipt:
    """A message the subscriber received and whether it found the row (None: a sentinel)."""

    message: str
    found: bool | None


def is_sentinel(message: str) -> bool:
    return message.startswith("sentinel:")


class Subscriber:
    """Subscribes in a task of its own; reads the row of each id in a new unit of work."""

    def __init__(
        self, pub_sub: PubSub, uow_factory: UnitOfWorkFactory[SqlUnitOfWork], channel: str
    ) -> None:
        self._pub_sub = pub_sub
        self._uow_factory = uow_factory
        self._channel = channel
        self._listening = asyncio.Event()
        self._receipts: asyncio.Queue[Receipt] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        listening = asyncio.create_task(self._listening.wait())
        try:
            async with asyncio.timeout(WAIT):
                await asyncio.wait({listening, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            listening.cancel()
        if not self._listening.is_set():
            self._task.result()  # the subscription failed: raise its error
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with self._pub_sub.subscribe(self._channel) as subscription:
            self._listening.set()
            async for message in subscription:
                found = None
                if not is_sentinel(message):
                    async with self._uow_factory.create() as uow:
                        row = await uow.messages.get(MessageId(uuid.UUID(message)))
                        found = row is not None
                self._receipts.put_nowait(Receipt(message, found))

    async def next(self) -> Receipt:
        """The next receipt; fails if none comes within WAIT or the subscriber failed."""
        assert self._task is not None
        if not self._receipts.empty():
            return self._receipts.get_nowait()
        receipt = asyncio.create_task(self._receipts.get())
        try:
            async with asyncio.timeout(WAIT):
                await asyncio.wait({receipt, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            receipt.cancel()
        if receipt.done() and not receipt.cancelled():
            return receipt.result()
        self._task.result()  # raises what ended the subscriber
        raise AssertionError("the subscription ended")

    async def until(self, sentinel: str) -> list[Receipt]:
        """Every receipt before `sentinel`."""
        receipts: list[Receipt] = []
        while (receipt := await self.next()).message != sentinel:
            receipts.append(receipt)
        return receipts


# The servers and databases ----------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_data_url(postgres_url: str) -> Iterator[str]:
    """The session database in a schema of this module's own, with the tables created."""
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA))
        )
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SCHEMA)))
    url = (
        sa.make_url(postgres_url)
        .set(drivername="postgresql+psycopg", query={"options": f"-csearch_path={SCHEMA}"})
        .render_as_string(hide_password=False)
    )
    engine = sa.create_engine(url)
    try:
        Base.metadata.create_all(engine, tables=TABLES)
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA))
            )


async def prepare(database: Database) -> None:
    """Create the tables (SQLite) or empty them (PostgreSQL)."""
    async with database.engine.begin() as connection:
        if database.dialect_name == "sqlite":
            await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=TABLES))
        else:
            names = ", ".join(table.name for table in TABLES)
            await connection.execute(sa.text(f"TRUNCATE {names}"))


def data_url_for(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    url: str = request.getfixturevalue("pg_data_url")
    return url


@dataclasses.dataclass
class World:
    """The publishing side and, separately, the subscriber's side of one set-up."""

    pubsub_url: str
    database: Database
    pub_sub: PubSub
    reader_uow_factory: UnitOfWorkFactory[SqlUnitOfWork]
    reader_pub_sub: PubSub
    user_id: uuid.UUID = dataclasses.field(default_factory=uuid7)

    @property
    def channel(self) -> str:
        return f"user:{self.user_id}:messages"

    def subscriber(self) -> Subscriber:
        return Subscriber(self.reader_pub_sub, self.reader_uow_factory, self.channel)

    async def sentinel(self, name: str) -> str:
        """Publish a sentinel from the publishing side; return it."""
        sentinel = f"sentinel:{name}"
        await self.pub_sub.publish(self.channel, sentinel)
        return sentinel


@contextlib.asynccontextmanager
async def open_world(data_url: str, pubsub_url: str) -> AsyncIterator[World]:
    database = Database(data_url)
    reader_database = Database(data_url)
    await prepare(database)
    pub_sub = from_url(pubsub_url)
    # In memory, publisher and subscriber must share the object; on a server each side
    # has its own connections, as two processes would.
    reader_pub_sub = pub_sub if pubsub_url == "memory://" else from_url(pubsub_url)
    try:
        yield World(
            pubsub_url,
            database,
            pub_sub,
            UnitOfWorkFactory(reader_database, SqlUnitOfWork),
            reader_pub_sub,
        )
    finally:
        await pub_sub.aclose()
        await reader_pub_sub.aclose()
        await reader_database.dispose()
        await database.dispose()


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite+memory"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """PostgreSQL for the data and the pub/sub, or SQLite for the data and memory://."""
    if request.param == "postgresql":
        data_url = data_url_for(request, tmp_path, "postgresql")
        pubsub_url: str = request.getfixturevalue("postgres_url")
    else:
        data_url = data_url_for(request, tmp_path, "sqlite")
        pubsub_url = "memory://"
    async with open_world(data_url, pubsub_url) as opened:
        yield opened


async def outbox_rows(database: Database) -> list[sa.Row[Any]]:
    async with database.engine.connect() as connection:
        query = sa.select(outbox_table).order_by(outbox_table.c.id)
        return list((await connection.execute(query)).all())


async def stored_ids(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        rows = await connection.execute(sa.select(MessageRow.__table__.c.id))
        return {str(row_id) for row_id in rows.scalars()}


class ServerProxy:
    """A TCP proxy in front of a server. Stopping it cuts the open connections and refuses
    new ones, as a server that went away does; starting it again (same port) brings the
    server back for whoever connects through it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._url = url
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The server's URL with the proxy's host and port."""
        parts = urlsplit(self._url)
        userinfo, _, _ = parts.netloc.rpartition("@")
        netloc = f"127.0.0.1:{self.port}"
        return parts._replace(netloc=f"{userinfo}@{netloc}" if userinfo else netloc).geturl()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in self._writers:
            writer.transport.abort()  # both pumps of each connection see the end
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._writers = []
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.append(writer)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
            self._writers.append(upstream_writer)
            await asyncio.gather(
                self._pump(reader, upstream_writer), self._pump(upstream_reader, writer)
            )
        finally:
            self._tasks.discard(task)

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()


# After-commit callbacks ---------------------------------------------------------------------


class TestAfterCommit:
    async def test_every_published_id_is_found_by_the_subscriber(self, world: World) -> None:
        """50 messages in a row: each id arrives once, in order, and its row is there."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        async with world.subscriber() as subscriber:
            sent = []
            for n in range(50):
                message = Message(MessageId(uuid7()), world.user_id, f"message {n}")
                await post_message(uow_factory, world.pub_sub, world.channel, message)
                sent.append(str(message.id.value))
            receipts = await subscriber.until(await world.sentinel("end"))
        assert [receipt.message for receipt in receipts] == sent
        assert [receipt for receipt in receipts if not receipt.found] == []

    async def test_concurrent_units_of_work_publish_only_what_they_committed(
        self, world: World
    ) -> None:
        """50 units of work committing at once: every id arrives once and is found."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        messages = [Message(MessageId(uuid7()), world.user_id, f"m{n}") for n in range(50)]
        async with world.subscriber() as subscriber:
            async with asyncio.timeout(WAIT):
                await asyncio.gather(
                    *(post_message(uow_factory, world.pub_sub, world.channel, m) for m in messages)
                )
            receipts = await subscriber.until(await world.sentinel("end"))
        assert collections.Counter(receipt.message for receipt in receipts) == {
            str(message.id.value): 1 for message in messages
        }
        assert [receipt for receipt in receipts if not receipt.found] == []

    async def test_a_unit_of_work_that_does_not_commit_publishes_nothing(
        self, world: World
    ) -> None:
        """An exception in the block, a block left without commit and an explicit rollback
        all discard the callback: the sentinel is the next message the subscriber gets."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        pub_sub, channel = world.pub_sub, world.channel
        messages = [Message(MessageId(uuid7()), world.user_id, f"m{n}") for n in range(3)]
        async with world.subscriber() as subscriber:

            async def failing_use_case() -> None:
                async with uow_factory.create() as uow:
                    uow.messages.add(messages[0])
                    uow.after_commit(lambda: pub_sub.publish(channel, str(messages[0].id.value)))
                    raise LookupError("the use case failed")

            with pytest.raises(LookupError, match="the use case failed"):
                await failing_use_case()

            async with uow_factory.create() as uow:
                uow.messages.add(messages[1])
                uow.after_commit(lambda: pub_sub.publish(channel, str(messages[1].id.value)))

            async with uow_factory.create() as uow:
                uow.messages.add(messages[2])
                uow.after_commit(lambda: pub_sub.publish(channel, str(messages[2].id.value)))
                await uow.rollback()

            sentinel = await world.sentinel("after the rollbacks")
            assert await subscriber.next() == Receipt(sentinel, None)
        assert await stored_ids(world.database) == set()

    async def test_a_commit_refused_for_a_duplicate_id_publishes_nothing(
        self, world: World
    ) -> None:
        """Adding a message whose id is taken fails the commit; its callback never runs."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        message = Message(MessageId(uuid7()), world.user_id, "first")
        async with world.subscriber() as subscriber:
            await post_message(uow_factory, world.pub_sub, world.channel, message)
            assert await subscriber.next() == Receipt(str(message.id.value), found=True)

            duplicate = Message(message.id, world.user_id, "same id")
            with pytest.raises(DuplicateEntityError):
                await post_message(uow_factory, world.pub_sub, world.channel, duplicate)

            sentinel = await world.sentinel("after the duplicate")
            assert await subscriber.next() == Receipt(sentinel, None)

    async def test_a_commit_that_loses_a_version_conflict_publishes_nothing(
        self, world: World
    ) -> None:
        """Two units edit the same message: the first publishes, the one whose commit
        raises ConcurrencyError does not."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        message = Message(MessageId(uuid7()), world.user_id, "draft")
        await add_message(uow_factory, message)
        pub_sub, channel, message_id = world.pub_sub, world.channel, str(message.id.value)
        async with world.subscriber() as subscriber:
            first, second = uow_factory.create(), uow_factory.create()
            async with first, second:
                mine = await first.messages.get(message.id)
                theirs = await second.messages.get(message.id)
                assert mine is not None
                assert theirs is not None
                mine.text, theirs.text = "edited first", "edited second"
                first.after_commit(lambda: pub_sub.publish(channel, message_id))
                second.after_commit(lambda: pub_sub.publish(channel, "sentinel:lost update"))
                await first.commit()
                with pytest.raises(ConcurrencyError):
                    await second.commit()
            assert await subscriber.next() == Receipt(message_id, found=True)
            sentinel = await world.sentinel("after the conflict")
            assert await subscriber.next() == Receipt(sentinel, None)

    async def test_a_publish_that_fails_after_the_commit_is_reported(self, world: World) -> None:
        """The callback's publish fails (the pub/sub is closed): commit() raises
        AfterCommitError, and the row is committed all the same."""
        closed = from_url(world.pubsub_url)
        await closed.aclose()
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        message = Message(MessageId(uuid7()), world.user_id, "unannounced")
        with pytest.raises(AfterCommitError, match="PubSubClosedError"):
            await post_message(uow_factory, closed, world.channel, message)
        assert await stored_ids(world.database) == {str(message.id.value)}

    async def test_the_check_catches_an_id_published_before_the_commit(self, world: World) -> None:
        """What the subscriber's check is for: an id published inside the transaction
        (row written and flushed, not committed) is not found; after the commit it is."""
        uow_factory = UnitOfWorkFactory(world.database, SqlUnitOfWork)
        message = Message(MessageId(uuid7()), world.user_id, "too early")
        message_id = str(message.id.value)
        async with world.subscriber() as subscriber:
            async with uow_factory.create() as uow:
                uow.messages.add(message)
                await uow.flush()
                await world.pub_sub.publish(world.channel, message_id)
                early = await subscriber.next()  # read while the transaction is open
                uow.after_commit(lambda: world.pub_sub.publish(world.channel, message_id))
                await uow.commit()
            assert early == Receipt(message_id, found=False)
            assert await subscriber.next() == Receipt(message_id, found=True)


# Domain events through a dispatcher and the outbox --------------------------------------------


class TestEventsThroughTheOutbox:
    @pytest.mark.parametrize("outbox", [True, False], ids=["outbox", "no outbox"])
    async def test_each_event_is_published_once_after_its_commit(
        self, world: World, *, outbox: bool
    ) -> None:
        """50 messages that record MessageAdded: each id arrives once, in order, found;
        the outbox is empty afterwards."""
        uow_factory = UnitOfWorkFactory(
            world.database,
            SqlUnitOfWork,
            dispatcher=event_publisher(world.pub_sub),
            outbox=Outbox(CODEC) if outbox else None,
        )
        async with world.subscriber() as subscriber:
            sent = []
            for n in range(50):
                message = Message.post(world.user_id, f"message {n}")
                await add_message(uow_factory, message)
                sent.append(str(message.id.value))
            receipts = await subscriber.until(await world.sentinel("end"))
        assert [receipt.message for receipt in receipts] == sent
        assert [receipt for receipt in receipts if not receipt.found] == []
        assert await outbox_rows(world.database) == []

    async def test_a_failed_or_rolled_back_commit_publishes_no_event(self, world: World) -> None:
        """Events of a unit that rolled back or whose commit failed are neither published
        nor left in the outbox."""
        uow_factory = UnitOfWorkFactory(
            world.database,
            SqlUnitOfWork,
            dispatcher=event_publisher(world.pub_sub),
            outbox=Outbox(CODEC),
        )
        message = Message.post(world.user_id, "first")
        async with world.subscriber() as subscriber:
            await add_message(uow_factory, message)
            assert await subscriber.next() == Receipt(str(message.id.value), found=True)

            duplicate = Message(message.id, world.user_id, "same id")
            duplicate.record_event(MessageAdded(world.user_id, message.id.value))
            with pytest.raises(DuplicateEntityError):
                await add_message(uow_factory, duplicate)

            async def failing_use_case() -> None:
                async with uow_factory.create() as uow:
                    uow.messages.add(Message.post(world.user_id, "rolled back"))
                    raise LookupError("the use case failed")

            with pytest.raises(LookupError, match="the use case failed"):
                await failing_use_case()

            sentinel = await world.sentinel("after the failures")
            assert await subscriber.next() == Receipt(sentinel, None)
        assert await outbox_rows(world.database) == []

    async def test_an_event_the_closed_pub_sub_refused_is_published_by_a_relay(
        self, world: World
    ) -> None:
        """The dispatcher's pub/sub is closed (a process shutting down): the commit
        succeeds, the event stays in the outbox with the error, and a relay with a working
        pub/sub (the next process) publishes it; the subscriber finds the row."""
        closed = from_url(world.pubsub_url)
        await closed.aclose()
        outbox = Outbox(CODEC, retry_delay=0)  # retried at the next relay round
        uow_factory = UnitOfWorkFactory(
            world.database, SqlUnitOfWork, dispatcher=event_publisher(closed), outbox=outbox
        )
        message = Message.post(world.user_id, "while closed")
        async with world.subscriber() as subscriber:
            await add_message(uow_factory, message)  # the failed publish is not raised
            (row,) = await outbox_rows(world.database)
            assert row.attempts == 1
            assert row.last_error.startswith("PubSubClosedError")

            relay = OutboxRelay(world.database, event_publisher(world.pub_sub), outbox)
            assert await relay.deliver_pending() == 1
            assert await subscriber.next() == Receipt(str(message.id.value), found=True)
            sentinel = await world.sentinel("after the relay")
            assert await subscriber.next() == Receipt(sentinel, None)
        assert await outbox_rows(world.database) == []

    async def test_a_relay_running_alongside_publishes_no_event_twice(self, world: World) -> None:
        """A relay polling while units of work commit and deliver their own events: each
        event is published exactly once (no crash, no dropped connection: nothing the docs
        allow to repeat), and every row is found."""
        publish_events = event_publisher(world.pub_sub)
        outbox = Outbox(CODEC)
        uow_factory = UnitOfWorkFactory(
            world.database, SqlUnitOfWork, dispatcher=publish_events, outbox=outbox
        )
        relay = OutboxRelay(world.database, publish_events, outbox)
        messages = [Message.post(world.user_id, f"m{n}") for n in range(40)]
        async with world.subscriber() as subscriber:
            relay_task = asyncio.create_task(relay.run(poll_interval=0.005))
            try:
                async with asyncio.timeout(WAIT):
                    await asyncio.gather(*(add_message(uow_factory, m) for m in messages))
                    # Every row gone: each delivery, the relay's too, has published.
                    while await outbox_rows(world.database):  # noqa: ASYNC110 - polls a table
                        await asyncio.sleep(0.01)
            finally:
                relay_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay_task
            receipts = await subscriber.until(await world.sentinel("end"))
        assert collections.Counter(receipt.message for receipt in receipts) == {
            str(message.id.value): 1 for message in messages
        }
        assert [receipt for receipt in receipts if not receipt.found] == []


@pytest.mark.parametrize("data", ["sqlite", "postgresql"])
@pytest.mark.parametrize("outage", ["from the start", "after connecting"])
async def test_events_wait_in_the_outbox_while_the_pub_sub_server_is_unreachable(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, data: str, outage: str
) -> None:
    """The PostgreSQL pub/sub server cannot be reached when the unit of work commits: the
    commit succeeds, the event stays in the outbox (a relay round during the outage keeps
    it too), and once the server is back the relay publishes it with the same dispatcher;
    the subscriber finds the row, and receives the event once."""
    proxy = ServerProxy(postgres_url)
    await proxy.start()
    if outage == "from the start":
        await proxy.stop()  # the port is known, nobody listens on it
    data_url = data_url_for(request, tmp_path, data)
    try:
        async with open_world(data_url, postgres_url) as world:
            # The application's pub/sub reaches the server through the proxy; the
            # subscriber, another process, reaches it directly.
            pub_sub = from_url(proxy.url, publish_timeout=1.0)
            publish_events = event_publisher(pub_sub)
            outbox = Outbox(CODEC, retry_delay=0)  # retried at the next relay round
            uow_factory = UnitOfWorkFactory(
                world.database, SqlUnitOfWork, dispatcher=publish_events, outbox=outbox
            )
            relay = OutboxRelay(world.database, publish_events, outbox)
            expected = []
            async with world.subscriber() as subscriber:
                if outage == "after connecting":
                    before = Message.post(world.user_id, "before the outage")
                    await add_message(uow_factory, before)
                    assert await subscriber.next() == Receipt(str(before.id.value), found=True)
                    expected.append(str(before.id.value))
                    await proxy.stop()

                message = Message.post(world.user_id, "during the outage")
                await add_message(uow_factory, message)  # commits; the publish failure is kept
                (row,) = await outbox_rows(world.database)
                assert row.attempts == 1
                assert row.last_error.startswith("PubSubConnectionError")
                assert await stored_ids(world.database) >= {str(message.id.value)}

                assert await relay.deliver_pending() == 0
                (row,) = await outbox_rows(world.database)
                assert row.attempts == 2

                await proxy.start()
                assert await relay.deliver_pending() == 1
                assert await outbox_rows(world.database) == []
                assert await subscriber.next() == Receipt(str(message.id.value), found=True)
                sentinel = "sentinel:after the outage"
                await pub_sub.publish(world.channel, sentinel)
                assert await subscriber.next() == Receipt(sentinel, None)
            await pub_sub.aclose()
    finally:
        await proxy.stop()
