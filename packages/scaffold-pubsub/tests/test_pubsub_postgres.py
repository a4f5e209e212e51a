"""The PostgreSQL backend against the real server: killed and silent connections, long
channel names, other processes."""

import asyncio
import secrets
import sys

import psycopg
import pytest

from scaffold.pubsub import (
    GapReason,
    MessagesMissedError,
    PostgresPubSub,
    PubSubConnectionError,
)
from scaffold.pubsub._postgres import MAX_IDENTIFIER_BYTES, channel_key


def unique_name() -> str:
    return f"pubsub-test-{secrets.token_hex(4)}"


def backends(url: str, application_name: str) -> list[int]:
    """Backend pids of one of our connections (`<name>:listen` or `<name>:publish`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s "
            "AND datname = current_database()",
            (application_name,),
        ).fetchall()
    return [row[0] for row in rows]


def terminate(url: str, application_name: str) -> int:
    """pg_terminate_backend on our connection(s); return how many were ended."""
    pids = backends(url, application_name)
    with psycopg.connect(url, autocommit=True) as conn:
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return len(pids)


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
async def pg(postgres_url: str, fast):
    """A PostgreSQL pub/sub with its own application name, fast reconnects."""
    name = unique_name()
    pub_sub = PostgresPubSub(postgres_url, application_name=name, **fast)
    pub_sub.name = name  # type: ignore[attr-defined]
    yield pub_sub
    await pub_sub.aclose()


class TestListenerLoss:
    async def test_terminated_listener_gives_gap_then_messages(self, pg, postgres_url):
        """pg_terminate_backend on the listener: every subscriber gets the gap, then new
        messages again."""
        async with (
            pg.subscribe("a") as a1,
            pg.subscribe("a") as a2,
            pg.subscribe("b") as b,
        ):
            await pg.publish("a", "before")
            assert [await next_within(a1), await next_within(a2)] == ["before", "before"]
            assert terminate(postgres_url, f"{pg.name}:listen") == 1
            for subscription in (a1, a2, b):
                with pytest.raises(MessagesMissedError) as raised:
                    await next_within(subscription)
                assert raised.value.reason is GapReason.CONNECTION_LOST
            await pg.publish("a", "after")
            await pg.publish("b", "after")
            for subscription in (a1, a2, b):
                assert await next_within(subscription) == "after"
        stats = pg.stats()
        assert (stats.reconnects, stats.connection_gaps, stats.connected) == (1, 3, True)

    async def test_repeated_kills_each_signal_a_gap(self, pg, postgres_url):
        """Every loss is signalled, however often it happens."""
        async with pg.subscribe("c") as subscription:
            for round_ in range(3):
                assert terminate(postgres_url, f"{pg.name}:listen") == 1
                with pytest.raises(MessagesMissedError):
                    await next_within(subscription)
                await pg.publish("c", str(round_))
                assert await next_within(subscription) == str(round_)
        assert pg.stats().reconnects == 3

    async def test_subscribing_during_the_outage_waits_for_the_listener(self, pg, postgres_url):
        """A subscription started while the listener reconnects listens before it returns,
        and has no gap to report."""
        async with pg.subscribe("old") as old:
            assert terminate(postgres_url, f"{pg.name}:listen") == 1
            async with pg.subscribe("new") as new:
                await pg.publish("new", "first")
                assert await next_within(new) == "first"
            with pytest.raises(MessagesMissedError):
                await next_within(old)

    async def test_one_listening_connection_for_all_channels(self, pg, postgres_url):
        """Many channels and subscribers share one listening connection."""
        subscriptions = [pg.subscribe(f"user:{i}:messages") for i in range(30)]
        subscriptions += [pg.subscribe("user:0:messages") for _ in range(10)]
        for subscription in subscriptions:
            await subscription.start()
        assert len(backends(postgres_url, f"{pg.name}:listen")) == 1
        assert pg.stats().listening == 30
        for subscription in subscriptions:
            await subscription.aclose()


class TestSubscribeGuarantee:
    async def test_subscribe_returns_only_once_the_server_listens(
        self, postgres_url, tcp_proxy, fast
    ):
        """On a slow link, entering the subscription waits for LISTEN to complete, so a
        message published right after it from elsewhere is not missed."""
        proxy = await tcp_proxy(postgres_url)
        listening = PostgresPubSub(proxy.url(postgres_url), **fast)
        publishing = PostgresPubSub(postgres_url)
        try:
            async with listening.subscribe("warm-up"):
                proxy.delay = 0.3
                async with listening.subscribe("slow") as subscription:
                    await publishing.publish("slow", "right after")
                    assert await next_within(subscription, 3) == "right after"
        finally:
            await listening.aclose()
            await publishing.aclose()


class TestSilentConnection:
    async def test_health_check_replaces_a_connection_that_stopped_answering(
        self, postgres_url, tcp_proxy, fast
    ):
        """A listener whose server vanished without closing is found by the health check,
        replaced, and its subscribers get the gap."""
        proxy = await tcp_proxy(postgres_url)
        listening = PostgresPubSub(
            proxy.url(postgres_url),
            health_check_interval=0.2,
            health_check_timeout=1.0,
            **fast,
        )
        publishing = PostgresPubSub(postgres_url)
        try:
            async with listening.subscribe("quiet") as subscription:
                assert proxy.freeze() == 1
                with pytest.raises(MessagesMissedError):
                    await next_within(subscription)
                await publishing.publish("quiet", "heard again")
                assert await next_after_gaps(subscription) == "heard again"
            assert listening.stats().reconnects >= 1
        finally:
            await listening.aclose()
            await publishing.aclose()


class TestPublisherLoss:
    async def test_publishes_survive_a_terminated_publishing_connection(self, pg, postgres_url):
        """Killing the publishing connection does not fail publishes: they are sent again
        on a new connection."""
        async with pg.subscribe("p") as subscription:
            await pg.publish("p", "first")
            assert await next_within(subscription) == "first"
            assert terminate(postgres_url, f"{pg.name}:publish") == 1
            await asyncio.gather(*(pg.publish("p", str(i)) for i in range(20)))
            received = [await next_within(subscription) for _ in range(20)]
        assert sorted(received, key=int) == [str(i) for i in range(20)]
        assert len(backends(postgres_url, f"{pg.name}:publish")) == 1

    async def test_publish_fails_clearly_when_the_server_stays_away(
        self, postgres_url, tcp_proxy, fast
    ):
        """When no new connection can be made within `publish_timeout`, publish raises."""
        proxy = await tcp_proxy(postgres_url)
        pub_sub = PostgresPubSub(proxy.url(postgres_url), publish_timeout=0.5, **fast)
        try:
            await pub_sub.publish("gone", "1")
            await proxy.aclose()
            with pytest.raises(PubSubConnectionError, match=r"did not confirm .* within 0.5 s"):
                await pub_sub.publish("gone", "2")
        finally:
            await pub_sub.aclose()


class TestFirstUse:
    async def test_unreachable_server_fails_the_first_subscribe_and_publish(self):
        """A wrong address is the caller's error at once, not a silent retry loop."""
        pub_sub = PostgresPubSub("postgresql://postgres@127.0.0.1:1/postgres")
        try:
            with pytest.raises(PubSubConnectionError, match="could not connect to PostgreSQL"):
                await pub_sub.subscribe("c").start()
            with pytest.raises(PubSubConnectionError, match="could not connect to PostgreSQL"):
                await pub_sub.publish("c", "x")
            assert pub_sub.stats().subscribers == 0
        finally:
            await pub_sub.aclose()


class TestQuoting:
    async def test_backslashes_survive_old_style_string_settings(self, postgres_url, fast):
        """Messages are quoted by libpq for the connection's settings, so backslashes and
        quotes arrive intact even with standard_conforming_strings off."""
        separator = "&" if "?" in postgres_url else "?"
        url = f"{postgres_url}{separator}options=-c%20standard_conforming_strings%3Doff"
        pub_sub = PostgresPubSub(url, **fast)
        message = "C:\\new\\table \\' '' \\\\ end\\"
        try:
            async with pub_sub.subscribe("quotes") as subscription:
                await pub_sub.publish("quotes", message)
                assert await next_within(subscription) == message
        finally:
            await pub_sub.aclose()


class TestChannelNames:
    def test_short_names_are_used_as_they_are(self):
        """Channels that fit PostgreSQL's 63 bytes keep their name (visible to operators)."""
        assert channel_key("user:0195a3c4-8a1e-7cc0-b2f1-3f2e5d7c9a10:messages") == (
            "user:0195a3c4-8a1e-7cc0-b2f1-3f2e5d7c9a10:messages"
        )

    def test_long_names_become_distinct_digests(self):
        """Longer names map to digests that fit, instead of being truncated into one."""
        long_a, long_b = "x" * 70 + "a", "x" * 70 + "b"
        keys = {channel_key(long_a), channel_key(long_b), channel_key("~short")}
        assert len(keys) == 3
        assert all(len(key.encode()) <= MAX_IDENTIFIER_BYTES for key in keys)

    async def test_long_names_are_delivered_separately(self, pg):
        """Two long channel names that share their first 63 bytes stay separate."""
        long_a, long_b = "tenant:" + "x" * 70 + ":a", "tenant:" + "x" * 70 + ":b"
        async with pg.subscribe(long_a) as a, pg.subscribe(long_b) as b:
            await pg.publish(long_b, "to b")
            await pg.publish(long_a, "to a")
            assert await next_within(a) == "to a"
            assert await next_within(b) == "to b"

    async def test_publishing_on_more_channels_than_the_kept_statements(self, pg):
        """The publishing connection keeps the NOTIFY prefix of 1024 channels; past that it
        starts over, and every channel, old or new, still gets its own messages."""
        async with pg.subscribe("kept:0") as first, pg.subscribe("kept:1100") as last:
            await asyncio.gather(*(pg.publish(f"kept:{i}", str(i)) for i in range(1101)))
            await pg.publish("kept:0", "again")
            assert [await next_within(first), await next_within(first)] == ["0", "again"]
            assert await next_within(last) == "1100"


@pytest.mark.slow
async def test_message_from_another_process(pg, postgres_url):
    """A message published by a separate Python process reaches this one's subscriber."""
    script = (
        "import asyncio, sys\n"
        "from scaffold.pubsub import from_url\n"
        "async def main():\n"
        "    async with from_url(sys.argv[1]) as pub_sub:\n"
        "        await pub_sub.publish('user:7:messages', 'from elsewhere')\n"
        "asyncio.run(main())\n"
    )
    async with pg.subscribe("user:7:messages") as subscription:
        process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, postgres_url)
        assert await process.wait() == 0
        assert await next_within(subscription) == "from elsewhere"


class TestProcesses:
    async def test_each_subscriber_gets_each_message_once_from_here_and_elsewhere(
        self, postgres_url, fast
    ):
        """Two pub/subs (two processes, as far as the server knows) publish on one
        channel: each subscriber gets all 100 messages once, in order per publisher."""
        here = PostgresPubSub(postgres_url, application_name=unique_name(), **fast)
        there = PostgresPubSub(postgres_url, application_name=unique_name(), **fast)
        try:
            async with here.subscribe("m") as mine, there.subscribe("m") as theirs:
                for i in range(50):
                    await here.publish("m", f"here {i}")
                    await there.publish("m", f"there {i}")
                await there.publish("m", "end")  # nothing may follow it
                for subscription in (mine, theirs):
                    received = []
                    while (message := await next_within(subscription)) != "end":
                        received.append(message)
                    for source in ("here", "there"):
                        from_source = [m for m in received if m.startswith(source)]
                        assert from_source == [f"{source} {i}" for i in range(50)]
                    assert len(received) == 100
                await asyncio.sleep(0.2)  # a late duplicate would have arrived by now
                assert (mine.pending, theirs.pending) == (0, 0)
            assert here.stats().delivered == there.stats().delivered == 101
        finally:
            await here.aclose()
            await there.aclose()
