"""The optional `_update_dto` hook of GenericSqlRepository: a loaded aggregate's values are
written straight onto its tracked model at commit, with the same change tracking, version
check and child-row handling as the default map-and-copy path."""

from typing import override

import persistence_shop as shop
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scaffold.persistence import ConcurrencyError, UnitOfWorkFactory


class CountingRepository(shop.SqlOrderRepository):
    """The shop's repository, counting how often each mapping runs."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.mapped_to_dto: list[shop.OrderId] = []
        self.updated: list[shop.OrderId] = []

    @override
    def _map_entity_to_dto(self, entity: shop.Order) -> shop.OrderRow:
        self.mapped_to_dto.append(entity.id)
        return super()._map_entity_to_dto(entity)


class InPlaceRepository(CountingRepository):
    """Overrides the hook the way an application would: assign every value, keep rows."""

    @override
    def _update_dto(self, entity: shop.Order, dto: shop.OrderRow) -> None:
        self.updated.append(entity.id)
        dto.customer = entity.customer
        dto.placed_at = entity.placed_at
        dto.status = entity.status
        dto.note = entity.note
        rows = {row.id: row for row in dto.lines}
        lines = []
        for position, line in enumerate(entity.lines):
            row = rows.get(line.id)
            if row is None:
                row = shop.OrderLineRow(
                    id=line.id,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
            else:
                row.position = position
                row.sku = line.sku
                row.quantity = line.quantity
                row.unit_price = line.unit_price
            lines.append(row)
        dto.lines = lines


class SuperRepository(CountingRepository):
    """Overrides the hook and delegates to the default (map a fresh model and copy)."""

    @override
    def _update_dto(self, entity: shop.Order, dto: shop.OrderRow) -> None:
        self.updated.append(entity.id)
        super()._update_dto(entity, dto)


def unit_of_work(repository_class):
    class UnitOfWork(shop.SqlShopUnitOfWork):
        @override
        def __init__(self, session: AsyncSession) -> None:
            super().__init__(session)
            self.orders = repository_class(session)

    return UnitOfWork


class Delivered:
    def __init__(self):
        self.events = []

    async def __call__(self, event):
        self.events.append(event)


@pytest.fixture
def delivered():
    return Delivered()


@pytest.fixture
def factory(database, delivered):
    return UnitOfWorkFactory(database, unit_of_work(InPlaceRepository), dispatcher=delivered)


@pytest.fixture
def default_factory(database, delivered):
    return UnitOfWorkFactory(database, unit_of_work(CountingRepository), dispatcher=delivered)


class Statements:
    """Records the write statements an engine sends."""

    def __init__(self, database):
        self.sent = []
        sa.event.listen(database.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, _parameters, _context, _executemany):
        statement = " ".join(statement.split())
        if statement.split()[0] in {"INSERT", "UPDATE", "DELETE"}:
            self.sent.append(statement)


async def stored(factory, lines=(("apple", 2), ("pear", 1))):
    async with factory.create() as uow:
        order = shop.Order.place("ann")
        for sku, quantity in lines:
            order.add_line(sku, quantity)
        uow.orders.add(order)
        await uow.commit()
    return order


def change_every_kind_of_line(order):
    """One line changed, one removed, one added."""
    order.line("apple").quantity = 5
    order.remove_line("pear")
    order.add_line("fig", 3)


async def root_row(database, order):
    async with database.engine.connect() as connection:
        query = sa.select(shop.OrderRow.__table__).where(shop.OrderRow.id == order.id.value)
        return (await connection.execute(query)).one()


async def line_count(database):
    async with database.engine.connect() as connection:
        count = sa.select(sa.func.count()).select_from(shop.OrderLineRow.__table__)
        return (await connection.execute(count)).scalar_one()


def set_columns(statement):
    assignments = statement.split(" SET ")[1].split(" WHERE ")[0]
    return sorted(part.split("=")[0] for part in assignments.split(", "))


class TestTheHookIsUsed:
    async def test_a_loaded_aggregate_goes_through_the_hook_not_the_mapping(self, factory):
        """At commit a loaded aggregate is written by `_update_dto`; `_map_entity_to_dto`
        is not called for it."""
        order = await stored(factory)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).status = "paid"
            await uow.commit()
            assert uow.orders.updated == [order.id]
            assert uow.orders.mapped_to_dto == []

    async def test_a_new_aggregate_is_still_mapped(self, factory):
        """An added aggregate is mapped with `_map_entity_to_dto`, never given to the hook."""
        async with factory.create() as uow:
            order = shop.Order.place("bob")
            uow.orders.add(order)
            await uow.commit()
            assert uow.orders.updated == []
            assert order.id in uow.orders.mapped_to_dto

    async def test_only_changed_columns_are_written(self, database, factory):
        """Changing one line's quantity updates that column of that row and the root's
        version and updated_at, with the version checked, although the hook assigned
        every value."""
        order = await stored(factory)
        statements = Statements(database)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).line("pear").quantity = 9
            await uow.commit()
        assert len(statements.sent) == 2
        line_update = next(s for s in statements.sent if "persistence_order_line" in s)
        root_update = next(s for s in statements.sent if "persistence_order " in s)
        assert set_columns(line_update) == ["quantity"]
        assert set_columns(root_update) == ["updated_at", "version"]
        assert "version =" in root_update.split(" WHERE ")[1]
        assert (await root_row(database, order)).version == 2

    async def test_an_unchanged_aggregate_writes_nothing(self, database, factory):
        """A unit that loaded an aggregate and changed nothing sends no write and leaves
        the version alone."""
        order = await stored(factory)
        statements = Statements(database)
        async with factory.create() as uow:
            await uow.orders.get(order.id)
            await uow.commit()
        assert statements.sent == []
        assert (await root_row(database, order)).version == 1

    async def test_flush_then_commit_bumps_the_version_once(self, database, factory):
        """A flush inside the unit writes the change; the commit after it, with nothing
        new, does not bump the version again."""
        order = await stored(factory)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).note = "rush"
            await uow.flush()
            await uow.commit()
        stored_row = await root_row(database, order)
        assert (stored_row.note, stored_row.version) == ("rush", 2)

    async def test_child_row_changes_are_persisted(self, database, factory, default_factory):
        """Lines changed, added and removed through the hook are updated, inserted and
        deleted, and the aggregate reads back the same through the default path."""
        order = await stored(factory)
        async with factory.create() as uow:
            change_every_kind_of_line(await uow.orders.get(order.id))
            await uow.commit()
        assert await line_count(database) == 2
        assert (await root_row(database, order)).version == 2
        async with default_factory.create() as uow:
            again = await uow.orders.get(order.id)
        assert [(line.sku, line.quantity) for line in again.lines] == [("apple", 5), ("fig", 3)]

    async def test_a_lost_update_is_refused(self, factory):
        """Of two units that changed the same aggregate through the hook, the second
        commit fails with ConcurrencyError and the first one's change stays."""
        order = await stored(factory)
        async with factory.create() as first, factory.create() as second:
            (await first.orders.get(order.id)).line("apple").quantity = 10
            (await second.orders.get(order.id)).line("pear").quantity = 20
            await first.commit()
            with pytest.raises(ConcurrencyError):
                await second.commit()
        async with factory.create() as uow:
            loaded = await uow.orders.get(order.id)
        assert [line.quantity for line in loaded.lines] == [10, 1]

    async def test_events_are_delivered(self, factory, delivered):
        """Events recorded on an aggregate written by the hook are delivered after commit."""
        order = await stored(factory)
        delivered.events.clear()
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).pay()
            await uow.commit()
        assert [type(event) for event in delivered.events] == [shop.OrderPaid]

    async def test_an_override_may_delegate_to_the_default(self, database):
        """An override that calls super()._update_dto gets the default map-and-copy."""
        factory = UnitOfWorkFactory(database, unit_of_work(SuperRepository), dispatcher=Delivered())
        order = await stored(factory)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).line("pear").quantity = 4
            await uow.commit()
            assert uow.orders.updated == [order.id]
            assert uow.orders.mapped_to_dto == [order.id]
        assert (await root_row(database, order)).version == 2


class TestTheDefaultPathIsUnchanged:
    async def test_without_an_override_loaded_aggregates_are_mapped(self, default_factory):
        """Without an override every loaded aggregate is mapped at commit, even unchanged."""
        order = await stored(default_factory)
        other = await stored(default_factory)
        async with default_factory.create() as uow:
            (await uow.orders.get(order.id)).status = "paid"
            await uow.orders.get(other.id)
            await uow.commit()
            assert sorted(uow.orders.mapped_to_dto, key=str) == sorted(
                [order.id, other.id], key=str
            )

    async def test_without_an_override_child_rows_and_version_behave_as_before(
        self, database, default_factory
    ):
        """The default path updates, inserts and deletes lines and bumps the version once."""
        order = await stored(default_factory)
        async with default_factory.create() as uow:
            change_every_kind_of_line(await uow.orders.get(order.id))
            await uow.commit()
        assert await line_count(database) == 2
        assert (await root_row(database, order)).version == 2
