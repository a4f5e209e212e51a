"""A test client that runs the app's lifespan, with websockets and container overrides.

```python
from scaffold.web.testing import WebTestClient

async def test_home(app):
    async with WebTestClient(app, overrides={Mailer: FakeMailer()}) as client:
        response = await client.get("/")
        token = await client.csrf_token()
        response = await client.post("/", form={"email": "a@b.c", "csrf_token": token})
        async with client.websocket("/messages/") as socket:
            await socket.send("hello")
```
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Self

from ._auth import auth_settings
from ._csrf import generate_csrf_token
from ._sessions import rotate_session

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from quart.testing import QuartClient
    from quart.typing import TestAppProtocol, TestWebsocketConnectionProtocol
    from quart.wrappers import Response

    from ._app import WebApp

__all__ = ["WebTestClient"]


class WebTestClient:
    """Drives a `WebApp` in-process: start-up and shutdown run as under a server.

    Parameters:
        app: the app under test.
        overrides: services to replace in the app's container while the client is open
            (``{Mailer: fake_mailer}``); controllers resolved during the test get them.
        use_cookies: keep cookies between requests, like a browser.
    """

    def __init__(
        self,
        app: WebApp,
        *,
        overrides: Mapping[type[Any], object] | None = None,
        use_cookies: bool = True,
    ) -> None:
        self.app = app
        self._overrides = dict(overrides or {})
        self._use_cookies = use_cookies
        self._stack = contextlib.AsyncExitStack()
        self._test_app: TestAppProtocol | None = None
        self._client: QuartClient | None = None

    async def __aenter__(self) -> Self:
        async with contextlib.AsyncExitStack() as stack:
            for service, replacement in self._overrides.items():
                stack.enter_context(self.app.container.override(service, replacement))
            test_app = self.app.test_app()
            await test_app.startup()
            stack.push_async_callback(test_app.shutdown)
            self._test_app = test_app
            self._client = self.app.test_client(use_cookies=self._use_cookies)  # type: ignore[assignment]
            self._stack = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client = None
        self._test_app = None
        await self._stack.aclose()

    @property
    def client(self) -> QuartClient:
        """Quart's own test client, for anything this class does not wrap."""
        if self._client is None:
            raise RuntimeError("use the WebTestClient inside `async with` (it runs the lifespan)")
        return self._client

    async def get(self, path: str, **kwargs: Any) -> Response:  # noqa: ANN401 - Quart's keywords
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Response:  # noqa: ANN401 - Quart's keywords
        return await self.client.post(path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Response:  # noqa: ANN401 - Quart's keywords
        return await self.client.put(path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> Response:  # noqa: ANN401 - Quart's keywords
        return await self.client.patch(path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Response:  # noqa: ANN401 - Quart's keywords
        return await self.client.delete(path, **kwargs)

    def websocket(self, path: str, **kwargs: Any) -> TestWebsocketConnectionProtocol:  # noqa: ANN401 - Quart's keywords
        """A websocket connection: ``async with client.websocket("/ws") as socket: ...``."""
        return self.client.websocket(path, **kwargs)

    async def csrf_token(self) -> str:
        """A CSRF token valid for this client's session (created if need be)."""
        async with self.client.session_transaction() as session:
            return generate_csrf_token(session)

    async def login(self, user_id: object) -> None:
        """Sign `user_id` in as the app's `login_user` does, without a sign-in form."""
        async with self.app.app_context(), self.client.session_transaction() as session:
            rotate_session(session)
            session[auth_settings().session_user_key] = user_id

    async def session(self) -> dict[str, Any]:
        """A copy of the client's current session data."""
        async with self.client.session_transaction() as session:
            return dict(session)
