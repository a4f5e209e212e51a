"""The declarative base and mixins: the same column behaviour on SQLite and PostgreSQL."""

import datetime
import uuid

import persistence_shop as shop
import pytest
import sqlalchemy as sa

from scaffold.persistence import Base, UtcDateTime, utc_now
from scaffold.persistence.model import NAMING_CONVENTION

CET = datetime.timezone(datetime.timedelta(hours=1))


def new_row(**changes):
    values = {
        "id": uuid.uuid4(),
        "customer": "ann",
        "placed_at": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
        "status": "open",
        "note": None,
    }
    return shop.OrderRow(**(values | changes))


class TestUtcDateTime:
    async def test_aware_datetimes_come_back_as_the_same_instant_in_utc(self, database):
        """A datetime in any zone is stored as UTC and read back aware, in UTC."""
        moment = datetime.datetime(2024, 3, 31, 2, 30, 0, 250000, tzinfo=CET)
        row = new_row(placed_at=moment)
        async with database.session() as session:
            session.add(row)
            await session.commit()
        async with database.session() as session:
            loaded = await session.get(shop.OrderRow, row.id)
        assert loaded.placed_at == moment
        assert loaded.placed_at.tzinfo is datetime.UTC

    async def test_naive_datetimes_are_refused(self, database):
        """A naive datetime is refused with an error that says what to pass instead."""
        async with database.session() as session:
            session.add(new_row(placed_at=datetime.datetime(2024, 1, 1, 12)))  # noqa: DTZ001 - the point
            with pytest.raises(
                sa.exc.StatementError, match=r"naive datetime .* datetime\.now\(UTC\)"
            ):
                await session.commit()

    async def test_order_by_follows_the_instant(self, database):
        """Rows sort by the instant, whatever zone the values were given in."""
        early = new_row(customer="early", placed_at=datetime.datetime(2024, 1, 1, 12, tzinfo=CET))
        late = new_row(
            customer="late", placed_at=datetime.datetime(2024, 1, 1, 11, 30, tzinfo=datetime.UTC)
        )
        async with database.session() as session:
            session.add_all([late, early])
            await session.commit()
            names = await session.scalars(
                sa.select(shop.OrderRow.customer).order_by(shop.OrderRow.placed_at)
            )
            assert names.all() == ["early", "late"]

    def test_a_non_datetime_is_refused(self):
        """Binding something that is not a datetime raises TypeError naming it."""
        with pytest.raises(TypeError, match="got str"):
            UtcDateTime().process_bind_param("2024-01-01", sa.create_engine("sqlite://").dialect)

    def test_utc_now_is_aware(self):
        """utc_now() gives the current time with the UTC zone attached."""
        assert utc_now().tzinfo is datetime.UTC


class TestBase:
    def test_datetime_and_uuid_annotations_get_portable_types(self):
        """A `Mapped[datetime]` column is a UtcDateTime, a `Mapped[uuid.UUID]` a Uuid."""
        table = shop.OrderRow.__table__
        assert isinstance(table.c.placed_at.type, UtcDateTime)
        assert isinstance(table.c.id.type, sa.Uuid)

    def test_constraints_get_conventional_names(self):
        """Constraints are named after the naming convention, as Alembic needs."""
        assert Base.metadata.naming_convention == NAMING_CONVENTION
        table = shop.OrderLineRow.__table__
        names = {constraint.name for constraint in table.constraints}
        assert "pk_persistence_order_line" in names
        assert "ck_persistence_order_line_quantity_positive" in names
        assert "fk_persistence_order_line_order_id_persistence_order" in names

    def test_models_take_keyword_arguments_like_dataclasses(self):
        """Models are built with keyword arguments, as the tutorial's mapping does."""
        row = new_row(customer="kw")
        assert row.customer == "kw"
        assert "kw" in repr(row)


class TestMixins:
    def test_entity_mixin_puts_a_uuid_primary_key_first(self):
        """EntityMixin's `id` is the first column and the primary key."""
        table = shop.OrderRow.__table__
        assert next(iter(table.columns)).name == "id"
        assert [column.name for column in table.primary_key] == ["id"]

    def test_version_mixin_makes_the_version_the_mappers_version(self):
        """VersionMixin registers `version` as the version column, bumped by the repository."""
        mapper = sa.inspect(shop.OrderRow)
        assert mapper.version_id_col is shop.OrderRow.__table__.c.version
        assert mapper.version_id_generator is False

    async def test_timestamps_are_filled_in_on_insert(self, database):
        """created_at and updated_at are set when a row is inserted through the ORM."""
        before = utc_now()
        row = new_row()
        async with database.session() as session:
            session.add(row)
            await session.commit()
        assert before <= row.created_at <= utc_now()
        assert row.updated_at == row.created_at or row.updated_at >= row.created_at

    async def test_server_defaults_fill_rows_written_with_raw_sql(self, database):
        """Rows inserted with plain SQL get timestamps and version 1 from the database."""
        async with database.engine.begin() as connection:
            await connection.execute(
                sa.insert(shop.OrderRow.__table__).values(
                    id=uuid.uuid4(),
                    customer="raw",
                    placed_at=utc_now(),
                    status="open",
                )
            )
        async with database.session() as session:
            row = (await session.scalars(sa.select(shop.OrderRow))).one()
        assert row.version == 1
        assert row.created_at.tzinfo is datetime.UTC
        assert abs(row.created_at - utc_now()) < datetime.timedelta(minutes=5)
