"""A subscription's life: when it listens, how it ends, and that nothing is left behind."""

import asyncio
import gc

import pytest

from scaffold.pubsub import (
    GapReason,
    MemoryPubSub,
    MessagesMissedError,
    PubSubClosedError,
    PubSubError,
)


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


class TestStarting:
    async def test_nothing_registers_before_first_use(self):
        """Creating a subscription does not register it; using it does."""
        pub_sub = MemoryPubSub()
        subscription = pub_sub.subscribe("c")
        assert pub_sub.stats().subscribers == 0
        await subscription.start()
        assert pub_sub.stats().subscribers == 1
        await subscription.aclose()

    async def test_bare_async_for_starts_listening(self, eventually):
        """The tutorial's `async for message in subscribe(channel)` works on its own."""
        pub_sub = MemoryPubSub()
        received: list[str] = []

        async def consume() -> None:
            async for message in pub_sub.subscribe("c"):
                received.append(message)
                if len(received) == 2:
                    break

        consumer = asyncio.create_task(consume())
        await eventually(lambda: pub_sub.stats().subscribers == 1, "the consumer subscribed")
        await pub_sub.publish("c", "1")
        await pub_sub.publish("c", "2")
        await consumer
        assert received == ["1", "2"]

    async def test_start_is_idempotent(self):
        """Starting twice registers once."""
        pub_sub = MemoryPubSub()
        async with pub_sub.subscribe("c") as subscription:
            await subscription.start()
            assert pub_sub.stats().subscribers == 1

    async def test_closed_subscription_cannot_restart(self):
        """A closed subscription stays closed; subscribe again instead."""
        pub_sub = MemoryPubSub()
        subscription = pub_sub.subscribe("c")
        await subscription.aclose()
        with pytest.raises(PubSubClosedError, match="subscription to 'c' is closed"):
            await subscription.start()

    async def test_closed_subscription_iterates_to_the_end(self):
        """Iterating a subscription its consumer closed simply stops."""
        pub_sub = MemoryPubSub()
        async with pub_sub.subscribe("c") as subscription:
            await pub_sub.publish("c", "x")
        assert [message async for message in subscription] == []


class TestEnding:
    async def test_leaving_async_with_unregisters_and_discards(self):
        """`async with` ends the subscription and frees its unread messages."""
        pub_sub = MemoryPubSub()
        async with pub_sub.subscribe("c") as subscription:
            await pub_sub.publish("c", "unread")
            assert subscription.pending == 1
        assert subscription.closed
        assert subscription.pending == 0
        assert pub_sub.stats().subscribers == 0
        assert pub_sub.stats().channels == 0

    async def test_cancelled_consumer_unregisters(self, eventually):
        """A consumer task cancelled while waiting (a closed websocket) leaves nothing behind."""
        pub_sub = MemoryPubSub()

        async def consume() -> None:
            async for _ in pub_sub.subscribe("c"):
                pass

        consumer = asyncio.create_task(consume())
        await eventually(lambda: pub_sub.stats().subscribers == 1, "the consumer subscribed")
        consumer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await consumer
        assert pub_sub.stats().subscribers == 0

    async def test_break_unregisters_when_collected(self, eventually):
        """Breaking out of a bare `async for` unregisters once the subscription is collected."""
        pub_sub = MemoryPubSub()

        async def first_message() -> str:
            async for message in pub_sub.subscribe("c"):
                return message
            raise AssertionError

        reader = asyncio.create_task(first_message())
        await eventually(lambda: pub_sub.stats().subscribers == 1, "the consumer subscribed")
        await pub_sub.publish("c", "x")
        assert await reader == "x"
        gc.collect()
        await settle()
        assert pub_sub.stats().subscribers == 0

    async def test_exception_in_consumer_unregisters_with_async_with(self):
        """An error in the loop body ends an `async with` subscription cleanly."""
        pub_sub = MemoryPubSub()

        async def failing_consumer() -> None:
            async with pub_sub.subscribe("c") as subscription:
                await pub_sub.publish("c", "x")
                async for _ in subscription:
                    _ = 1 / 0

        with pytest.raises(ZeroDivisionError):
            await failing_consumer()
        assert pub_sub.stats().subscribers == 0

    async def test_closing_the_pubsub_delivers_buffered_then_stops(self):
        """Shutting down ends each subscription after the messages it already has."""
        pub_sub = MemoryPubSub()
        subscription = pub_sub.subscribe("c")
        await subscription.start()
        await pub_sub.publish("c", "last")
        await pub_sub.aclose()
        assert [message async for message in subscription] == ["last"]
        assert pub_sub.stats().subscribers == 0

    async def test_closing_the_pubsub_wakes_waiting_consumers(self):
        """A consumer waiting for messages ends when the pub/sub closes."""
        pub_sub = MemoryPubSub()
        subscription = pub_sub.subscribe("c")
        await subscription.start()
        consumer = asyncio.create_task(anext(subscription))
        await settle()
        await pub_sub.aclose()
        with pytest.raises(StopAsyncIteration):
            await consumer

    async def test_closed_pubsub_refuses_use(self):
        """Publishing or subscribing after close is an error, not a silent no-op."""
        pub_sub = MemoryPubSub()
        await pub_sub.aclose()
        await pub_sub.aclose()  # closing twice is harmless
        with pytest.raises(PubSubClosedError):
            await pub_sub.publish("c", "x")
        with pytest.raises(PubSubClosedError):
            pub_sub.subscribe("c")


class TestGaps:
    async def test_overflow_raises_then_iteration_continues(self):
        """A slow subscriber gets what fitted, then MessagesMissedError, then new messages."""
        pub_sub = MemoryPubSub(max_buffered=3)
        async with pub_sub.subscribe("c") as subscription:
            for i in range(5):
                await pub_sub.publish("c", str(i))
            received = [await anext(subscription) for _ in range(3)]
            with pytest.raises(MessagesMissedError) as raised:
                await anext(subscription)
            await pub_sub.publish("c", "5")
            assert await anext(subscription) == "5"
        assert received == ["0", "1", "2"]
        error = raised.value
        assert (error.channel, error.reason, error.dropped) == ("c", GapReason.BUFFER_FULL, 2)
        assert subscription.dropped == 2
        assert pub_sub.stats().dropped == 2
        assert "2 message(s) were dropped" in str(error)

    async def test_one_slow_subscriber_does_not_affect_others(self):
        """Overflow is per subscriber: a fast one on the same channel loses nothing."""
        pub_sub = MemoryPubSub(max_buffered=2)
        async with pub_sub.subscribe("c") as slow, pub_sub.subscribe("c") as fast:
            for i in range(4):
                await pub_sub.publish("c", str(i))
                assert await anext(fast) == str(i)
            assert slow.dropped == 2
            assert fast.dropped == 0

    async def test_simulated_gap_reaches_active_subscribers_of_the_channel(self):
        """`simulate_gap` lets unit tests exercise an application's gap handling."""
        pub_sub = MemoryPubSub()
        async with pub_sub.subscribe("a") as a, pub_sub.subscribe("b") as b:
            await pub_sub.publish("a", "before")
            pub_sub.simulate_gap("a")
            assert await anext(a) == "before"
            with pytest.raises(MessagesMissedError) as raised:
                await anext(a)
            assert raised.value.reason is GapReason.CONNECTION_LOST
            assert raised.value.dropped is None
            await pub_sub.publish("b", "untouched")
            assert await anext(b) == "untouched"
            pub_sub.simulate_gap()
            for subscription in (a, b):
                with pytest.raises(MessagesMissedError):
                    await anext(subscription)
        assert pub_sub.stats().connection_gaps == 3

    async def test_tutorial_loop_surfaces_the_gap(self):
        """The tutorial's plain `async for` ends with the gap error instead of hiding it."""
        pub_sub = MemoryPubSub()
        subscription = pub_sub.subscribe("c")
        await subscription.start()
        pub_sub.simulate_gap()
        with pytest.raises(MessagesMissedError):
            async for _ in subscription:
                pass
        await subscription.aclose()


class TestEventLoops:
    def test_one_backend_per_event_loop(self):
        """Using a backend from a second event loop is refused with a clear error."""
        pub_sub = MemoryPubSub()
        asyncio.run(pub_sub.publish("c", "x"))
        with pytest.raises(PubSubError, match="in use by another event loop"):
            asyncio.run(pub_sub.publish("c", "x"))
