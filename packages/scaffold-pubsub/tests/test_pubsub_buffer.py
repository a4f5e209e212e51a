"""The bounded subscriber buffer: order, overflow policy, gap markers and counters."""

import asyncio
import itertools

import pytest

from scaffold.pubsub import GapReason
from scaffold.pubsub._buffer import Gap, SubscriberBuffer


def drain(buffer: SubscriberBuffer) -> list[str | tuple[GapReason, int | None]]:
    items: list[str | tuple[GapReason, int | None]] = []
    while len(buffer):
        item = buffer.take()
        items.append(item if isinstance(item, str) else (item.reason, item.dropped))
    return items


class TestOverflow:
    def test_full_buffer_keeps_oldest_and_marks_one_gap(self):
        """A full buffer refuses the newest messages and records them as one gap marker."""
        buffer = SubscriberBuffer("c", "c", capacity=3)
        results = [buffer.put(str(i)) for i in range(6)]
        assert results == [True, True, True, False, False, False]
        assert drain(buffer) == ["0", "1", "2", (GapReason.BUFFER_FULL, 3)]
        assert (buffer.received, buffer.dropped, buffer.gaps) == (3, 3, 1)

    def test_buffer_never_holds_more_than_capacity_messages(self):
        """Whatever the interleaving of reads and writes, at most `capacity` messages wait,
        and gap markers never sit next to each other."""
        buffer = SubscriberBuffer("c", "c", capacity=4)
        for round_ in range(50):
            for i in range(7):
                buffer.put(f"{round_}.{i}")
                assert buffer.messages <= 4
                kinds = [type(item) for item in buffer._items]
                assert all(a is str or b is str for a, b in itertools.pairwise(kinds))
            buffer.take()

    def test_messages_after_catching_up_follow_the_gap(self):
        """Once there is room again, new messages queue behind the gap marker, in order."""
        buffer = SubscriberBuffer("c", "c", capacity=2)
        for i in range(4):
            buffer.put(str(i))
        assert buffer.take() == "0"
        buffer.put("4")
        buffer.put("5")
        assert drain(buffer) == ["1", (GapReason.BUFFER_FULL, 2), "4", (GapReason.BUFFER_FULL, 1)]


class TestConnectionGaps:
    def test_connection_gap_is_queued_after_buffered_messages(self):
        """A connection gap comes after what was already received."""
        buffer = SubscriberBuffer("c", "c", capacity=10)
        buffer.put("a")
        buffer.put_gap(GapReason.CONNECTION_LOST)
        buffer.put("b")
        assert drain(buffer) == ["a", (GapReason.CONNECTION_LOST, None), "b"]

    def test_connection_gap_merges_into_overflow_gap_and_count_becomes_unknown(self):
        """Two gaps in a row are one signal; after a connection loss the count is unknown."""
        buffer = SubscriberBuffer("c", "c", capacity=1)
        buffer.put("a")
        buffer.put("b")
        buffer.put_gap(GapReason.CONNECTION_LOST)
        assert drain(buffer) == ["a", (GapReason.CONNECTION_LOST, None)]
        assert buffer.gaps == 1

    def test_repeated_connection_gaps_are_one_marker(self):
        """Several losses before the subscriber reads are reported once."""
        buffer = SubscriberBuffer("c", "c", capacity=5)
        buffer.put_gap(GapReason.CONNECTION_LOST)
        buffer.put_gap(GapReason.CONNECTION_LOST)
        assert len(buffer) == 1
        assert isinstance(buffer._items[0], Gap)


class TestReading:
    async def test_get_waits_for_a_message(self):
        """A reader waiting on an empty buffer wakes up when a message arrives."""
        buffer = SubscriberBuffer("c", "c", capacity=5)
        reader = asyncio.create_task(buffer.get())
        await asyncio.sleep(0)
        assert not reader.done()
        buffer.put("x")
        assert await reader == "x"

    async def test_close_lets_the_reader_finish_the_buffer_then_stops(self):
        """Closing delivers what is buffered, then ends the iteration."""
        buffer = SubscriberBuffer("c", "c", capacity=5)
        buffer.put("x")
        buffer.close()
        assert await buffer.get() == "x"
        with pytest.raises(StopAsyncIteration):
            await buffer.get()

    async def test_close_with_discard_drops_the_buffer(self):
        """A consumer that stops does not keep its unread messages in memory."""
        buffer = SubscriberBuffer("c", "c", capacity=5)
        buffer.put("x")
        buffer.close(discard=True)
        assert len(buffer) == 0
        with pytest.raises(StopAsyncIteration):
            await buffer.get()

    async def test_close_wakes_a_waiting_reader(self):
        """A reader blocked on an empty buffer ends when the buffer closes."""
        buffer = SubscriberBuffer("c", "c", capacity=5)
        reader = asyncio.create_task(buffer.get())
        await asyncio.sleep(0)
        buffer.close()
        with pytest.raises(StopAsyncIteration):
            await reader

    async def test_second_concurrent_reader_is_refused(self):
        """Two tasks reading one subscription is a bug, reported instead of losing wake-ups."""
        buffer = SubscriberBuffer("chan", "chan", capacity=5)
        first = asyncio.create_task(buffer.get())
        await asyncio.sleep(0)
        with pytest.raises(RuntimeError, match="another task is already reading"):
            await buffer.get()
        buffer.put("x")
        assert await first == "x"
