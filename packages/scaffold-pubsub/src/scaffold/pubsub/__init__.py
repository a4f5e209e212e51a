"""scaffold.pubsub: publish/subscribe in process, over PostgreSQL LISTEN/NOTIFY or Redis.

```python
pub_sub = from_url("postgresql://localhost/app")
await pub_sub.publish("user:1:messages", "42")
async for message in pub_sub.subscribe("user:1:messages"):
    ...
```

Subscribers learn about possibly missed messages (after a reconnect, or when they fall
behind) through `MessagesMissedError`; see the package README.
"""

from typing import TYPE_CHECKING

from scaffold.pubsub._backend import PubSubBackend
from scaffold.pubsub._backoff import Backoff
from scaffold.pubsub._errors import (
    GapReason,
    MessagesMissedError,
    PayloadTooLargeError,
    PubSubClosedError,
    PubSubConnectionError,
    PubSubError,
)
from scaffold.pubsub._memory import MemoryPubSub
from scaffold.pubsub._stats import PubSubStats
from scaffold.pubsub._subscription import BufferedSubscription
from scaffold.pubsub._url import from_url
from scaffold.pubsub._validation import POSTGRES_MAX_MESSAGE_BYTES
from scaffold.pubsub.types import PubSub, Subscription

if TYPE_CHECKING:
    from scaffold.pubsub._postgres import PostgresPubSub
    from scaffold.pubsub._redis import RedisPubSub

__all__ = [
    "POSTGRES_MAX_MESSAGE_BYTES",
    "Backoff",
    "BufferedSubscription",
    "GapReason",
    "MemoryPubSub",
    "MessagesMissedError",
    "PayloadTooLargeError",
    "PostgresPubSub",
    "PubSub",
    "PubSubBackend",
    "PubSubClosedError",
    "PubSubConnectionError",
    "PubSubError",
    "PubSubStats",
    "RedisPubSub",
    "Subscription",
    "from_url",
]


def __getattr__(name: str) -> object:
    # The server backends load their drivers only when asked for (redis is optional).
    if name == "PostgresPubSub":
        from scaffold.pubsub._postgres import PostgresPubSub  # noqa: PLC0415

        return PostgresPubSub
    if name == "RedisPubSub":
        from scaffold.pubsub._redis import RedisPubSub  # noqa: PLC0415

        return RedisPubSub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
