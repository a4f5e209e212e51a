"""The behaviour every backend shares, run against memory, PostgreSQL and Redis."""

import asyncio
from collections.abc import Callable

import pytest

from scaffold.pubsub import (
    MessagesMissedError,
    PayloadTooLargeError,
    PubSub,
    PubSubBackend,
    Subscription,
)

Channel = Callable[[str], str]


class TestDelivery:
    async def test_message_reaches_subscriber(self, pub_sub: PubSubBackend, channel: Channel):
        """A message published after subscribing arrives, as text."""
        name = channel("user:1:messages")
        async with pub_sub.subscribe(name) as subscription:
            await pub_sub.publish(name, "0195a3c4-message-id")
            assert await anext(subscription) == "0195a3c4-message-id"

    async def test_every_subscriber_gets_every_message_in_order(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """Several subscribers of one channel each receive all messages in publish order."""
        name = channel("fan")
        subscriptions = [pub_sub.subscribe(name) for _ in range(5)]
        for subscription in subscriptions:
            await subscription.start()
        for i in range(20):
            await pub_sub.publish(name, str(i))
        for subscription in subscriptions:
            assert [await anext(subscription) for _ in range(20)] == [str(i) for i in range(20)]
            await subscription.aclose()

    async def test_channels_are_separate(self, pub_sub: PubSubBackend, channel: Channel):
        """A subscriber only receives its own channel's messages."""
        first, second = channel("user:1:messages"), channel("user:2:messages")
        async with pub_sub.subscribe(first) as one, pub_sub.subscribe(second) as two:
            await pub_sub.publish(second, "for two")
            await pub_sub.publish(first, "for one")
            assert await anext(one) == "for one"
            assert await anext(two) == "for two"

    async def test_text_survives_the_round_trip(self, pub_sub: PubSubBackend, channel: Channel):
        """Quotes, newlines, backslashes and non-ASCII text arrive unchanged."""
        name = channel("text")
        message = "it's \"quoted\"\n\\ $1 %s 'é' ✓ 日本"
        async with pub_sub.subscribe(name) as subscription:
            await pub_sub.publish(name, message)
            assert await anext(subscription) == message

    async def test_channel_names_with_odd_characters(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """Channel names are taken literally: case, quotes, spaces and punctuation."""
        names = [channel('Case "Quoted" name'), channel('case "quoted" name'), channel("a;b")]
        subscriptions = [pub_sub.subscribe(name) for name in names]
        for subscription in subscriptions:
            await subscription.start()
        for name in names:
            await pub_sub.publish(name, name)
        for name, subscription in zip(names, subscriptions, strict=True):
            assert await anext(subscription) == name
            await subscription.aclose()

    async def test_publisher_and_subscriber_in_different_instances(
        self, make_pubsub: Callable[..., PubSubBackend], backend_url: str, channel: Channel
    ):
        """Server backends deliver between separate instances, as between processes;
        in-memory instances are separate worlds."""
        publisher, subscriber = make_pubsub(), make_pubsub()
        name = channel("across")
        async with subscriber.subscribe(name) as subscription:
            await publisher.publish(name, "hello")
            if backend_url.startswith("memory"):
                await subscriber.publish(name, "own")
                assert await anext(subscription) == "own"
            else:
                assert await anext(subscription) == "hello"

    async def test_subscriber_satisfies_the_protocols(self, pub_sub: PubSubBackend):
        """Each backend is a `PubSub` and hands out `Subscription`s."""
        protocol_user: PubSub = pub_sub
        subscription: Subscription = protocol_user.subscribe("typed")
        assert subscription.channel == "typed"
        assert subscription.dropped == 0
        await subscription.aclose()


class TestConcurrentPublishers:
    async def test_many_concurrent_publishes_all_succeed(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """100 publishes started together from one process all succeed and all arrive."""
        name = channel("busy")
        async with pub_sub.subscribe(name) as subscription:
            results = await asyncio.gather(
                *(pub_sub.publish(name, str(i)) for i in range(100)), return_exceptions=True
            )
            assert [r for r in results if r is not None] == []
            received = [await anext(subscription) for _ in range(100)]
        assert sorted(received, key=int) == [str(i) for i in range(100)]
        assert pub_sub.stats().published == 100

    async def test_each_concurrent_publisher_keeps_its_order(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """Concurrent publisher tasks interleave, but each one's messages stay in order."""
        name = channel("ordered")

        async def publisher(number: int) -> None:
            for seq in range(30):
                await pub_sub.publish(name, f"{number}:{seq}")

        async with pub_sub.subscribe(name) as subscription:
            await asyncio.gather(*(publisher(n) for n in range(10)))
            received = [await anext(subscription) for _ in range(300)]
        for number in range(10):
            mine = [m for m in received if m.startswith(f"{number}:")]
            assert mine == [f"{number}:{seq}" for seq in range(30)]


class TestPayloadLimit:
    async def test_largest_allowed_message_is_delivered(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """A message of exactly 7999 UTF-8 bytes goes through every backend."""
        name = channel("big")
        message = "é" * 3999 + "x"
        assert len(message.encode()) == 7999
        async with pub_sub.subscribe(name) as subscription:
            await pub_sub.publish(name, message)
            assert await anext(subscription) == message

    async def test_one_byte_more_is_refused_before_sending(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """8000 bytes is refused with PayloadTooLargeError, and nothing is sent."""
        name = channel("big")
        async with pub_sub.subscribe(name) as subscription:
            with pytest.raises(PayloadTooLargeError, match="8000 bytes"):
                await pub_sub.publish(name, "x" * 8000)
            await pub_sub.publish(name, "after")
            assert await anext(subscription) == "after"
        assert pub_sub.stats().published == 1


class TestSlowSubscribers:
    async def test_overflow_is_signalled_and_bounded(
        self, pub_sub: PubSubBackend, channel: Channel
    ):
        """A subscriber that does not read keeps at most its bound, and learns of the loss."""
        name = channel("flood")
        async with (
            pub_sub.subscribe(name, max_buffered=10) as slow,
            pub_sub.subscribe(name) as fast,
        ):
            for i in range(25):
                await pub_sub.publish(name, str(i))
            assert [await anext(fast) for _ in range(25)] == [str(i) for i in range(25)]
            assert slow.pending <= 11
            assert [await anext(slow) for _ in range(10)] == [str(i) for i in range(10)]
            with pytest.raises(MessagesMissedError) as raised:
                await anext(slow)
            assert raised.value.dropped == 15
            await pub_sub.publish(name, "again")
            assert await anext(slow) == "again"
        assert pub_sub.stats().dropped == 15


class TestCleanUp:
    async def test_unsubscribing_releases_the_channel(
        self, pub_sub: PubSubBackend, channel: Channel, eventually
    ):
        """When the last subscriber of a channel leaves, the backend stops listening to it."""
        names = [channel(f"c{i}") for i in range(5)]
        subscriptions = [pub_sub.subscribe(name) for name in names for _ in range(2)]
        for subscription in subscriptions:
            await subscription.start()
        stats = pub_sub.stats()
        assert (stats.subscribers, stats.channels, stats.listening) == (10, 5, 5)
        for subscription in subscriptions:
            await subscription.aclose()
        await eventually(lambda: pub_sub.stats().listening == 0, "all channels released")
        stats = pub_sub.stats()
        assert (stats.subscribers, stats.channels) == (0, 0)

    async def test_resubscribing_while_releasing(self, pub_sub: PubSubBackend, channel: Channel):
        """Leaving and re-joining a channel at once never leaves the new subscriber deaf."""
        name = channel("flap")
        for round_ in range(20):
            async with pub_sub.subscribe(name) as subscription:
                await pub_sub.publish(name, str(round_))
                assert await anext(subscription) == str(round_)

    async def test_closing_leaves_no_task_behind(self, pub_sub: PubSubBackend, channel: Channel):
        """After `aclose`, no background task of the backend is left running."""
        before = asyncio.all_tasks()
        name = channel("tasks")
        async with pub_sub.subscribe(name) as subscription:
            await pub_sub.publish(name, "x")
            assert await anext(subscription) == "x"
        await pub_sub.aclose()
        await asyncio.sleep(0)
        assert asyncio.all_tasks() - before == set()
