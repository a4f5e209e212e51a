import logging
from collections.abc import AsyncGenerator
from typing import override

from chatbot.application.interfaces import GAP, Gap, PubSubService
from scaffold.pubsub import MessagesMissedError, PubSub

logger = logging.getLogger(__name__)


class ScaffoldPubSubService(PubSubService):
    """The application's pub/sub on scaffold-pubsub; gaps become GAP markers."""

    def __init__(self, pub_sub: PubSub) -> None:
        self.pub_sub = pub_sub

    @override
    async def publish(self, channel: str, message: str) -> None:
        await self.pub_sub.publish(channel, message)

    @override
    async def subscribe(self, channel: str) -> AsyncGenerator[str | Gap]:
        async with self.pub_sub.subscribe(channel) as subscription:
            # Whatever was published before the subscription was in place is missed too.
            yield GAP
            while True:
                try:
                    async for message in subscription:
                        yield message
                except MessagesMissedError as gap:
                    logger.warning("pub/sub gap on %s: %s", channel, gap)
                    yield GAP
                else:
                    return
