"""GenericSqlRepository and GenericSqlUnitOfWork on SQLite and PostgreSQL: what reaches
the database, the raw SQL seam, and the errors for mappings it cannot persist."""

import uuid
from typing import override

import persistence_shop as shop
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scaffold.persistence import (
    Base,
    EntityMixin,
    GenericSqlRepository,
    GenericSqlUnitOfWork,
    MappingError,
    NestedUnitOfWorkError,
    SqlTransaction,
    UnitOfWorkClosedError,
    UnitOfWorkError,
    UnitOfWorkFactory,
)


class Statements:
    """Records the SQL statements an engine sends."""

    def __init__(self, database):
        self.sent = []
        sa.event.listen(database.engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, _conn, _cursor, statement, _parameters, _context, _executemany):
        self.sent.append(" ".join(statement.split()))

    def writes(self):
        return [s for s in self.sent if s.split()[0] in {"INSERT", "UPDATE", "DELETE"}]


async def ignore(event):
    del event


@pytest.fixture
def factory(database):
    return UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, dispatcher=ignore)


async def stored(factory, customer="ann", lines=(("apple", 2), ("pear", 1))):
    async with factory.create() as uow:
        order = shop.Order(shop.OrderId.new(), customer, shop.Order.place("x").placed_at)
        for sku, quantity in lines:
            order.add_line(sku, quantity)
        order.pull_events()
        uow.orders.add(order)
        await uow.commit()
    return order


async def row(database, order):
    async with database.engine.connect() as connection:
        query = sa.select(shop.OrderRow.__table__).where(shop.OrderRow.id == order.id.value)
        return (await connection.execute(query)).one()


class TestWhatReachesTheDatabase:
    async def test_a_read_only_unit_writes_nothing(self, database, factory):
        """Committing a unit that loaded aggregates but changed none sends no write."""
        order = await stored(factory)
        statements = Statements(database)
        async with factory.create() as uow:
            await uow.orders.get(order.id)
            await uow.orders.by_customer("ann")
            await uow.commit()
        assert statements.writes() == []

    async def test_a_changed_line_updates_that_line_and_the_root_version(self, database, factory):
        """Changing one line's quantity updates that column of that row, and the root's
        version and updated_at, nothing else."""
        order = await stored(factory)
        statements = Statements(database)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).line("pear").quantity = 9
            await uow.commit()
        updates = statements.writes()
        assert len(updates) == 2
        line_update = next(s for s in updates if "persistence_order_line" in s)
        root_update = next(s for s in updates if "persistence_order " in s)
        assert line_update.split(" SET ")[1].split(" WHERE ")[0].startswith("quantity=")
        assert "," not in line_update.split(" SET ")[1].split(" WHERE ")[0]
        root_set = root_update.split(" SET ")[1].split(" WHERE ")[0]
        assert sorted(part.split("=")[0] for part in root_set.split(", ")) == [
            "updated_at",
            "version",
        ]
        assert "version =" in root_update.split(" WHERE ")[1]

    async def test_version_moves_once_per_changed_commit(self, database, factory):
        """The root's version starts at 1 and grows by one for each commit that changed
        the aggregate, however many of its rows changed."""
        order = await stored(factory)
        assert (await row(database, order)).version == 1
        async with factory.create() as uow:
            loaded = await uow.orders.get(order.id)
            loaded.note = "x"
            loaded.line("apple").quantity = 3
            loaded.add_line("fig", 1)
            await uow.commit()
        assert (await row(database, order)).version == 2
        async with factory.create() as uow:
            await uow.orders.get(order.id)
            await uow.commit()
        assert (await row(database, order)).version == 2

    async def test_updated_at_moves_only_when_the_aggregate_changed(self, database, factory):
        """created_at stays; updated_at changes on a changing commit and only then."""
        order = await stored(factory)
        first = await row(database, order)
        async with factory.create() as uow:
            await uow.orders.get(order.id)
            await uow.commit()
        assert (await row(database, order)).updated_at == first.updated_at
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).status = "paid"
            await uow.commit()
        changed = await row(database, order)
        assert changed.created_at == first.created_at
        assert changed.updated_at > first.updated_at

    async def test_removing_an_aggregate_deletes_its_lines(self, database, factory):
        """remove() deletes the root row and its child rows."""
        order = await stored(factory)
        async with factory.create() as uow:
            await uow.orders.remove(await uow.orders.get(order.id))
            await uow.commit()
        async with database.engine.connect() as connection:
            count = sa.select(sa.func.count()).select_from(shop.OrderLineRow.__table__)
            assert (await connection.execute(count)).scalar_one() == 0

    async def test_flush_makes_changes_visible_to_queries(self, factory):
        """After flush(), a query filtering on a changed column sees the change."""
        order = await stored(factory)
        async with factory.create() as uow:
            (await uow.orders.get(order.id)).customer = "bea"
            assert await uow.orders.by_customer("bea") == []
            await uow.flush()
            assert [o.id for o in await uow.orders.by_customer("bea")] == [order.id]


class TestRawSqlInTheSameTransaction:
    async def test_unit_of_work_satisfies_the_sql_transaction_protocol(self, factory, database):
        """The unit offers execute_sql and dialect_name, the seam of scaffold-tasks."""
        uow = factory.create()
        transaction: SqlTransaction = uow
        assert transaction.dialect_name == database.dialect_name
        assert database.dialect_name in {"sqlite", "postgresql"}

    async def test_raw_sql_commits_with_the_unit(self, database, factory):
        """A statement run through execute_sql is committed with the aggregates."""
        async with factory.create() as uow:
            uow.orders.add(shop.Order.place("ann"))
            uow.orders.add(order := shop.Order.place("bob"))
            order.pull_events()
            await uow.execute_sql(
                "INSERT INTO persistence_audit (message) VALUES (:message)", {"message": "hello"}
            )
            uow.orders.add(shop.Order(shop.OrderId.new(), "cy", order.placed_at))
            await uow.rollback()
        async with factory.create() as uow:
            await uow.execute_sql(
                "INSERT INTO persistence_audit (message) VALUES (:message)", {"message": "kept"}
            )
            await uow.commit()
        async with database.engine.connect() as connection:
            messages = await connection.execute(sa.text("SELECT message FROM persistence_audit"))
            assert messages.scalars().all() == ["kept"]

    async def test_raw_sql_sees_the_units_pending_inserts(self, factory):
        """execute_sql runs after the unit's added aggregates were sent, so it can refer
        to them."""
        async with factory.create() as uow:
            order = shop.Order(shop.OrderId.new(), "ann", shop.Order.place("x").placed_at)
            uow.orders.add(order)
            await uow.execute_sql(
                "INSERT INTO persistence_audit (message) "
                "SELECT customer FROM persistence_order WHERE customer = :customer",
                {"customer": "ann"},
            )
            await uow.commit()
        async with factory.create() as uow:
            result = await uow.session.execute(sa.text("SELECT message FROM persistence_audit"))
            assert result.scalars().all() == ["ann"]

    async def test_raw_sql_outside_the_block_is_refused(self, factory):
        """execute_sql needs an open unit of work."""
        with pytest.raises(UnitOfWorkClosedError, match="execute_sql"):
            await factory.create().execute_sql("SELECT 1", {})


class TestSessions:
    async def test_a_unit_that_skipped_super_init_says_so(self, database):
        """A subclass whose __init__ forgot super().__init__(session) gets a clear error."""

        class Forgetful(GenericSqlUnitOfWork):
            def __init__(self, session):
                self.orders = shop.SqlOrderRepository(session)

        with pytest.raises(UnitOfWorkError, match=r"super\(\)\.__init__\(session\)"):
            async with Forgetful(database.session()):
                pass

    async def test_a_plain_sessionmaker_works_as_the_factory_source(self, database):
        """UnitOfWorkFactory accepts any callable returning an AsyncSession."""
        factory = UnitOfWorkFactory(
            async_sessionmaker(database.engine), shop.SqlShopUnitOfWork, dispatcher=ignore
        )
        order = await stored(factory)
        async with factory.create() as uow:
            assert (await uow.orders.get(order.id)).customer == "ann"

    async def test_two_units_on_one_session_are_not_active_together(self, database):
        """A second unit of work on a session whose unit is active is refused."""
        session = database.session()
        first, second = shop.SqlShopUnitOfWork(session), GenericSqlUnitOfWork(session)
        async with first:
            with pytest.raises(NestedUnitOfWorkError, match="session of its own"):
                async with second:
                    pass
        async with second:
            await second.commit()


class Pair(Base):
    __tablename__ = "persistence_pair"
    left: Mapped[int] = mapped_column(primary_key=True)
    right: Mapped[int] = mapped_column(primary_key=True)


class Owner(EntityMixin, Base):
    __tablename__ = "persistence_owner"


class Pet(EntityMixin, Base):
    __tablename__ = "persistence_pet"
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("persistence_owner.id"), default=None
    )
    owner: Mapped[Owner | None] = relationship(default=None)


class PetRepository(GenericSqlRepository[shop.Order, shop.OrderId, Pet]):
    """Maps a pet to a new owner object: a relationship to another aggregate."""

    @override
    def _map_entity_to_dto(self, entity):
        return Pet(id=entity.id.value, owner=Owner(id=uuid.uuid4()))

    @override
    def _map_dto_to_entity(self, dto):
        return shop.Order(shop.OrderId(dto.id), "pet", shop.Order.place("x").placed_at)


class TestMappingErrors:
    def test_a_repository_must_name_its_model(self):
        """A repository subclass without the model type argument says what is missing."""

        class Untyped(GenericSqlRepository):  # type: ignore[type-arg]
            def _map_entity_to_dto(self, entity): ...
            def _map_dto_to_entity(self, dto): ...

        with pytest.raises(MappingError, match="which model it stores"):
            Untyped(AsyncSession())

    def test_a_composite_primary_key_is_refused(self):
        """An aggregate root model needs a single-column primary key."""

        class PairRepository(GenericSqlRepository[object, object, Pair]):  # type: ignore[type-var]
            def _map_entity_to_dto(self, entity): ...
            def _map_dto_to_entity(self, dto): ...

        with pytest.raises(MappingError, match="composite primary key"):
            PairRepository(AsyncSession())

    async def test_an_entity_changing_its_id_is_refused(self, factory):
        """An entity whose id changed since it was loaded fails the commit clearly."""
        order = await stored(factory)
        async with factory.create() as uow:
            loaded = await uow.orders.get(order.id)
            loaded._id = shop.OrderId.new()
            with pytest.raises(MappingError, match="id cannot change"):
                await uow.commit()

    async def test_a_relationship_to_another_aggregate_is_refused(self, database):
        """A mapping that sets a many-to-one relationship is told to use the id column."""
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: Base.metadata.create_all(sync, tables=[Owner.__table__, Pet.__table__])
            )
        session = database.session()
        uow = GenericSqlUnitOfWork(session)
        pets = PetRepository(session)
        pet_id = uuid.uuid4()
        async with database.session() as plain:
            plain.add(Pet(id=pet_id))
            await plain.commit()
        async with uow:
            pet = await pets.get(shop.OrderId(pet_id))
            assert pet is not None
            with pytest.raises(MappingError, match="by their id columns"):
                await uow.commit()

    async def test_mapping_an_unloaded_relationship_explains_the_fix(self, factory):
        """A query that did not load the lines makes map_dto_to_entity_and_track say how
        to load them."""
        await stored(factory)
        async with factory.create() as uow:
            rows = (await uow.session.scalars(sa.select(shop.OrderRow))).all()
            with pytest.raises(MappingError, match=r"self\._select"):
                uow.orders.map_dto_to_entity_and_track(rows[0])

    async def test_mapping_a_model_that_was_not_loaded_is_refused(self, factory):
        """map_dto_to_entity_and_track takes loaded rows, not new model objects."""
        async with factory.create() as uow:
            with pytest.raises(MappingError, match="not a loaded row"):
                uow.orders.map_dto_to_entity_and_track(
                    shop.OrderRow(
                        id=uuid.uuid4(), customer="x", placed_at=None, status="open", note=None
                    )
                )
