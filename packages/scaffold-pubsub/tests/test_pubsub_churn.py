"""Many channels, publishers and subscribers coming and going, on every backend: each
subscriber gets every message published while it was subscribed, in order per publisher."""

import asyncio
import random
from collections import defaultdict
from collections.abc import Callable

import pytest

from scaffold.pubsub import PubSubBackend

CHANNELS = 8
PUBLISHERS = 4
SUBSCRIBERS = 80
# Lifetimes and arrivals are counted in publishes, not seconds, so that the overlap the
# test relies on does not depend on how fast the machine is. 64 publishes include at
# least 15 consecutive ones of some publisher, which cycles through all 8 channels: every
# subscriber is owed at least one message.
LIFETIME = (64, 160)
ARRIVAL = (3, 15)
SAFETY_LIMIT = 20_000


class Scenario:
    """Publishers number their messages per channel; subscribers note which numbers they
    were owed (published entirely while they were subscribed) and which they got."""

    def __init__(self, pub_sub: PubSubBackend, names: list[str]) -> None:
        self.pub_sub = pub_sub
        self.names = names
        self.rng = random.Random(6)  # noqa: S311 - seeded, so a failing run can be replayed
        self.started: dict[tuple[int, int], int] = defaultdict(int)
        self.completed: dict[tuple[int, int], int] = defaultdict(int)
        self.progress = 0
        self.advanced = asyncio.Event()
        self.subscribers_done = asyncio.Event()
        self.owed: list[int] = []

    async def until_progress(self, target: int) -> None:
        while self.progress < target:
            self.advanced.clear()
            await self.advanced.wait()

    async def publisher(self, number: int) -> None:
        i = 0
        while not self.subscribers_done.is_set() and self.progress < SAFETY_LIMIT:
            room = (i + number) % CHANNELS
            i += 1
            seq = self.started[number, room]
            self.started[number, room] += 1
            await self.pub_sub.publish(self.names[room], f"{number}:{seq}")
            self.completed[number, room] += 1
            self.progress += 1
            self.advanced.set()
            await asyncio.sleep(self.rng.uniform(0, 0.002))

    async def subscriber(self, number: int) -> None:
        room = self.rng.randrange(CHANNELS)
        lifetime = self.rng.randint(*LIFETIME)
        subscription = self.pub_sub.subscribe(self.names[room])
        await subscription.start()
        first = {p: self.started[p, room] for p in range(PUBLISHERS)}
        received: list[tuple[int, int]] = []

        async def read() -> None:
            async for message in subscription:
                publisher, seq = message.split(":")
                received.append((int(publisher), int(seq)))

        reader = asyncio.create_task(read())
        await self.until_progress(self.progress + lifetime)
        last = {p: self.completed[p, room] for p in range(PUBLISHERS)}
        await self.wait_for_last(reader, received, first, last)
        if number % 2:
            reader.cancel()  # the consumer's task ends, as when a websocket closes
        else:
            await subscription.aclose()
        await asyncio.gather(reader, return_exceptions=True)
        for p in range(PUBLISHERS):
            seqs = [seq for q, seq in received if q == p]
            assert seqs == sorted(set(seqs)), f"subscriber {number}: publisher {p} out of order"
            missing = set(range(first[p], last[p])) - set(seqs)
            assert not missing, f"subscriber {number} missed {sorted(missing)} of publisher {p}"
        self.owed.append(sum(max(0, last[p] - first[p]) for p in range(PUBLISHERS)))

    @staticmethod
    async def wait_for_last(
        reader: asyncio.Task[None],
        received: list[tuple[int, int]],
        first: dict[int, int],
        last: dict[int, int],
    ) -> None:
        """Wait until the newest owed message of each publisher has arrived."""
        owed = {p for p in range(PUBLISHERS) if last[p] > first[p]}
        for _ in range(2000):
            got = {p for p, seq in received if p in owed and seq >= last[p] - 1}
            if got == owed:
                return
            assert not reader.done(), reader.exception()
            await asyncio.sleep(0.005)
        pytest.fail(f"messages still missing: owed up to {last}, received {received[-5:]}")

    async def run(self) -> None:
        async def subscribers() -> None:
            tasks = []
            for number in range(SUBSCRIBERS):
                tasks.append(asyncio.create_task(self.subscriber(number)))
                await self.until_progress(self.progress + self.rng.randint(*ARRIVAL))
            try:
                await asyncio.gather(*tasks)
            finally:
                self.subscribers_done.set()

        await asyncio.gather(subscribers(), *(self.publisher(n) for n in range(PUBLISHERS)))


async def test_subscribers_coming_and_going_miss_nothing(
    pub_sub: PubSubBackend, channel: Callable[[str], str], eventually
):
    """While publishers publish on several channels, subscribers join and leave; each one
    receives, in each publisher's order, every message whose publish started after it
    subscribed and finished before it left, and nothing is left registered afterwards."""
    scenario = Scenario(pub_sub, [channel(f"room:{i}") for i in range(CHANNELS)])
    await scenario.run()
    await eventually(lambda: pub_sub.stats().listening == 0, "every channel released")
    assert len(scenario.owed) == SUBSCRIBERS
    assert min(scenario.owed) >= 1  # every subscriber overlapped with publishing
    stats = pub_sub.stats()
    assert (stats.subscribers, stats.channels, stats.dropped) == (0, 0, 0)
    assert stats.published == scenario.progress
