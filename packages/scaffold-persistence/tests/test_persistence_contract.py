"""The contract every unit of work keeps: in memory, on SQLite and on PostgreSQL.

Each test runs against the three backends (the `backend` fixture), through the shop's
repository and unit of work, so an application's unit tests on the in-memory backend
see the behaviour its production database gives.
"""

import asyncio
import datetime

import persistence_shop as shop
import pytest

from scaffold.persistence import (
    AfterCommitError,
    ConcurrencyError,
    DuplicateEntityError,
    EntityNotTrackedError,
    NestedUnitOfWorkError,
    UnhandledEventsError,
    UnitOfWorkClosedError,
)


async def place(backend, customer="ann", lines=(("apple", 2), ("pear", 1))):
    """Commit a new order with lines; return it (as the committing unit saw it)."""
    async with backend.create() as uow:
        order = shop.Order.place(customer)
        for sku, quantity in lines:
            order.add_line(sku, quantity)
        uow.orders.add(order)
        await uow.commit()
    return order


def state(order):
    """What an order holds, for comparisons across units of work."""
    lines = [(line.id, line.sku, line.quantity, line.unit_price) for line in order.lines]
    return (order.id, order.customer, order.placed_at, order.status, order.note, lines)


class TestAddAndGet:
    async def test_added_aggregate_is_loaded_back_with_its_lines(self, backend):
        """An aggregate added and committed comes back equal, child rows included."""
        placed = await place(backend)
        async with backend.create() as uow:
            loaded = await uow.orders.get(placed.id)
        assert loaded is not placed
        assert state(loaded) == state(placed)

    async def test_timestamps_come_back_timezone_aware(self, backend):
        """A datetime stored in an aggregate comes back as the same aware instant."""
        moment = datetime.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC)
        async with backend.create() as uow:
            order = shop.Order.place("ann", at=moment)
            uow.orders.add(order)
            await uow.commit()
        async with backend.create() as uow:
            loaded = await uow.orders.get(order.id)
        assert loaded.placed_at == moment
        assert loaded.placed_at.utcoffset() == datetime.timedelta(0)

    async def test_missing_id_gives_none(self, backend):
        """get() of an id that was never stored returns None."""
        async with backend.create() as uow:
            assert await uow.orders.get(shop.OrderId.new()) is None

    async def test_adding_the_same_id_twice_in_one_unit_is_refused(self, backend):
        """Adding a second entity with a tracked id raises DuplicateEntityError at once."""
        async with backend.create() as uow:
            order = shop.Order.place("ann")
            uow.orders.add(order)
            twin = shop.Order(order.id, "bob", order.placed_at)
            with pytest.raises(DuplicateEntityError, match="already part of"):
                uow.orders.add(twin)

    async def test_adding_an_id_that_is_stored_already_fails_the_commit(self, backend):
        """Adding an entity whose id another unit committed fails with DuplicateEntityError."""
        placed = await place(backend)
        async with backend.create() as uow:
            uow.orders.add(shop.Order(placed.id, "bob", placed.placed_at))
            with pytest.raises(DuplicateEntityError, match="already exists"):
                await uow.commit()
        async with backend.create() as uow:
            assert (await uow.orders.get(placed.id)).customer == "ann"


class TestIdentityMap:
    async def test_get_returns_the_same_object_within_a_unit(self, backend):
        """Two get() calls for one id in one unit of work return the same object."""
        placed = await place(backend)
        async with backend.create() as uow:
            first = await uow.orders.get(placed.id)
            assert await uow.orders.get(placed.id) is first

    async def test_queries_return_the_tracked_object(self, backend):
        """A query method returns the very object get() returned, with its changes."""
        placed = await place(backend)
        async with backend.create() as uow:
            order = await uow.orders.get(placed.id)
            order.note = "changed, not yet committed"
            (found,) = await uow.orders.by_customer("ann")
            assert found is order
            assert found.note == "changed, not yet committed"

    async def test_an_added_aggregate_is_found_by_get_and_queries(self, backend):
        """An aggregate added in this unit is visible to get() and to queries before commit."""
        async with backend.create() as uow:
            order = shop.Order.place("cid")
            uow.orders.add(order)
            assert await uow.orders.get(order.id) is order
            assert list(await uow.orders.by_customer("cid")) == [order]

    async def test_units_of_work_do_not_share_objects(self, backend):
        """Two units of work load separate objects, so changes do not leak between them."""
        placed = await place(backend)
        async with backend.create() as first, backend.create() as second:
            a = await first.orders.get(placed.id)
            b = await second.orders.get(placed.id)
            a.note = "only in the first"
            assert a is not b
            assert b.note is None


class TestChangeTracking:
    async def test_changes_to_root_and_lines_are_committed(self, backend):
        """Changed fields, a changed line, a removed line and a new line are all stored."""
        placed = await place(backend)
        async with backend.create() as uow:
            order = await uow.orders.get(placed.id)
            order.note = "deliver after 5pm"
            order.line("apple").quantity = 5
            order.remove_line("pear")
            order.add_line("plum", 3)
            await uow.commit()
        async with backend.create() as uow:
            loaded = await uow.orders.get(placed.id)
        assert loaded.note == "deliver after 5pm"
        assert [(line.sku, line.quantity) for line in loaded.lines] == [("apple", 5), ("plum", 3)]

    async def test_unchanged_aggregate_does_not_conflict_with_a_writer(self, backend):
        """Committing a unit that only read an aggregate writes nothing, so no conflict."""
        placed = await place(backend)
        async with backend.create() as reader, backend.create() as writer:
            await reader.orders.get(placed.id)
            changed = await writer.orders.get(placed.id)
            changed.note = "written"
            await writer.commit()
            await reader.commit()
        async with backend.create() as uow:
            assert (await uow.orders.get(placed.id)).note == "written"

    async def test_changes_made_after_add_are_committed(self, backend):
        """An aggregate changed between add() and commit() is stored as it is at commit."""
        async with backend.create() as uow:
            order = shop.Order.place("ann")
            uow.orders.add(order)
            order.add_line("fig", 7)
            order.note = "late"
            await uow.commit()
        async with backend.create() as uow:
            loaded = await uow.orders.get(order.id)
        assert loaded.note == "late"
        assert [(line.sku, line.quantity) for line in loaded.lines] == [("fig", 7)]

    async def test_each_block_of_a_reused_unit_starts_fresh(self, backend):
        """Entering the same unit object again starts a new unit that sees committed data."""
        placed = await place(backend)
        uow = backend.create()
        async with uow:
            order = await uow.orders.get(placed.id)
            order.note = "first block"
            await uow.commit()
        async with uow:
            again = await uow.orders.get(placed.id)
            assert again is not order
            assert again.note == "first block"


class TestRemove:
    async def test_removed_aggregate_is_gone_after_commit(self, backend):
        """remove() deletes the aggregate (and its lines) at commit."""
        placed = await place(backend)
        async with backend.create() as uow:
            order = await uow.orders.get(placed.id)
            await uow.orders.remove(order)
            assert await uow.orders.get(placed.id) is None
            await uow.commit()
        async with backend.create() as uow:
            assert await uow.orders.get(placed.id) is None
            assert await uow.orders.by_customer("ann") == []

    async def test_removing_an_added_aggregate_cancels_the_add(self, backend):
        """An aggregate added and removed in the same unit is never stored."""
        async with backend.create() as uow:
            order = shop.Order.place("ann")
            uow.orders.add(order)
            await uow.orders.remove(order)
            await uow.commit()
        async with backend.create() as uow:
            assert await uow.orders.get(order.id) is None

    async def test_removing_an_added_aggregate_after_a_query_cancels_the_add(self, backend):
        """An aggregate added, seen by a query (which sends it ahead) and then removed is
        not stored either."""
        async with backend.create() as uow:
            order = shop.Order.place("ann")
            uow.orders.add(order)
            assert list(await uow.orders.by_customer("ann")) == [order]
            await uow.orders.remove(order)
            assert await uow.orders.by_customer("ann") == []
            await uow.commit()
        async with backend.create() as uow:
            assert await uow.orders.get(order.id) is None

    async def test_removing_an_untracked_entity_is_refused(self, backend):
        """remove() of an entity this unit did not load or add raises EntityNotTrackedError."""
        placed = await place(backend)
        async with backend.create() as uow:
            with pytest.raises(EntityNotTrackedError, match="loaded or added"):
                await uow.orders.remove(placed)


class TestTransactions:
    async def test_leaving_the_block_without_commit_discards_changes(self, backend):
        """Changes are rolled back when the block ends without commit()."""
        placed = await place(backend)
        async with backend.create() as uow:
            (await uow.orders.get(placed.id)).note = "never stored"
            uow.orders.add(shop.Order.place("ghost"))
        async with backend.create() as uow:
            assert (await uow.orders.get(placed.id)).note is None
            assert await uow.orders.by_customer("ghost") == []

    async def test_an_exception_in_the_block_rolls_back_and_propagates(self, backend):
        """An exception raised inside the block rolls the unit back and reaches the caller."""

        async def fail_inside():
            async with backend.create() as uow:
                uow.orders.add(shop.Order.place("ghost"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await fail_inside()
        async with backend.create() as uow:
            assert await uow.orders.by_customer("ghost") == []

    async def test_explicit_rollback_discards_changes(self, backend):
        """rollback() discards the unit's changes."""
        async with backend.create() as uow:
            uow.orders.add(shop.Order.place("ghost"))
            await uow.rollback()
        async with backend.create() as uow:
            assert await uow.orders.by_customer("ghost") == []

    async def test_commit_twice_is_refused(self, backend):
        """A second commit() in the same block raises UnitOfWorkClosedError."""
        async with backend.create() as uow:
            await uow.commit()
            with pytest.raises(UnitOfWorkClosedError, match="already committed"):
                await uow.commit()

    async def test_repository_use_after_commit_is_refused(self, backend):
        """A repository of a committed unit refuses further work."""
        async with backend.create() as uow:
            await uow.commit()
            with pytest.raises(UnitOfWorkClosedError, match="already committed"):
                await uow.orders.get(shop.OrderId.new())

    async def test_commit_after_rollback_is_refused(self, backend):
        """commit() after rollback() in the same block raises UnitOfWorkClosedError."""
        async with backend.create() as uow:
            await uow.rollback()
            with pytest.raises(UnitOfWorkClosedError, match="already rolled back"):
                await uow.commit()

    async def test_use_outside_the_block_is_refused(self, backend):
        """A unit and its repositories refuse work before and after their block."""
        uow = backend.create()
        with pytest.raises(UnitOfWorkClosedError, match="outside its block"):
            await uow.commit()
        with pytest.raises(UnitOfWorkClosedError, match="active unit of work"):
            uow.orders.add(shop.Order.place("ann"))
        async with uow:
            pass
        with pytest.raises(UnitOfWorkClosedError, match="active unit of work"):
            await uow.orders.get(shop.OrderId.new())

    async def test_nested_use_is_refused(self, backend):
        """Entering a unit that is already active raises NestedUnitOfWorkError."""
        uow = backend.create()
        async with uow:
            with pytest.raises(NestedUnitOfWorkError, match="already active"):
                async with uow:
                    pass
            await uow.commit()


class TestConcurrency:
    async def test_lost_update_is_refused(self, backend):
        """Of two units that changed the same aggregate, the second commit fails; the
        first one's change stays."""
        placed = await place(backend)
        async with backend.create() as first, backend.create() as second:
            (await first.orders.get(placed.id)).note = "first"
            (await second.orders.get(placed.id)).note = "second"
            await first.commit()
            with pytest.raises(ConcurrencyError, match="load it again"):
                await second.commit()
        async with backend.create() as uow:
            assert (await uow.orders.get(placed.id)).note == "first"

    async def test_changes_to_different_lines_of_one_aggregate_conflict(self, backend):
        """The aggregate is the unit of consistency: changing two of its lines from two
        units is a conflict too."""
        placed = await place(backend)
        async with backend.create() as first, backend.create() as second:
            (await first.orders.get(placed.id)).line("apple").quantity = 10
            (await second.orders.get(placed.id)).line("pear").quantity = 20
            await first.commit()
            with pytest.raises(ConcurrencyError):
                await second.commit()
        async with backend.create() as uow:
            loaded = await uow.orders.get(placed.id)
        assert [line.quantity for line in loaded.lines] == [10, 1]

    async def test_removing_a_changed_aggregate_is_refused(self, backend):
        """Removing an aggregate that another unit changed meanwhile is a conflict."""
        placed = await place(backend)
        async with backend.create() as first, backend.create() as second:
            (await first.orders.get(placed.id)).note = "kept"
            doomed = await second.orders.get(placed.id)
            await first.commit()
            await second.orders.remove(doomed)
            with pytest.raises(ConcurrencyError):
                await second.commit()
        async with backend.create() as uow:
            assert (await uow.orders.get(placed.id)).note == "kept"

    async def test_a_conflict_writes_nothing_of_the_failed_unit(self, backend):
        """A unit that fails with a conflict writes none of its other changes either."""
        placed = await place(backend)
        async with backend.create() as first, backend.create() as second:
            (await first.orders.get(placed.id)).note = "first"
            (await second.orders.get(placed.id)).note = "second"
            second.orders.add(shop.Order.place("bystander"))
            await first.commit()
            with pytest.raises(ConcurrencyError):
                await second.commit()
        async with backend.create() as uow:
            assert await uow.orders.by_customer("bystander") == []

    async def test_concurrent_tasks_lose_no_update(self, backend):
        """Tasks that each add a line and retry on conflict keep every line."""
        placed = await place(backend, lines=())

        async def add_line(sku):
            while True:
                try:
                    async with backend.create() as uow:
                        order = await uow.orders.get(placed.id)
                        await asyncio.sleep(0)
                        order.add_line(sku, 1)
                        await uow.commit()
                        return
                except ConcurrencyError:
                    continue

        await asyncio.gather(*(add_line(f"sku-{n}") for n in range(5)))
        async with backend.create() as uow:
            loaded = await uow.orders.get(placed.id)
        assert sorted(line.sku for line in loaded.lines) == [f"sku-{n}" for n in range(5)]


class TestAfterCommit:
    async def test_callbacks_run_after_commit_in_order(self, backend):
        """after_commit callbacks run once the data is committed, in the order added."""
        seen = []
        order = shop.Order.place("ann")

        async def check(label):
            async with backend.create() as other:
                seen.append((label, await other.orders.get(order.id) is not None))

        async with backend.create() as uow:
            uow.orders.add(order)
            uow.after_commit(lambda: check("first"))
            uow.after_commit(lambda: check("second"))
            assert seen == []
            await uow.commit()
        assert seen == [("first", True), ("second", True)]

    async def test_callbacks_never_run_on_rollback(self, backend):
        """after_commit callbacks are dropped when the unit rolls back or raises."""
        calls = []

        async def record():
            calls.append(1)

        async with backend.create() as uow:
            uow.after_commit(record)
            await uow.rollback()
        async with backend.create() as uow:
            uow.after_commit(record)

        async def fail_inside():
            async with backend.create() as uow:
                uow.after_commit(record)
                raise ValueError("no")

        with pytest.raises(ValueError, match="no"):
            await fail_inside()
        assert calls == []

    async def test_callbacks_do_not_run_when_the_commit_fails(self, backend):
        """A commit that fails with a conflict runs no after_commit callback."""
        placed = await place(backend)
        calls = []

        async def record():
            calls.append(1)

        async with backend.create() as first, backend.create() as second:
            (await first.orders.get(placed.id)).note = "a"
            (await second.orders.get(placed.id)).note = "b"
            second.after_commit(record)
            await first.commit()
            with pytest.raises(ConcurrencyError):
                await second.commit()
        assert calls == []

    async def test_a_failing_callback_is_reported_after_the_others_ran(self, backend):
        """A callback error surfaces as AfterCommitError; the data is committed and the
        remaining callbacks ran."""
        calls = []

        async def fail():
            raise LookupError("pub/sub is down")

        async def record():
            calls.append(1)

        order = shop.Order.place("ann")
        async with backend.create() as uow:
            uow.orders.add(order)
            uow.after_commit(fail)
            uow.after_commit(record)
            with pytest.raises(AfterCommitError, match="pub/sub is down") as caught:
                await uow.commit()
        assert calls == [1]
        assert isinstance(caught.value.errors[0], LookupError)
        async with backend.create() as uow:
            assert await uow.orders.get(order.id) is not None


class TestDomainEvents:
    async def test_events_are_delivered_after_commit_in_order(self, backend):
        """Events recorded by an aggregate reach the dispatcher after commit, in order."""
        async with backend.create() as uow:
            order = shop.Order.place("ann")
            order.add_line("apple", 2)
            uow.orders.add(order)
            assert backend.delivered.events == []
            await uow.commit()
        assert backend.delivered.events == [
            shop.OrderPlaced(order.id, "ann"),
            shop.LineAdded(order.id, "apple", 2),
        ]

    async def test_events_of_loaded_aggregates_are_delivered(self, backend):
        """Events recorded on a loaded aggregate are delivered when its change commits."""
        placed = await place(backend, lines=())
        backend.delivered.events.clear()
        async with backend.create() as uow:
            order = await uow.orders.get(placed.id)
            order.pay()
            await uow.commit()
        (event,) = backend.delivered.events
        assert isinstance(event, shop.OrderPaid)
        assert event.order_id == placed.id

    async def test_events_are_dropped_on_rollback(self, backend):
        """Events of a unit that rolls back are never delivered."""
        async with backend.create() as uow:
            uow.orders.add(shop.Order.place("ann"))
        assert backend.delivered.events == []

    async def test_dispatcher_sees_committed_data(self, backend):
        """When the dispatcher runs, the change that raised the event is readable."""
        found = []

        async def dispatch(event):
            async with backend.create() as other:
                found.append(await other.orders.get(event.order_id))

        backend.factory._dispatcher = dispatch
        order = await place(backend, lines=())
        assert [state(loaded) for loaded in found] == [state(order)]

    async def test_events_without_a_dispatcher_are_refused(self, backend):
        """A unit without a dispatcher refuses to commit events instead of dropping them,
        and writes nothing."""
        backend.factory._dispatcher = None
        async with backend.create() as uow:
            uow.orders.add(shop.Order.place("ann"))
            with pytest.raises(UnhandledEventsError, match="OrderPlaced"):
                await uow.commit()
            with pytest.raises(UnitOfWorkClosedError, match="rolled back"):
                await uow.commit()
        async with backend.create() as uow:
            assert await uow.orders.by_customer("ann") == []
