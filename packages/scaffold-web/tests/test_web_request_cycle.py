"""The request cycle's shortcuts give Quart's and Werkzeug's answers.

WebApp routes with a remembered host form, looks headers up without exceptions, copies
template globals in one step and waits on its connection's tasks with a callback; each
test compares the outcome with what Quart or Werkzeug itself gives.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from quart import Quart, ResponseReturnValue
from quart.signals import before_render_template, template_rendered
from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadHost

from scaffold.web import BaseController, WebApp, controller, route, template_context_processor
from scaffold.web._asgi import _within
from scaffold.web._wrappers import ScaffoldHeaders
from scaffold.web.testing import WebTestClient


@controller(name="pages")
class PagesController(BaseController):
    @route("/")
    async def index(self) -> ResponseReturnValue:
        return await self.render_template("page.html", text="body")

    @route("/items/<int:number>")
    async def item(self, number: int) -> ResponseReturnValue:
        return {"number": number, "path": self.request.path}

    @route("/fail")
    async def fail(self) -> ResponseReturnValue:
        raise RuntimeError("boom")


@pytest.fixture
def app(make_app) -> WebApp:
    return make_app(PagesController, templates={"page.html": "{{ greeting() }} {{ text }}"})


async def _no_push(path: str, headers: Headers) -> None:
    raise AssertionError("no push promises here")


def _request(app: WebApp, scheme: str, host: str, path: str = "/", query: bytes = b"") -> Any:
    return app.request_class(
        "GET",
        scheme,
        path,
        query,
        Headers({"Host": host}),
        "",
        "1.1",
        {"type": "http", "server": ("127.0.0.1", 8000)},  # type: ignore[typeddict-item]
        send_push_promise=_no_push,
    )


class TestUrlAdapter:
    @pytest.mark.parametrize(
        ("scheme", "host"),
        [
            ("http", "example.com"),
            ("http", "Example.COM:80"),
            ("https", "example.com:443"),
            ("http", "example.com:443"),
            ("https", "shop.example.com:8443"),
            ("http", "bücher.example"),
            ("http", "[::1]:8000"),
            ("ws", "localhost:80"),
            ("wss", "LOCALHOST:443"),
        ],
    )
    def test_the_adapter_is_quarts(self, app: WebApp, scheme: str, host: str) -> None:
        """Server name, subdomain, scheme, path, method and query match Quart's adapter."""
        for _ in range(2):  # computed, then remembered
            request = _request(app, scheme, host, "/items/7", b"x=1")
            ours = app.create_url_adapter(request)
            quarts = Quart.create_url_adapter(app, request)
            assert vars(ours) == vars(quarts)

    @pytest.mark.parametrize("host", ["a" * 64 + ".example", "a..example"])
    def test_a_host_idna_refuses_is_a_bad_host(self, app: WebApp, host: str) -> None:
        request = _request(app, "http", host)
        with pytest.raises(BadHost):
            Quart.create_url_adapter(app, request)
        with pytest.raises(BadHost):
            app.create_url_adapter(request)

    def test_hosts_remembered_are_bounded(self, app: WebApp) -> None:
        """The Host header is the client's: a flood of names does not grow the memory."""
        for number in range(500):
            app.create_url_adapter(_request(app, "http", f"host{number}.example"))
        assert len(app._server_names) <= 64

    def test_server_name_takes_quarts_way(self, make_app) -> None:
        app = make_app(PagesController, templates={})
        app.config["SERVER_NAME"] = "example.com"
        request = _request(app, "http", "shop.example.com")
        assert vars(app.create_url_adapter(request)) == vars(Quart.create_url_adapter(app, request))

    async def test_routes_match(self, app: WebApp) -> None:
        async with WebTestClient(app) as client:
            response = await client.get("/items/12", headers={"Host": "Example.com:80"})
            assert await response.get_json() == {"number": 12, "path": "/items/12"}
            assert (await client.get("/items/x")).status_code == 404


class TestHeaders:
    HEADERS = (("Content-Type", "text/plain"), ("X-Count", "3"), ("X-Count", "4"))

    @pytest.mark.parametrize(
        ("name", "options"),
        [
            ("content-type", {}),
            ("X-COUNT", {}),
            ("X-Count", {"type": int}),
            ("Content-Type", {"type": int, "default": -1}),
            ("Cookie", {}),
            ("Cookie", {"default": "none"}),
            ("Cookie", {"type": int}),
        ],
    )
    def test_get_answers_as_werkzeug(self, name: str, options: dict[str, Any]) -> None:
        ours, werkzeugs = ScaffoldHeaders(self.HEADERS), Headers(self.HEADERS)
        assert ours.get(name, **options) == werkzeugs.get(name, **options)

    @pytest.mark.parametrize("name", ["content-type", "X-Count", "Cookie", ""])
    def test_in_answers_as_werkzeug(self, name: str) -> None:
        assert (name in ScaffoldHeaders(self.HEADERS)) is (name in Headers(self.HEADERS))

    def test_equal_to_plain_headers(self) -> None:
        assert ScaffoldHeaders(self.HEADERS) == Headers(self.HEADERS)
        assert Headers(self.HEADERS) == ScaffoldHeaders(self.HEADERS)
        assert ScaffoldHeaders(self.HEADERS) != Headers(self.HEADERS[:1])

    async def test_requests_and_responses_use_them(self, app: WebApp) -> None:
        seen: dict[str, object] = {}

        @app.after_request
        async def record(response: Any) -> Any:
            from quart import request  # noqa: PLC0415 - inside the request

            seen["request"] = type(request.headers)
            seen["response"] = type(response.headers)
            return response

        async with WebTestClient(app) as client:
            response = await client.get("/items/1", headers={"X-Test": "1"})
        assert response.status_code == 200
        assert seen == {"request": ScaffoldHeaders, "response": ScaffoldHeaders}


class TestTemplateGlobals:
    async def test_environment_globals_added_later_show_through(self, app: WebApp) -> None:
        app.jinja_env.globals["greeting"] = lambda: "hello"
        async with WebTestClient(app) as client:
            assert await (await client.get("/")).get_data(as_text=True) == "hello body"
            app.jinja_env.globals["greeting"] = lambda: "bonjour"
            assert await (await client.get("/")).get_data(as_text=True) == "bonjour body"

    async def test_a_templates_own_globals_win(self, app: WebApp) -> None:
        app.jinja_env.globals["greeting"] = lambda: "hello"
        template = app.jinja_env.get_template("page.html", globals={"greeting": lambda: "hi"})
        async with app.app_context():
            assert await template.render_async(text="there") == "hi there"
        assert app.jinja_env.globals["greeting"]() == "hello"

    async def test_the_context_knows_the_global_names(self, app: WebApp) -> None:
        template = app.jinja_env.from_string("x")
        context = template.new_context({"text": "y"})
        assert context.globals_keys == set(app.jinja_env.globals)
        assert context.parent == {**app.jinja_env.globals, "text": "y"}


class TestTemplateContext:
    async def test_processors_and_quarts_defaults(self, make_app) -> None:
        """App and controller processors add values; the view's own values win."""

        @controller(name="ctx")
        class ContextController(BaseController):
            @route("/")
            async def index(self) -> ResponseReturnValue:
                return await self.render_template("ctx.html", mine="view")

            @template_context_processor
            async def controller_values(self) -> dict[str, str]:
                return {"where": "controller", "mine": "processor"}

        app = make_app(
            ContextController,
            templates={
                "ctx.html": "{{ where }} {{ mine }} {{ app_value }} {{ request.path }} "
                "{{ session | length }} {{ g is defined }}"
            },
        )

        @app.context_processor
        def app_values() -> dict[str, str]:
            return {"app_value": "app", "where": "app"}

        async with WebTestClient(app) as client:
            page = await (await client.get("/")).get_data(as_text=True)
        assert page == "controller view app / 0 True"

    async def test_template_signals_reach_their_receivers(self, app: WebApp) -> None:
        app.jinja_env.globals["greeting"] = lambda: "hello"
        seen: list[tuple[str, object]] = []

        async def before(sender: object, template: Any, context: dict[str, Any]) -> None:
            seen.append(("before", context["text"]))

        async def after(sender: object, template: Any, context: dict[str, Any]) -> None:
            seen.append(("rendered", template.name))

        before_render_template.connect(before, app)
        template_rendered.connect(after, app)
        try:
            async with WebTestClient(app) as client:
                assert await (await client.get("/")).get_data(as_text=True) == "hello body"
        finally:
            before_render_template.disconnect(before, app)
            template_rendered.disconnect(after, app)
        assert seen == [("before", "body"), ("rendered", "page.html")]


class TestConnection:
    async def test_an_error_still_answers_500(self, app: WebApp) -> None:
        async with WebTestClient(app) as client:
            assert (await client.get("/fail")).status_code == 500

    async def test_a_failing_receive_is_raised(self, app: WebApp) -> None:
        """An error in reading the client's messages ends the call with that error."""
        handler_started = asyncio.Event()

        async def receive() -> dict[str, Any]:
            handler_started.set()
            raise OSError("connection lost")

        async def send(message: dict[str, Any]) -> None:
            pass

        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/",
            "raw_path": b"/",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"example.com")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8000),
        }
        with pytest.raises(OSError, match="connection lost"):
            await app(scope, receive, send)  # type: ignore[arg-type]
        assert handler_started.is_set()


class TestSendingDeadline:
    """`_within(coroutine, timeout)` answers as ``asyncio.wait_for(coroutine, timeout)``."""

    @staticmethod
    async def both(make: Any, limit: float | None) -> list[tuple[str, object]]:
        outcomes = []
        for wait in (asyncio.wait_for, _within):
            try:
                outcomes.append(("value", await wait(make(), limit)))
            except Exception as error:  # noqa: BLE001 - compared below
                outcomes.append((type(error).__name__, str(error)))
        return outcomes

    @pytest.mark.parametrize("limit", [None, 0, 5])
    async def test_without_suspending(self, limit: float | None) -> None:
        async def at_once() -> str:
            return "sent"

        outcomes = await self.both(at_once, limit)
        assert outcomes[0] == outcomes[1]
        if limit != 0:  # wait_for gives up on a zero timeout before starting
            assert outcomes[0] == ("value", "sent")

    async def test_suspending_and_finishing(self) -> None:
        async def after_a_while() -> str:
            await asyncio.sleep(0)
            await asyncio.sleep(0.01)
            return "sent"

        outcomes = await self.both(after_a_while, 5)
        assert outcomes[0] == outcomes[1] == ("value", "sent")

    async def test_an_error_after_suspending(self) -> None:
        async def failing() -> str:
            await asyncio.sleep(0)
            raise ValueError("broken pipe")

        outcomes = await self.both(failing, 5)
        assert outcomes[0] == outcomes[1] == ("ValueError", "broken pipe")

    async def test_a_stuck_sending_times_out_and_is_cancelled(self) -> None:
        journal: list[str] = []

        async def stuck() -> str:
            try:
                await asyncio.Event().wait()
            finally:
                journal.append("cancelled")
            return "never"

        outcomes = await self.both(stuck, 0.05)
        assert outcomes[0] == outcomes[1] == ("TimeoutError", "")
        assert journal == ["cancelled", "cancelled"]

    async def test_cancelling_the_task_is_not_a_timeout(self) -> None:
        """A client that disconnects cancels the handler: that stays a cancellation."""
        for wait in (asyncio.wait_for, _within):
            started = asyncio.Event()

            async def stuck(started: asyncio.Event = started) -> None:
                started.set()
                await asyncio.Event().wait()

            task = asyncio.create_task(wait(stuck(), 30))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    async def test_a_stuck_stream_ends_the_response_at_the_deadline(self, make_app) -> None:
        """A streamed body that stops producing is abandoned after its timeout."""

        @controller(name="stream")
        class StreamController(BaseController):
            @route("/")
            async def index(self) -> ResponseReturnValue:
                async def body() -> Any:
                    yield b"first "
                    await asyncio.Event().wait()
                    yield b"never"

                response = await self.make_streamed(body())
                response.timeout = 0.05
                return response

            @staticmethod
            async def make_streamed(body: Any) -> Any:
                from quart import make_response  # noqa: PLC0415 - inside the request

                return await make_response(body)

        app = make_app(StreamController, templates={})
        async with WebTestClient(app) as client:
            response = await client.get("/")
            assert response.status_code == 200
            assert await response.get_data() == b"first "
