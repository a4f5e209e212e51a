"""The app's ASGI connections: Quart's, with the security headers and less bookkeeping.

`HTTPConnection` adds the security headers to the response's start message (see
`SendWithSecurityHeaders`). Like Quart's, it serves a request with two tasks, one
reading the client's messages and one handling the request, and has the same outcome:
the handler is cancelled when the client disconnects, the reader once the response is
sent, and an error of either is raised. What it does more cheaply:

- Quart waits for the first task with `asyncio.wait` and for the other, once cancelled,
  with `asyncio.gather`; those general functions cost more than the page's routing.
  Here one future with a done-callback does each wait.
- Quart sends every response under `asyncio.wait_for` with the RESPONSE_TIMEOUT, which
  sets and cancels a timer on the event loop for each request. Here the sending starts
  at once and the same deadline is set only if it has to wait (a slow client, a
  streamed body); a buffered page is usually sent without waiting, so without a timer.

`WebsocketConnection` routes upgrades that a trusted proxy marked https/http as wss/ws,
and tolerates servers that refuse the body of a handshake's denial response.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from quart.asgi import ASGIHTTPConnection, ASGIWebsocketConnection, _handle_exception
from quart.utils import raise_task_exceptions
from quart.wrappers import Response

from ._security_headers import SendWithSecurityHeaders
from ._websocket_denial import DenialTolerantSend

if TYPE_CHECKING:
    from collections.abc import Coroutine, Generator

    from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, WebsocketScope
    from quart import Quart
    from quart.typing import ResponseTypes
    from quart.wrappers import Request

_WEBSOCKET_SCHEMES = {"https": "wss", "http": "ws"}


async def _until_one_is_done(*tasks: asyncio.Task[None]) -> None:
    """Wait until one of `tasks` is done; cancelling the wait leaves the tasks running.

    `asyncio.wait(tasks, return_when=FIRST_COMPLETED)` without its checks and sets.
    """
    waiter = asyncio.get_running_loop().create_future()

    def wake(_: asyncio.Task[None]) -> None:
        if not waiter.done():
            waiter.set_result(None)

    for task in tasks:
        task.add_done_callback(wake)
    try:
        await waiter
    finally:
        for task in tasks:
            task.remove_done_callback(wake)


class _Rest[T]:
    """Awaiting it runs the rest of a coroutine that was started by hand and suspended.

    `yielded` is what the coroutine handed the event loop when it suspended; awaiting
    this passes that on, and then everything between the task and the coroutine, as
    `await` would have done from the start.
    """

    __slots__ = ("_coroutine", "_yielded")

    def __init__(self, coroutine: Coroutine[Any, Any, T], yielded: Any) -> None:  # noqa: ANN401 - whatever the coroutine yields
        self._coroutine = coroutine
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, T]:
        coroutine, yielded = self._coroutine, self._yielded
        while True:
            try:
                value = yield yielded
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # noqa: BLE001 - passed on, cancellation included
                try:
                    yielded = coroutine.throw(error)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
            else:
                try:
                    yielded = coroutine.send(value)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]


async def _within[T](coroutine: Coroutine[Any, Any, T], limit: float | None) -> T:
    """``await asyncio.wait_for(coroutine, limit)``, with the timer set only if needed.

    The coroutine starts at once; if it completes without suspending, no timer was
    needed. If it suspends, the rest runs under `asyncio.timeout_at` with the deadline
    counted from the start, as `wait_for` would have it.
    """
    if limit is None or limit <= 0:
        return await asyncio.wait_for(coroutine, limit)
    deadline = asyncio.get_running_loop().time() + limit
    try:
        yielded = coroutine.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    async with asyncio.timeout_at(deadline):
        return await _Rest(coroutine, yielded)


class HTTPConnection(ASGIHTTPConnection):
    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        app: Any = self.app  # a WebApp, the only app using this class
        send = SendWithSecurityHeaders(
            send,
            app._security_headers,  # noqa: SLF001 - the app's, kept private to the package
            https=self.scope.get("scheme") == "https",
        )
        request = self._create_request_from_scope(send)
        # (Starting these two eagerly saves instructions in-process but served fewer
        # requests per second on Granian and Uvicorn: measured, not adopted.)
        reader = asyncio.ensure_future(self.handle_messages(request, receive))
        handler = asyncio.ensure_future(self.handle_request(request, send))
        await _until_one_is_done(handler, reader)
        # Whichever is still running (the reader, after a response; the handler, after a
        # disconnect) is cancelled and awaited, as Quart's `cancel_tasks` does.
        for task in (handler, reader):
            if not task.done():
                task.cancel()
                await _until_one_is_done(task)
                raise_task_exceptions({task})
        raise_task_exceptions({handler, reader})

    async def handle_request(self, request: Request, send: ASGISendCallable) -> None:
        # Quart's handle_request, with `_within` in place of `asyncio.wait_for`.
        response: ResponseTypes
        try:
            response = await self.app.handle_request(request)
        except Exception as error:  # noqa: BLE001 - Quart's debug page, or raised again
            response = await _handle_exception(self.app, error)
        timeout = (
            response.timeout
            if isinstance(response, Response) and response.timeout != Ellipsis
            else self.app.config["RESPONSE_TIMEOUT"]
        )
        with contextlib.suppress(TimeoutError):
            await _within(self._send_response(send, response), timeout)


class WebsocketConnection(ASGIWebsocketConnection):
    def __init__(self, app: Quart, scope: WebsocketScope) -> None:
        scheme = scope.get("scheme")
        if scheme in _WEBSOCKET_SCHEMES:
            # A trusted proxy's X-Forwarded-Proto says "https"/"http" for the upgrade
            # request too; as a websocket scheme that would route it as plain HTTP.
            scope = {**scope, "scheme": _WEBSOCKET_SCHEMES[scheme]}
        super().__init__(app, scope)

    async def __call__(self, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        await super().__call__(receive, DenialTolerantSend(send))
