"""Load, change and commit N aggregates (each with child rows), three ways, side by side.

- scaffold: a GenericSqlRepository query and a GenericSqlUnitOfWork commit (domain
  objects mapped from the models, and written back onto them at commit through the
  optional `_update_dto` hook, change tracking, version check);
- plain ORM: an AsyncSession on the same models, changing the ORM objects directly and
  bumping the version by hand (the same UPDATEs with the same version check);
- advanced-alchemy: its SQLAlchemyAsyncRepository's list() and update() on the same
  models and session.

Every round each contender changes the status of every order and the quantity of its
first line, then commits; the contenders take turns within a round. The same work is
also measured for inserting N new aggregates. Printed: the median time per contender
and its ratio to the plain ORM, per database.

    uv run python benchmarks/persistence/run.py [--aggregates 500] [--lines 5] [--rounds 7]

PostgreSQL: a scratch database is created on BENCH_DATABASE_URL (default the local
server) and dropped afterwards; `--backends sqlite` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
import sqlalchemy as sa
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from psycopg import sql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from scaffold.persistence import (
    Base,
    Database,
    EntityMixin,
    GenericSqlRepository,
    GenericSqlUnitOfWork,
    TimestampMixin,
    UnitOfWorkFactory,
    VersionMixin,
    uuid7,
)

# The domain --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrderId:
    value: uuid.UUID


class Line:
    def __init__(self, line_id: uuid.UUID, sku: str, quantity: int, price: int) -> None:
        self.id = line_id
        self.sku = sku
        self.quantity = quantity
        self.price = price


class Order:
    def __init__(self, order_id: OrderId, customer: str, status: str, lines: list[Line]) -> None:
        self._id = order_id
        self.customer = customer
        self.status = status
        self.lines = lines

    @property
    def id(self) -> OrderId:
        return self._id


# The models, shared by all three contenders ---------------------------------------------


class LineRow(EntityMixin, Base):
    __tablename__ = "bench_line"
    order_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("bench_order.id"), init=False)
    position: Mapped[int]
    sku: Mapped[str] = mapped_column(sa.String(20))
    quantity: Mapped[int]
    price: Mapped[int]


class OrderRow(EntityMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "bench_order"
    customer: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(20))
    lines: Mapped[list[LineRow]] = relationship(
        default_factory=list, cascade="all, delete-orphan", order_by=LineRow.position
    )


TABLES = [OrderRow.__table__, LineRow.__table__]

# scaffold --------------------------------------------------------------------------------


class OrderRepository(GenericSqlRepository[Order, OrderId, OrderRow]):
    async def by_customer(self, customer: str) -> list[Order]:
        rows = await self._session.scalars(
            self._select().where(OrderRow.customer == customer).order_by(OrderRow.id)
        )
        return [self.map_dto_to_entity_and_track(row) for row in rows]

    def _map_entity_to_dto(self, entity: Order) -> OrderRow:
        return OrderRow(
            id=entity.id.value,
            customer=entity.customer,
            status=entity.status,
            lines=[
                LineRow(
                    id=line.id, position=n, sku=line.sku, quantity=line.quantity, price=line.price
                )
                for n, line in enumerate(entity.lines)
            ],
        )

    def _map_dto_to_entity(self, dto: OrderRow) -> Order:
        lines = [Line(row.id, row.sku, row.quantity, row.price) for row in dto.lines]
        return Order(OrderId(dto.id), dto.customer, dto.status, lines)

    def _update_dto(self, entity: Order, dto: OrderRow) -> None:
        # The optional hook: write a loaded order straight onto its tracked model instead
        # of mapping a fresh one at commit. Setting only what differs keeps SQLAlchemy from
        # looking at untouched rows when it flushes.
        if dto.customer != entity.customer:
            dto.customer = entity.customer
        if dto.status != entity.status:
            dto.status = entity.status
        rows = {row.id: row for row in dto.lines}
        lines = []
        for n, line in enumerate(entity.lines):
            row = rows.get(line.id)
            if row is None:
                row = LineRow(
                    id=line.id, position=n, sku=line.sku, quantity=line.quantity, price=line.price
                )
            else:
                values = {"position": n, "sku": line.sku, "quantity": line.quantity}
                values["price"] = line.price
                for key, value in values.items():
                    if getattr(row, key) != value:
                        setattr(row, key, value)
            lines.append(row)
        if len(lines) != len(dto.lines) or any(
            a is not b for a, b in zip(lines, dto.lines, strict=True)
        ):
            dto.lines = lines


class BenchUnitOfWork(GenericSqlUnitOfWork):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.orders = OrderRepository(session)


# advanced-alchemy ------------------------------------------------------------------------


class AdvancedAlchemyOrders(SQLAlchemyAsyncRepository[OrderRow]):
    model_type = OrderRow


# The work --------------------------------------------------------------------------------


@dataclasses.dataclass
class Setup:
    database: Database
    factory: UnitOfWorkFactory[BenchUnitOfWork]
    lines: int


def new_order(customer: str, lines: int) -> Order:
    return Order(
        OrderId(uuid7()),
        customer,
        "new",
        [Line(uuid7(), f"sku-{n}", 1, 100 + n) for n in range(lines)],
    )


def new_row(customer: str, lines: int) -> OrderRow:
    rows = [
        LineRow(id=uuid7(), position=n, sku=f"sku-{n}", quantity=1, price=100 + n)
        for n in range(lines)
    ]
    return OrderRow(id=uuid7(), customer=customer, status="new", lines=rows)


async def scaffold_update(setup: Setup, customer: str, round_: int) -> None:
    async with setup.factory.create() as uow:
        for order in await uow.orders.by_customer(customer):
            order.status = f"round-{round_}"
            order.lines[0].quantity += 1
        await uow.commit()


async def orm_update(setup: Setup, customer: str, round_: int) -> None:
    async with setup.database.session() as session:
        query = (
            sa.select(OrderRow)
            .options(selectinload(OrderRow.lines))
            .where(OrderRow.customer == customer)
            .order_by(OrderRow.id)
        )
        for row in await session.scalars(query):
            row.status = f"round-{round_}"
            row.lines[0].quantity += 1
            row.version += 1
        await session.commit()


async def advanced_alchemy_update(setup: Setup, customer: str, round_: int) -> None:
    async with setup.database.session() as session:
        repository = AdvancedAlchemyOrders(session=session)
        rows = await repository.list(
            OrderRow.customer == customer, load=[selectinload(OrderRow.lines)]
        )
        for row in rows:
            row.status = f"round-{round_}"
            row.lines[0].quantity += 1
            row.version += 1
            await repository.update(row)
        await session.commit()


async def scaffold_insert(setup: Setup, customer: str, count: int) -> None:
    async with setup.factory.create() as uow:
        for _ in range(count):
            uow.orders.add(new_order(customer, setup.lines))
        await uow.commit()


async def orm_insert(setup: Setup, customer: str, count: int) -> None:
    async with setup.database.session() as session:
        session.add_all([new_row(customer, setup.lines) for _ in range(count)])
        await session.commit()


async def advanced_alchemy_insert(setup: Setup, customer: str, count: int) -> None:
    async with setup.database.session() as session:
        repository = AdvancedAlchemyOrders(session=session)
        await repository.add_many([new_row(customer, setup.lines) for _ in range(count)])
        await session.commit()


type Work = Callable[[Setup, str, int], Awaitable[None]]

CONTENDERS: dict[str, dict[str, Work]] = {
    "update": {
        "plain ORM": orm_update,
        "scaffold": scaffold_update,
        "advanced-alchemy": advanced_alchemy_update,
    },
    "insert": {
        "plain ORM": orm_insert,
        "scaffold": scaffold_insert,
        "advanced-alchemy": advanced_alchemy_insert,
    },
}


async def measure(
    url: str, aggregates: int, lines: int, rounds: int
) -> dict[str, dict[str, tuple[float, float]]]:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.drop_all(sync, tables=TABLES))
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables=TABLES))
    setup = Setup(database, UnitOfWorkFactory(database, BenchUnitOfWork), lines)
    names = list(CONTENDERS["update"])
    # Each contender updates orders of its own, so every one does the same work.
    for name in names:
        await orm_insert(setup, name, aggregates)
    wall: dict[str, dict[str, list[float]]] = {w: {n: [] for n in names} for w in CONTENDERS}
    cpu: dict[str, dict[str, list[float]]] = {w: {n: [] for n in names} for w in CONTENDERS}
    for round_ in range(rounds + 1):  # round 0 warms caches up and is not counted
        turn = names[round_ % len(names) :] + names[: round_ % len(names)]
        for work in CONTENDERS:
            for name in turn:
                if work == "update":
                    customer, argument = name, round_
                else:
                    customer, argument = f"{name}-new-{round_}", aggregates
                started, started_cpu = time.perf_counter(), time.process_time()
                await CONTENDERS[work][name](setup, customer, argument)
                if round_:
                    wall[work][name].append(time.perf_counter() - started)
                    cpu[work][name].append(time.process_time() - started_cpu)
    await database.dispose()
    return {
        work: {
            name: (statistics.median(wall[work][name]), statistics.median(cpu[work][name]))
            for name in names
        }
        for work in CONTENDERS
    }


def report(
    backend: str, medians: dict[str, dict[str, tuple[float, float]]], aggregates: int, lines: int
) -> None:
    print(f"\n{backend}: {aggregates} aggregates x {lines} lines, median of the rounds")
    print(f"  {'':<24}{'wall':>10}{'ratio':>8}{'CPU (this process)':>22}{'ratio':>8}")
    for work, per_name in medians.items():
        base_wall, base_cpu = per_name["plain ORM"]
        print(f"  {work}")
        for name, (wall, cpu) in per_name.items():
            print(
                f"    {name:<20}{wall * 1000:8.1f}ms{wall / base_wall:7.2f}x"
                f"{cpu * 1000:20.1f}ms{cpu / base_cpu:7.2f}x"
            )


def scratch_postgres(server_url: str) -> tuple[str, Callable[[], None]]:
    name = f"scaffold_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    url = sa.make_url(server_url).set(database=name)
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aggregates", type=int, default=500)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--backends", default="sqlite,postgresql")
    arguments = parser.parse_args()
    backends = arguments.backends.split(",")
    shape = (arguments.aggregates, arguments.lines)
    if "sqlite" in backends:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            report("SQLite", asyncio.run(measure(url, *shape, arguments.rounds)), *shape)
    if "postgresql" in backends:
        server = os.environ.get(
            "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        )
        url, drop = scratch_postgres(server)
        try:
            report("PostgreSQL", asyncio.run(measure(url, *shape, arguments.rounds)), *shape)
        finally:
            drop()


if __name__ == "__main__":
    main()
