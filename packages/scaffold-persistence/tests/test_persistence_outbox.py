"""Domain events through the outbox and without it: delivery after commit, failures kept
for retry, relays that never deliver a row twice."""

import asyncio
import logging

import persistence_shop as shop
import pytest
import sqlalchemy as sa

from scaffold.persistence import (
    AfterCommitError,
    Database,
    EventCodecError,
    EventRecorder,
    Outbox,
    OutboxRelay,
    UnitOfWorkFactory,
    outbox_table,
    utc_now,
)


class Flaky:
    """A dispatcher that fails the first `failures` calls, then records events."""

    def __init__(self, failures=0):
        self.failures = failures
        self.events = []

    async def __call__(self, event):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker unavailable")
        self.events.append(event)


async def outbox_rows(database):
    async with database.engine.connect() as connection:
        query = sa.select(outbox_table).order_by(outbox_table.c.id)
        return (await connection.execute(query)).all()


async def commit_order(factory, customer="ann"):
    async with factory.create() as uow:
        order = shop.Order.place(customer)
        order.add_line("apple", 1)
        uow.orders.add(order)
        await uow.commit()
    return order


class TestWithoutOutbox:
    async def test_events_go_straight_to_the_dispatcher(self, database):
        """Without an outbox the dispatcher gets the recorded objects after commit."""
        dispatcher = Flaky()
        factory = UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, dispatcher=dispatcher)
        order = await commit_order(factory)
        assert dispatcher.events == [
            shop.OrderPlaced(order.id, "ann"),
            shop.LineAdded(order.id, "apple", 1),
        ]
        assert await outbox_rows(database) == []

    async def test_a_failing_dispatcher_is_reported_and_the_data_kept(self, database):
        """A dispatcher error surfaces as AfterCommitError after every event was tried;
        the transaction stays committed."""
        dispatcher = Flaky(failures=1)
        factory = UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, dispatcher=dispatcher)
        with pytest.raises(AfterCommitError, match="broker unavailable"):
            await commit_order(factory)
        assert len(dispatcher.events) == 1
        async with factory.create() as uow:
            assert len(await uow.orders.by_customer("ann")) == 1

    def test_an_outbox_needs_a_dispatcher(self, database):
        """A factory given an outbox but no dispatcher is refused."""
        with pytest.raises(ValueError, match="needs a dispatcher"):
            UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, outbox=Outbox(shop.EVENT_CODEC))


class TestOutbox:
    async def test_events_are_written_in_the_commit_and_removed_when_delivered(self, database):
        """The outbox rows of a commit are delivered (decoded) right after it and deleted."""
        dispatcher = Flaky()
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=dispatcher, outbox=Outbox(shop.EVENT_CODEC)
        )
        order = await commit_order(factory)
        assert dispatcher.events == [
            shop.OrderPlaced(order.id, "ann"),
            shop.LineAdded(order.id, "apple", 1),
        ]
        assert await outbox_rows(database) == []

    async def test_a_failed_delivery_stays_for_the_relay(self, database, caplog):
        """A dispatcher failure after commit is logged, not raised; the row keeps the error
        and a relay delivers it later."""
        dispatcher = Flaky(failures=1)
        outbox = Outbox(shop.EVENT_CODEC, retry_delay=0)
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=dispatcher, outbox=outbox
        )
        with caplog.at_level(logging.WARNING, logger="scaffold.persistence.outbox"):
            order = await commit_order(factory)
        assert "will be retried" in caplog.text
        (row,) = await outbox_rows(database)
        assert row.topic == "OrderPlaced"
        assert row.attempts == 1
        assert row.last_error == "ConnectionError: broker unavailable"
        assert dispatcher.events == [shop.LineAdded(order.id, "apple", 1)]

        assert await OutboxRelay(database, dispatcher, outbox).deliver_pending() == 1
        assert dispatcher.events[-1] == shop.OrderPlaced(order.id, "ann")
        assert await outbox_rows(database) == []

    async def test_a_row_is_given_up_after_max_attempts(self, database, caplog):
        """After max_attempts failures a row is no longer tried and stays for inspection."""
        dispatcher = Flaky(failures=100)
        outbox = Outbox(shop.EVENT_CODEC, max_attempts=3, retry_delay=0)
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=dispatcher, outbox=outbox
        )
        async with factory.create() as uow:
            uow.orders.add(shop.Order.place("ann"))
            await uow.commit()
        relay = OutboxRelay(database, dispatcher, outbox)
        with caplog.at_level(logging.WARNING, logger="scaffold.persistence.outbox"):
            assert await relay.deliver_pending() == 0
            assert await relay.deliver_pending() == 0
            assert await relay.deliver_pending() == 0
        (row,) = await outbox_rows(database)
        assert row.attempts == 3
        assert "no longer retried" in caplog.text
        assert dispatcher.failures == 97

    async def test_an_event_that_cannot_be_encoded_fails_the_commit(self, database):
        """An event the codec cannot encode aborts the commit before anything is written."""

        class Unregistered(shop.Order):
            def pay(self):
                self.record_event(object())

        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=Flaky(), outbox=Outbox(shop.EVENT_CODEC)
        )
        async with factory.create() as uow:
            order = Unregistered.place("ann")
            order.pay()
            uow.orders.add(order)
            with pytest.raises(EventCodecError, match="not one of the event types"):
                await uow.commit()
        async with factory.create() as uow:
            assert await uow.orders.by_customer("ann") == []

    async def test_a_failed_row_waits_longer_after_each_failure(self, database):
        """A failed row is not due before its retry time, which doubles per failure up
        to the limit; once due, the relay delivers it."""
        dispatcher = Flaky(failures=2)
        outbox = Outbox(shop.EVENT_CODEC, retry_delay=0.5, max_retry_delay=1.0)
        assert [outbox.retry_after(n) for n in (1, 2, 3, 10)] == [0.5, 1.0, 1.0, 1.0]
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=dispatcher, outbox=outbox
        )
        async with factory.create() as uow:
            uow.orders.add(shop.Order.place("ann"))
            await uow.commit()  # the first attempt fails
        relay = OutboxRelay(database, dispatcher, outbox)
        (first,) = await outbox_rows(database)
        assert (first.attempts, dispatcher.failures) == (1, 1)
        assert await relay.deliver_pending() == 0  # not due yet: not even tried
        assert dispatcher.failures == 1
        await asyncio.sleep(0.55)
        assert await relay.deliver_pending() == 0  # due, tried, failed again
        (second,) = await outbox_rows(database)
        assert (second.attempts, dispatcher.failures) == (2, 0)
        assert (second.retry_at - first.retry_at).total_seconds() >= 1.0
        assert await relay.deliver_pending() == 0  # not due: not tried
        assert dispatcher.events == []
        await asyncio.sleep(1.05)
        assert await relay.deliver_pending() == 1
        assert await outbox_rows(database) == []

    def test_retry_delays_are_checked(self):
        """A negative delay or a limit below the first delay is refused, naming both."""
        with pytest.raises(ValueError, match="retry_delay=2, max_retry_delay=1"):
            Outbox(shop.EVENT_CODEC, retry_delay=2, max_retry_delay=1)
        with pytest.raises(ValueError, match="retry_delay=-1"):
            Outbox(shop.EVENT_CODEC, retry_delay=-1)

    def test_max_attempts_must_be_positive(self):
        """An outbox that would never deliver is refused."""
        with pytest.raises(ValueError, match="at least 1"):
            Outbox(shop.EVENT_CODEC, max_attempts=0)


class TestDispatchersThatWrite:
    async def test_a_dispatcher_may_write_through_its_own_unit_of_work(self, database):
        """A dispatcher that commits to the same database (as enqueueing a task does)
        works during delivery, on SQLite too, where there is a single write lock."""
        outbox = Outbox(shop.EVENT_CODEC)

        async def record_in_audit(event):
            async with factory.create() as uow:
                await uow.execute_sql(
                    "INSERT INTO persistence_audit (message) VALUES (:m)",
                    {"m": type(event).__name__},
                )
                await uow.commit()

        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=record_in_audit, outbox=outbox
        )
        await commit_order(factory)
        async with database.engine.connect() as connection:
            rows = await connection.execute(sa.text("SELECT message FROM persistence_audit"))
            assert sorted(rows.scalars()) == ["LineAdded", "OrderPlaced"]
        assert await outbox_rows(database) == []


class TestClaims:
    async def test_a_claimed_row_waits_for_its_claim_to_time_out(self, tmp_path):
        """On SQLite, a row claimed by a relay that went away is delivered by another relay
        only once the claim timed out (PostgreSQL's row locks end with the connection)."""
        outbox = Outbox(shop.EVENT_CODEC, claim_timeout=0.5)
        async with Database(f"sqlite:///{tmp_path / 'claims.db'}") as database:
            await database.create_all(shop.OrderRow.metadata)
            async with database.session() as session:
                await outbox.write(session, [shop.OrderPaid(shop.OrderId.new(), utc_now())])
                await session.execute(sa.update(outbox_table).values(claimed_at=utc_now()))
                await session.commit()
            dispatcher = Flaky()
            relay = OutboxRelay(database, dispatcher, outbox)
            assert await relay.deliver_pending() == 0
            await asyncio.sleep(0.6)
            assert await relay.deliver_pending() == 1
            assert [type(event) for event in dispatcher.events] == [shop.OrderPaid]

    def test_claim_timeout_cannot_be_negative(self):
        """A negative claim timeout is refused."""
        with pytest.raises(ValueError, match="cannot be negative"):
            Outbox(shop.EVENT_CODEC, claim_timeout=-1)


class TestRelay:
    async def test_concurrent_relays_deliver_each_event_once(self, database):
        """Four relays racing over the same outbox deliver every row exactly once."""
        stalled = Flaky(failures=1000)
        outbox = Outbox(shop.EVENT_CODEC, max_attempts=1000, retry_delay=0)
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=stalled, outbox=outbox
        )
        async with factory.create() as uow:
            for n in range(10):
                order = shop.Order.place(f"c{n}")
                order.add_line("apple", 1)
                uow.orders.add(order)
            await uow.commit()
        assert len(await outbox_rows(database)) == 20

        received = []

        async def slow(event):
            await asyncio.sleep(0.001)
            received.append(event)

        relays = [OutboxRelay(database, slow, outbox) for _ in range(4)]
        counts = await asyncio.gather(*(relay.deliver_pending() for relay in relays))
        assert sum(counts) == 20
        assert len(received) == 20
        assert len({repr(event) for event in received}) == 20
        assert await outbox_rows(database) == []

    async def test_run_keeps_delivering_until_cancelled(self, database):
        """run() polls the outbox and delivers what appears, until its task is cancelled."""
        dispatcher = Flaky()
        outbox = Outbox(shop.EVENT_CODEC)
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=Flaky(failures=10), outbox=outbox
        )
        task = asyncio.create_task(
            OutboxRelay(database, dispatcher, outbox).run(poll_interval=0.05)
        )
        try:
            await commit_order(factory)
            for _ in range(100):
                if len(dispatcher.events) == 2:
                    break
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        # Rows are delivered oldest first by one relay, but the unit of work's own attempt
        # and the relay skip each other's locked rows, so the order may differ here.
        assert sorted(type(e).__name__ for e in dispatcher.events) == ["LineAdded", "OrderPlaced"]


class TestEventRecorder:
    def test_pull_returns_and_forgets_the_recorded_events(self):
        """pull_events() hands over the events in order, then has none."""
        entity = EventRecorder()
        entity.record_event("a")
        entity.record_event("b")
        assert entity.pull_events() == ["a", "b"]
        assert entity.pull_events() == []

    def test_pulling_leaves_no_trace_on_the_entity(self):
        """After pulling, the entity's state is what it was before recording."""
        entity = EventRecorder()
        before = dict(vars(entity))
        entity.record_event("a")
        entity.pull_events()
        assert vars(entity) == before
