"""The Redis backend against the real server: killed and silent connections."""

import asyncio
import secrets

import pytest
import redis.asyncio

from scaffold.pubsub import (
    GapReason,
    MessagesMissedError,
    PubSubConnectionError,
    RedisPubSub,
)


async def client_ids(redis_url: str, name: str) -> list[str]:
    """Ids of the Redis clients with this client name."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        return [str(entry["id"]) for entry in await client.client_list() if entry["name"] == name]
    finally:
        await client.aclose()


async def kill(redis_url: str, name: str) -> int:
    """CLIENT KILL our connection(s) by id; return how many were killed."""
    ids = await client_ids(redis_url, name)
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        for client_id in ids:
            await client.client_kill_filter(_id=client_id)
    finally:
        await client.aclose()
    return len(ids)


async def next_within(subscription, seconds: float = 10) -> str:
    """The next message; a hang fails the test instead of blocking the run."""
    async with asyncio.timeout(seconds):
        return await anext(subscription)


async def next_after_gaps(subscription) -> str:
    """The next message, past any further gaps: on a loaded machine a health check with a
    short timeout may replace the new connection too, which is signalled, not an error."""
    async with asyncio.timeout(10):
        while True:
            try:
                return await anext(subscription)
            except MessagesMissedError:
                continue


@pytest.fixture
async def rd(redis_url: str, redis_prefix: str, fast):
    """A Redis pub/sub with a client name of its own, fast reconnects."""
    name = f"pubsub-test-{secrets.token_hex(4)}"
    pub_sub = RedisPubSub(redis_url, client_name=name, **fast)
    pub_sub.name = name  # type: ignore[attr-defined]
    pub_sub.prefix = redis_prefix  # type: ignore[attr-defined]
    yield pub_sub
    await pub_sub.aclose()


class TestListenerLoss:
    async def test_killed_listener_gives_gap_then_messages(self, rd, redis_url):
        """CLIENT KILL of the subscribing connection: every subscriber gets the gap, then
        new messages again."""
        a_name, b_name = f"{rd.prefix}a", f"{rd.prefix}b"
        async with (
            rd.subscribe(a_name) as a1,
            rd.subscribe(a_name) as a2,
            rd.subscribe(b_name) as b,
        ):
            await rd.publish(a_name, "before")
            assert [await next_within(a1), await next_within(a2)] == ["before", "before"]
            assert await kill(redis_url, f"{rd.name}:listen") == 1
            for subscription in (a1, a2, b):
                with pytest.raises(MessagesMissedError) as raised:
                    await next_within(subscription)
                assert raised.value.reason is GapReason.CONNECTION_LOST
            await rd.publish(a_name, "after")
            await rd.publish(b_name, "after")
            for subscription in (a1, a2, b):
                assert await next_within(subscription) == "after"
        stats = rd.stats()
        assert (stats.reconnects, stats.connection_gaps, stats.connected) == (1, 3, True)

    async def test_one_subscribing_connection_for_all_channels(self, rd, redis_url):
        """Many channels and subscribers share one subscribing connection."""
        subscriptions = [rd.subscribe(f"{rd.prefix}user:{i}") for i in range(30)]
        for subscription in subscriptions:
            await subscription.start()
        assert len(await client_ids(redis_url, f"{rd.name}:listen")) == 1
        assert rd.stats().listening == 30
        for subscription in subscriptions:
            await subscription.aclose()


class TestServerSide:
    async def test_server_sees_one_subscription_per_channel_and_none_after(
        self, rd, redis_url, eventually
    ):
        """Redis itself counts one subscriber per channel however many subscribers this
        process has, and none once they are gone."""
        names = [f"{rd.prefix}numsub:{i}" for i in range(3)]
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            subscriptions = [rd.subscribe(name) for name in names for _ in range(4)]
            for subscription in subscriptions:
                await subscription.start()
            assert [count for _, count in await client.pubsub_numsub(*names)] == [1, 1, 1]
            for subscription in subscriptions:
                await subscription.aclose()
            await eventually(lambda: rd.stats().listening == 0, "channels released")
            assert [count for _, count in await client.pubsub_numsub(*names)] == [0, 0, 0]
        finally:
            await client.aclose()


class TestSubscribeGuarantee:
    async def test_subscribe_returns_only_once_the_server_listens(
        self, redis_url, redis_prefix, tcp_proxy, fast
    ):
        """On a slow link, entering the subscription waits for SUBSCRIBE's confirmation, so
        a message published right after it from elsewhere is not missed."""
        proxy = await tcp_proxy(redis_url)
        listening = RedisPubSub(proxy.url(redis_url), **fast)
        publishing = RedisPubSub(redis_url)
        try:
            async with listening.subscribe(f"{redis_prefix}warm-up"):
                proxy.delay = 0.3
                async with listening.subscribe(f"{redis_prefix}slow") as subscription:
                    await publishing.publish(f"{redis_prefix}slow", "right after")
                    assert await next_within(subscription, 3) == "right after"
        finally:
            await listening.aclose()
            await publishing.aclose()


class TestSilentConnection:
    async def test_health_check_replaces_a_connection_that_stopped_answering(
        self, redis_url, redis_prefix, tcp_proxy, fast
    ):
        """A subscribing connection that stopped answering is found by PING, replaced,
        and its subscribers get the gap."""
        proxy = await tcp_proxy(redis_url)
        listening = RedisPubSub(
            proxy.url(redis_url), health_check_interval=0.2, health_check_timeout=1.0, **fast
        )
        publishing = RedisPubSub(redis_url)
        name = f"{redis_prefix}quiet"
        try:
            async with listening.subscribe(name) as subscription:
                assert proxy.freeze() == 1
                with pytest.raises(MessagesMissedError):
                    await next_within(subscription)
                await publishing.publish(name, "heard again")
                assert await next_after_gaps(subscription) == "heard again"
            assert listening.stats().reconnects >= 1
        finally:
            await listening.aclose()
            await publishing.aclose()


class TestPublisherLoss:
    async def test_publishes_survive_a_killed_publishing_connection(self, rd, redis_url):
        """Killing the publishing connection does not fail publishes: they are sent again
        on a new connection."""
        name = f"{rd.prefix}p"
        async with rd.subscribe(name) as subscription:
            await rd.publish(name, "first")
            assert await next_within(subscription) == "first"
            assert await kill(redis_url, f"{rd.name}:publish") == 1
            await asyncio.gather(*(rd.publish(name, str(i)) for i in range(20)))
            received = {await next_within(subscription) for _ in range(20)}
        assert received == {str(i) for i in range(20)}


class TestFirstUse:
    async def test_unreachable_server_fails_the_first_subscribe_and_publish(self):
        """A wrong address is the caller's error at once, not a silent retry loop."""
        pub_sub = RedisPubSub("redis://127.0.0.1:1/0")
        try:
            with pytest.raises(PubSubConnectionError, match="could not connect to Redis"):
                await pub_sub.subscribe("c").start()
            with pytest.raises(PubSubConnectionError, match="could not connect to Redis"):
                await pub_sub.publish("c", "x")
        finally:
            await pub_sub.aclose()

    def test_malformed_url_fails_at_construction(self):
        """A Redis URL redis-py cannot parse is refused when the backend is made."""
        with pytest.raises(ValueError, match="not a valid Redis URL"):
            RedisPubSub("redis://localhost:notaport/0")
