"""The in-memory backend's own promises: copies that isolate units, and change detection
that works for any plain Python entity."""

import dataclasses

import persistence_shop as shop
import pytest

from scaffold.persistence import (
    ConcurrencyError,
    GenericInMemoryUnitOfWork,
    InMemoryDatabase,
    InMemoryRepository,
    InMemoryUnitOfWorkFactory,
    UnitOfWorkClosedError,
)
from scaffold.persistence._snapshot import snapshot


@pytest.fixture
def factory():
    async def ignore(event):
        del event

    return InMemoryUnitOfWorkFactory(
        InMemoryDatabase(), shop.InMemoryShopUnitOfWork, dispatcher=ignore
    )


class TestIsolation:
    async def test_changing_an_entity_after_commit_changes_nothing_stored(self, factory):
        """The database keeps a copy: an entity mutated after its commit does not leak."""
        async with factory.create() as uow:
            order = shop.Order.place("ann")
            uow.orders.add(order)
            await uow.commit()
        order.note = "changed later"
        async with factory.create() as uow:
            assert (await uow.orders.get(order.id)).note is None

    async def test_query_helper_is_refused_outside_a_unit(self, factory):
        """_all() needs an active unit of work, like every repository method."""
        uow = factory.create()
        with pytest.raises(UnitOfWorkClosedError):
            uow.orders._all()

    async def test_repositories_of_different_classes_keep_separate_tables(self):
        """Each repository class has its own table in the in-memory database."""

        class Other(InMemoryRepository):
            pass

        class Unit(GenericInMemoryUnitOfWork):
            def __init__(self, session):
                super().__init__(session)
                self.orders = shop.InMemoryOrderRepository(session)
                self.others = Other(session)

        factory = InMemoryUnitOfWorkFactory(InMemoryDatabase(), Unit)
        async with factory.create() as uow:
            order = shop.Order.place("ann")
            order.pull_events()
            uow.orders.add(order)
            await uow.commit()
        async with factory.create() as uow:
            assert await uow.others.get(order.id) is None
            assert await uow.orders.get(order.id) is not None

    async def test_a_version_check_failure_writes_nothing(self, factory):
        """A conflict on one aggregate keeps the unit's other writes out as well."""
        async with factory.create() as uow:
            first = shop.Order.place("a")
            uow.orders.add(first)
            await uow.commit()
        async with factory.create() as one, factory.create() as two:
            (await one.orders.get(first.id)).note = "one"
            (await two.orders.get(first.id)).note = "two"
            two.orders.add(shop.Order.place("b"))
            await one.commit()
            with pytest.raises(ConcurrencyError):
                await two.commit()
        async with factory.create() as uow:
            assert await uow.orders.by_customer("b") == []


@dataclasses.dataclass
class Node:
    name: str
    children: list["Node"] = dataclasses.field(default_factory=list)
    parent: "Node | None" = None


class Slotted:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class TestSnapshots:
    def test_equal_states_give_equal_snapshots(self):
        """Two separately built but equal object graphs have equal snapshots."""
        assert snapshot(Node("a", [Node("b")])) == snapshot(Node("a", [Node("b")]))

    def test_a_nested_change_is_seen(self):
        """A change deep inside the graph changes the snapshot."""
        tree = Node("a", [Node("b")])
        before = snapshot(tree)
        tree.children[0].name = "c"
        assert snapshot(tree) != before

    def test_cycles_are_followed_once(self):
        """A graph with back references (child to parent) is snapshotted without looping."""
        root = Node("root")
        root.children.append(Node("leaf", parent=root))
        assert snapshot(root) == snapshot(root)

    def test_slots_are_part_of_the_state(self):
        """Attributes kept in __slots__ count as state."""
        assert snapshot(Slotted(1)) != snapshot(Slotted(2))
        assert snapshot(Slotted(1)) == snapshot(Slotted(1))

    def test_values_of_different_types_differ(self):
        """1 and True, or 1 and 1.0, are different states."""
        assert snapshot(1) != snapshot(True)  # noqa: FBT003 - the values compared
        assert snapshot(1) != snapshot(1.0)
