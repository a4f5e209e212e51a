"""How a server backend hands what its listening connection read to the subscribers.

A read is dispatched at once, unless a publish of this process is still in progress:
then it waits one step of the event loop, so that the publisher, whose confirmation may
have been read in the same step, goes on first. Whatever waits keeps its place: a later
read never overtakes it. (No server is needed: reads are handed over as the connection
would hand them.)
"""

from __future__ import annotations

import asyncio

from scaffold.pubsub import PostgresPubSub
from scaffold.pubsub._buffer import SubscriberBuffer


def attached(pub_sub: PostgresPubSub, channel: str) -> SubscriberBuffer:
    buffer = SubscriberBuffer(channel, channel, capacity=100)
    pub_sub._hub.attach(buffer)
    return buffer


def taken(buffer: SubscriberBuffer) -> list[object]:
    items = []
    while (item := buffer.take()) is not None:
        items.append(item)
    return items


async def test_without_a_publish_in_progress_a_read_is_dispatched_at_once() -> None:
    pub_sub = PostgresPubSub("postgresql://nowhere.invalid/db")
    buffer = attached(pub_sub, "a")
    pub_sub._on_messages([(b"a", b"1"), (b"a", b"2")])
    assert taken(buffer) == ["1", "2"]


async def test_while_a_publish_is_in_progress_a_read_waits_one_step() -> None:
    pub_sub = PostgresPubSub("postgresql://nowhere.invalid/db")
    buffer = attached(pub_sub, "a")
    pub_sub._publisher.publishing = 1
    pub_sub._on_messages([(b"a", b"1")])
    assert taken(buffer) == []
    await asyncio.sleep(0)
    assert taken(buffer) == ["1"]


async def test_a_later_read_never_overtakes_one_that_waits() -> None:
    pub_sub = PostgresPubSub("postgresql://nowhere.invalid/db")
    a, b = attached(pub_sub, "a"), attached(pub_sub, "b")
    pub_sub._publisher.publishing = 1
    pub_sub._on_messages([(b"a", b"1"), (b"b", b"x")])
    pub_sub._publisher.publishing = 0  # the publisher went on meanwhile
    pub_sub._on_messages([(b"a", b"2")])
    assert taken(a) == []
    await asyncio.sleep(0)
    assert taken(a) == ["1", "2"]
    assert taken(b) == ["x"]
    pub_sub._on_messages([(b"a", b"3")])  # nothing waits any more
    assert taken(a) == ["3"]
