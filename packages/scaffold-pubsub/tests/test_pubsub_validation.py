"""What publish and subscribe refuse, with the same rules on every backend."""

import pytest

from scaffold.pubsub import (
    POSTGRES_MAX_MESSAGE_BYTES,
    MemoryPubSub,
    PayloadTooLargeError,
    PubSubBackend,
)
from scaffold.pubsub._validation import check_message


class TestMessages:
    def test_limit_is_postgres_notify_limit(self):
        """The default limit is the largest payload NOTIFY accepts: 7999 bytes."""
        assert POSTGRES_MAX_MESSAGE_BYTES == 7999
        assert MemoryPubSub().max_message_bytes == 7999

    def test_limit_counts_utf8_bytes_not_characters(self):
        """A message of multi-byte characters is measured in bytes, as PostgreSQL does."""
        assert check_message("c", "é" * 3999, 7999) == "é".encode() * 3999
        with pytest.raises(PayloadTooLargeError) as raised:
            check_message("c", "é" * 4000, 7999)
        assert (raised.value.size, raised.value.limit) == (8000, 7999)
        assert "8000 bytes" in str(raised.value)
        assert "'c'" in str(raised.value)

    def test_payload_too_large_is_a_value_error(self):
        """Callers that catch ValueError for bad input also catch an oversized message."""
        assert issubclass(PayloadTooLargeError, ValueError)

    async def test_publish_refuses_non_text(self):
        """Only str is published; other types get a TypeError that says what to do."""
        pub_sub = MemoryPubSub()
        with pytest.raises(TypeError, match="must be a str, got bytes; serialise it"):
            await pub_sub.publish("c", b"x")  # type: ignore[arg-type]

    async def test_publish_refuses_nul(self):
        """PostgreSQL cannot carry NUL in text, so no backend accepts it."""
        pub_sub = MemoryPubSub()
        with pytest.raises(ValueError, match="NUL"):
            await pub_sub.publish("c", "a\x00b")

    async def test_publish_refuses_unencodable_text(self):
        """A lone surrogate cannot be sent as UTF-8 and is refused clearly."""
        pub_sub = MemoryPubSub()
        with pytest.raises(ValueError, match="not valid text"):
            await pub_sub.publish("c", "\ud800")

    async def test_raised_limit_applies_to_memory(self):
        """A backend configured with a larger limit accepts larger messages."""
        pub_sub = MemoryPubSub(max_message_bytes=100_000)
        async with pub_sub.subscribe("c") as subscription:
            await pub_sub.publish("c", "x" * 100_000)
            assert len(await anext(subscription)) == 100_000


class TestChannels:
    @pytest.mark.parametrize(
        ("channel", "error", "match"),
        [
            ("", ValueError, "must not be empty"),
            (42, TypeError, "channel must be a str, got int"),
            ("a\x00", ValueError, "NUL"),
        ],
    )
    async def test_bad_channels_are_refused(self, channel, error, match):
        """Empty, non-text and NUL-holding channel names are refused by both operations."""
        pub_sub = MemoryPubSub()
        with pytest.raises(error, match=match):
            await pub_sub.publish(channel, "x")
        with pytest.raises(error, match=match):
            pub_sub.subscribe(channel)


class TestOptions:
    @pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
    def test_max_buffered_must_be_a_positive_integer(self, value):
        """A bound that is not a positive integer is refused when the backend is made."""
        with pytest.raises(ValueError, match="max_buffered must be a positive integer"):
            MemoryPubSub(max_buffered=value)

    def test_subscription_may_override_the_bound(self):
        """One subscriber can have a larger or smaller buffer than the default."""
        pub_sub: PubSubBackend = MemoryPubSub(max_buffered=10)
        assert pub_sub.subscribe("c").capacity == 10
        assert pub_sub.subscribe("c", max_buffered=3).capacity == 3
        with pytest.raises(ValueError, match="max_buffered"):
            pub_sub.subscribe("c", max_buffered=0)
