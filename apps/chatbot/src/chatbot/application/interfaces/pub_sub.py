import abc
from collections.abc import AsyncGenerator
from typing import Final, final


@final
class Gap:
    """Marks that messages may have been missed (the connection to the broker was lost)."""

    def __repr__(self) -> str:
        return "GAP"


GAP: Final = Gap()


class PubSubService(abc.ABC):
    @abc.abstractmethod
    async def publish(self, channel: str, message: str) -> None: ...

    @abc.abstractmethod
    def subscribe(self, channel: str) -> AsyncGenerator[str | Gap]:
        """Messages published on the channel from now on, with GAP where some may be lost."""
