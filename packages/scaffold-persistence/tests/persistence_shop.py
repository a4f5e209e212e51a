"""A small shop, the application the tests persist: orders (aggregate roots) with lines.

It is written the way the 0.9 tutorial writes an application: a domain layer that knows
nothing of the database, a SQL infrastructure (models, repository, unit of work) and an
in-memory one for unit tests. conftest.py registers this module as `persistence_shop`,
and the crash tests import it in a child process.
"""

from __future__ import annotations

import abc
import dataclasses
import datetime
import uuid
from collections.abc import Sequence
from typing import override

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scaffold.persistence import (
    Base,
    DataclassEventCodec,
    EntityMixin,
    EventRecorder,
    GenericInMemoryUnitOfWork,
    GenericSqlRepository,
    GenericSqlUnitOfWork,
    InMemoryRepository,
    InMemorySession,
    TimestampMixin,
    VersionMixin,
    uuid7,
)

# Domain ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OrderId:
    value: uuid.UUID

    @classmethod
    def new(cls) -> OrderId:
        return cls(uuid7())


@dataclasses.dataclass(frozen=True)
class OrderPlaced:
    order_id: OrderId
    customer: str


@dataclasses.dataclass(frozen=True)
class LineAdded:
    order_id: OrderId
    sku: str
    quantity: int


@dataclasses.dataclass(frozen=True)
class OrderPaid:
    order_id: OrderId
    paid_at: datetime.datetime


class OrderLine:
    def __init__(self, line_id: uuid.UUID, sku: str, quantity: int, unit_price: int) -> None:
        self.id = line_id
        self.sku = sku
        self.quantity = quantity
        self.unit_price = unit_price


class Order(EventRecorder):
    """An order: lines can change while it is open; paying closes it."""

    def __init__(
        self,
        id: OrderId,  # noqa: A002 - the tutorial's entities take `id`
        customer: str,
        placed_at: datetime.datetime,
        *,
        status: str = "open",
        lines: Sequence[OrderLine] = (),
        note: str | None = None,
    ) -> None:
        self._id = id
        self.customer = customer
        self.placed_at = placed_at
        self.status = status
        self.lines = list(lines)
        self.note = note

    @property
    def id(self) -> OrderId:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Order) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def place(cls, customer: str, *, at: datetime.datetime | None = None) -> Order:
        order = cls(OrderId.new(), customer, at or datetime.datetime.now(datetime.UTC))
        order.record_event(OrderPlaced(order.id, customer))
        return order

    def add_line(self, sku: str, quantity: int, unit_price: int = 100) -> None:
        self.lines.append(OrderLine(uuid7(), sku, quantity, unit_price))
        self.record_event(LineAdded(self.id, sku, quantity))

    def line(self, sku: str) -> OrderLine:
        return next(line for line in self.lines if line.sku == sku)

    def remove_line(self, sku: str) -> None:
        self.lines.remove(self.line(sku))

    def pay(self) -> None:
        self.status = "paid"
        self.record_event(OrderPaid(self.id, datetime.datetime.now(datetime.UTC)))

    @property
    def total(self) -> int:
        return sum(line.quantity * line.unit_price for line in self.lines)


class OrderRepository(abc.ABC):
    @abc.abstractmethod
    async def get(self, id: OrderId) -> Order | None: ...  # noqa: A002 - the tutorial's name

    @abc.abstractmethod
    def add(self, order: Order) -> None: ...

    @abc.abstractmethod
    async def remove(self, order: Order) -> None: ...

    @abc.abstractmethod
    async def by_customer(self, customer: str) -> Sequence[Order]: ...


EVENT_CODEC = DataclassEventCodec([OrderPlaced, LineAdded, OrderPaid])

# SQL infrastructure ---------------------------------------------------------------------


class OrderLineRow(EntityMixin, Base):
    __tablename__ = "persistence_order_line"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    order_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("persistence_order.id", ondelete="CASCADE"), init=False, index=True
    )
    position: Mapped[int]
    sku: Mapped[str] = mapped_column(sa.String(40))
    quantity: Mapped[int]
    unit_price: Mapped[int]


class OrderRow(EntityMixin, TimestampMixin, VersionMixin, Base):
    __tablename__ = "persistence_order"

    customer: Mapped[str] = mapped_column(sa.String(80), index=True)
    placed_at: Mapped[datetime.datetime]
    status: Mapped[str] = mapped_column(sa.String(20))
    note: Mapped[str | None]
    lines: Mapped[list[OrderLineRow]] = relationship(
        default_factory=list, cascade="all, delete-orphan", order_by=OrderLineRow.position
    )


class SqlOrderRepository(GenericSqlRepository[Order, OrderId, OrderRow], OrderRepository):
    @override
    async def by_customer(self, customer: str) -> Sequence[Order]:
        rows = await self._session.scalars(
            self._select().where(OrderRow.customer == customer).order_by(OrderRow.placed_at)
        )
        return [self.map_dto_to_entity_and_track(row) for row in rows]

    @override
    def _map_entity_to_dto(self, entity: Order) -> OrderRow:
        return OrderRow(
            id=entity.id.value,
            customer=entity.customer,
            placed_at=entity.placed_at,
            status=entity.status,
            note=entity.note,
            lines=[
                OrderLineRow(
                    id=line.id,
                    position=position,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                )
                for position, line in enumerate(entity.lines)
            ],
        )

    @override
    def _map_dto_to_entity(self, dto: OrderRow) -> Order:
        return Order(
            OrderId(dto.id),
            dto.customer,
            dto.placed_at,
            status=dto.status,
            lines=[OrderLine(row.id, row.sku, row.quantity, row.unit_price) for row in dto.lines],
            note=dto.note,
        )


class SqlShopUnitOfWork(GenericSqlUnitOfWork):
    orders: OrderRepository

    @override
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.orders = SqlOrderRepository(session)


# In-memory infrastructure ---------------------------------------------------------------


class InMemoryOrderRepository(InMemoryRepository[Order, OrderId], OrderRepository):
    @override
    async def by_customer(self, customer: str) -> Sequence[Order]:
        found = [order for order in self._all() if order.customer == customer]
        return sorted(found, key=lambda order: order.placed_at)


class InMemoryShopUnitOfWork(GenericInMemoryUnitOfWork):
    orders: OrderRepository

    @override
    def __init__(self, session: InMemorySession) -> None:
        super().__init__(session)
        self.orders = InMemoryOrderRepository(session)


# A plain table that raw SQL writes to (the way scaffold-tasks enqueues through a unit of work).
audit_table = sa.Table(
    "persistence_audit",
    Base.metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message", sa.String(200), nullable=False),
)

SHOP_TABLES = (OrderRow.__table__, OrderLineRow.__table__, audit_table)
