"""Reliability under failure: conflicts between concurrent units of work, crashes in the
middle of a commit, and a crash between a commit and the delivery of its events.

The crashes are real: a child process commits through the shop's unit of work and calls
`os._exit()` at the chosen point, so no cleanup code runs; the parent then looks at what
the database holds, and delivers what the outbox kept.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import persistence_shop as shop
import pytest
import sqlalchemy as sa

from scaffold.persistence import (
    ConcurrencyError,
    Database,
    Outbox,
    OutboxRelay,
    UnitOfWorkFactory,
    outbox_table,
)

pytestmark = pytest.mark.slow

TESTS = Path(__file__).parent
CRASH_EXIT = 17

CHILD = """
import asyncio, os, sys
sys.path.insert(0, {tests!r})
import sqlalchemy as sa
import persistence_shop as shop
from scaffold.persistence import Database, Outbox, UnitOfWorkFactory

URL, MODE, ARG, LOG = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]


def crash():
    os._exit({crash_exit})


async def log_delivery(event):
    # What the dispatcher finished handling, made durable before it returns.
    with open(LOG, "a") as log:
        log.write(repr(event) + "\\n")
        log.flush()
        os.fsync(log.fileno())


async def main():
    db = Database(URL)
    delivered = 0

    async def dispatch(event):
        nonlocal delivered
        if MODE == "crash-in-delivery" and delivered == ARG:
            crash()
        await log_delivery(event)
        delivered += 1

    factory = UnitOfWorkFactory(
        db, shop.SqlShopUnitOfWork, dispatcher=dispatch, outbox=Outbox(shop.EVENT_CODEC)
    )
    async with factory.create() as uow:
        for n in range(5):
            order = shop.Order.place(f"crash-{{n}}")
            order.add_line("apple", 1)
            order.add_line("pear", 2)
            uow.orders.add(order)
        executed = 0
        committed = False

        def count(*_):
            nonlocal executed
            if not committed:
                executed += 1
                if MODE == "crash-at" and executed == ARG:
                    crash()

        def after_commit(_):
            nonlocal committed
            committed = True
            if MODE == "crash-after-commit":
                crash()

        sa.event.listen(db.engine.sync_engine, "after_cursor_execute", count)
        sa.event.listen(uow.session.sync_session, "after_commit", after_commit)
        await uow.commit()
    print(executed)
    await db.dispose()


asyncio.run(main())
"""


def run_child(tmp_path: Path, url: str, mode: str, arg: int = 0) -> subprocess.CompletedProcess:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(TESTS), crash_exit=CRASH_EXIT))
    log = tmp_path / "delivered.log"
    return subprocess.run(
        [sys.executable, str(script), url, mode, str(arg), str(log)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def row_counts(database: Database) -> dict[str, int]:
    tables = {
        "orders": shop.OrderRow.__table__,
        "lines": shop.OrderLineRow.__table__,
        "outbox": outbox_table,
    }
    async with database.engine.connect() as connection:
        counts = {}
        for name, table in tables.items():
            query = sa.select(sa.func.count()).select_from(table)
            counts[name] = (await connection.execute(query)).scalar_one()
        return counts


class TestCrashInTheMiddleOfACommit:
    async def test_a_crash_after_any_statement_of_a_commit_leaves_nothing(
        self, database, sql_url, tmp_path
    ):
        """Killing the process after each statement of a commit in turn (inserts of the
        outbox, the orders, their lines) never leaves a row of that commit behind."""
        probe = tmp_path / "probe"
        probe.mkdir()
        finished = run_child(probe, sql_url, "complete")
        assert finished.returncode == 0, finished.stderr
        statements = int(finished.stdout.split()[-1])
        assert statements >= 3  # at least the outbox, the orders and the lines
        assert await row_counts(database) == {"orders": 5, "lines": 10, "outbox": 0}
        async with database.engine.begin() as connection:
            for table in (outbox_table, shop.OrderLineRow.__table__, shop.OrderRow.__table__):
                await connection.execute(sa.delete(table))

        for crash_at in range(1, statements + 1):
            attempt = tmp_path / f"crash-{crash_at}"
            attempt.mkdir()
            crashed = run_child(attempt, sql_url, "crash-at", crash_at)
            assert crashed.returncode == CRASH_EXIT, crashed.stderr
            assert await row_counts(database) == {"orders": 0, "lines": 0, "outbox": 0}

    async def test_an_exception_in_the_middle_of_a_commit_writes_nothing(self, database):
        """A constraint violation on the third aggregate of a commit rolls back the first
        two, their lines and their outbox rows."""
        factory = UnitOfWorkFactory(
            database, shop.SqlShopUnitOfWork, dispatcher=_ignore, outbox=Outbox(shop.EVENT_CODEC)
        )
        async with factory.create() as uow:
            for n in range(5):
                order = shop.Order.place(f"c-{n}")
                order.add_line("apple", 0 if n == 2 else 1)  # the CHECK refuses quantity 0
                uow.orders.add(order)
            with pytest.raises(sa.exc.IntegrityError):
                await uow.commit()
        assert await row_counts(database) == {"orders": 0, "lines": 0, "outbox": 0}

    async def test_a_failing_mapping_during_commit_writes_nothing(self, database):
        """An exception raised by the application's mapping half-way through the aggregates
        of a commit leaves the database untouched."""

        class Fragile(shop.SqlOrderRepository):
            def _map_entity_to_dto(self, entity):
                if entity.note == "explode":
                    raise RuntimeError("mapping failed")
                return super()._map_entity_to_dto(entity)

        class FragileUnit(shop.SqlShopUnitOfWork):
            def __init__(self, session):
                super().__init__(session)
                self.orders = Fragile(session)

        factory = UnitOfWorkFactory(database, FragileUnit, dispatcher=_ignore)
        async with factory.create() as uow:
            for n in range(3):
                uow.orders.add(shop.Order.place(f"m-{n}"))
            (await uow.orders.by_customer("m-1"))[0].note = "explode"
            with pytest.raises(RuntimeError, match="mapping failed"):
                await uow.commit()
        assert await row_counts(database) == {"orders": 0, "lines": 0, "outbox": 0}


class TestOutboxAcrossACrash:
    @pytest.mark.parametrize("crash_point", ["crash-after-commit", "crash-in-delivery"])
    async def test_each_event_is_delivered_exactly_once(
        self, database, sql_url, tmp_path, crash_point
    ):
        """The process dies right after the commit (or after delivering the first event);
        a relay started afterwards delivers every remaining event once, and a second
        relay finds nothing left."""
        crashed = run_child(tmp_path, sql_url, crash_point, 1)
        assert crashed.returncode == CRASH_EXIT, crashed.stderr
        counts = await row_counts(database)
        assert counts["orders"] == 5  # the commit itself went through
        log = tmp_path / "delivered.log"
        before = log.read_text().splitlines() if log.exists() else []
        assert len(before) == (0 if crash_point == "crash-after-commit" else 1)
        assert counts["outbox"] == 15 - len(before)

        async def dispatch(event):
            with log.open("a") as file:
                file.write(repr(event) + "\n")

        # On SQLite the dead process's claim on the event it was delivering holds until
        # the claim times out; a short timeout here stands for the time passing.
        await asyncio.sleep(0.3)
        relay = OutboxRelay(database, dispatch, Outbox(shop.EVENT_CODEC, claim_timeout=0.2))
        assert await relay.deliver_pending() == 15 - len(before)
        assert await relay.deliver_pending() == 0

        delivered = log.read_text().splitlines()
        assert len(delivered) == 15
        assert len(set(delivered)) == 15  # every event once: 5 orders x (placed, 2 lines)
        assert (await row_counts(database))["outbox"] == 0


class TestConcurrentUnitsOfWork:
    async def test_two_tasks_committing_the_same_aggregate_at_once(self, database):
        """Two tasks load the same aggregate, change it and commit at the same moment:
        exactly one commit succeeds, the other raises ConcurrencyError."""
        factory = UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, dispatcher=_ignore)
        order = shop.Order.place("race")
        async with factory.create() as uow:
            uow.orders.add(order)
            await uow.commit()
        both_loaded = asyncio.Barrier(2)

        async def change(note):
            async with factory.create() as uow:
                loaded = await uow.orders.get(order.id)
                await both_loaded.wait()
                loaded.note = note
                await uow.commit()
                return note

        results = await asyncio.gather(change("a"), change("b"), return_exceptions=True)
        winners = [result for result in results if isinstance(result, str)]
        losers = [result for result in results if isinstance(result, ConcurrencyError)]
        assert len(winners) == 1
        assert len(losers) == 1
        async with factory.create() as uow:
            assert (await uow.orders.get(order.id)).note == winners[0]

    async def test_a_commit_waiting_for_a_lock_fails_once_the_holder_commits(self, database):
        """While one unit holds the aggregate's row (flushed, not committed), the other's
        commit waits, then fails with ConcurrencyError when the first commits."""
        factory = UnitOfWorkFactory(database, shop.SqlShopUnitOfWork, dispatcher=_ignore)
        order = shop.Order.place("lock")
        async with factory.create() as uow:
            uow.orders.add(order)
            await uow.commit()
        async with factory.create() as holder, factory.create() as waiter:
            (await holder.orders.get(order.id)).note = "holder"
            (await waiter.orders.get(order.id)).note = "waiter"
            await holder.flush()
            waiting = asyncio.create_task(waiter.commit())
            await asyncio.sleep(0.2)
            await holder.commit()
            with pytest.raises(ConcurrencyError):
                await waiting
        async with factory.create() as uow:
            assert (await uow.orders.get(order.id)).note == "holder"


async def _ignore(event: object) -> None:
    del event
