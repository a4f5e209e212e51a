"""The in-process backend: the embedded default and the fake for unit tests."""

from __future__ import annotations

from scaffold.pubsub._backend import PubSubBackend


class MemoryPubSub(PubSubBackend):
    """Publish/subscribe inside one process, with the same rules as the server backends.

    Messages go straight into the subscribers' buffers when `publish` is called. The
    size limit, buffer bound and overflow gaps are those of the other backends, so unit
    tests see what production would do; `simulate_gap` lets them exercise gap handling.
    """

    def simulate_gap(self, channel: str | None = None) -> None:
        """Signal `MessagesMissedError` to the active subscribers (of `channel`), as a
        reconnect of a server backend would."""
        key = None if channel is None else self._key(channel)
        self._hub.interrupt(key)
        self._hub.release_gaps()

    async def _send(self, key: str, payload: bytes, message: str) -> None:  # noqa: ARG002 - nothing to encode in process
        self._hub.dispatch(key, message)

    async def _listen(self, key: str) -> None:
        pass

    def _release(self, key: str) -> None:
        pass

    def _connection_state(self) -> tuple[int, bool, int]:
        return len(self._hub.keys()), True, 0

    async def _shutdown(self) -> None:
        pass
