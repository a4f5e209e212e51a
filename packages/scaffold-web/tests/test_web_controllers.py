"""Controllers: registration, routes, inheritance, hooks, error handlers, discovery."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from quart import Response, ResponseReturnValue
from werkzeug.exceptions import NotFound

from scaffold.di import Container
from scaffold.web import (
    BaseController,
    BaseWebApp,
    WebSettings,
    after_request,
    after_websocket,
    before_request,
    before_websocket,
    controller,
    discover_controllers,
    error_handler,
    route,
    template_context_processor,
)
from scaffold.web.testing import WebTestClient


class Greeter:
    def greet(self, name: str) -> str:
        return f"Hello, {name}"


class ItemNotFoundError(LookupError):
    pass


class BaseItemsController(BaseController):
    """Not a controller itself: its routes and hooks are inherited."""

    def __init__(self, greeter: Greeter) -> None:
        self.greeter = greeter
        self.events: list[str] = []

    @before_request
    async def remember(self) -> None:
        self.events.append("before")

    @after_request
    async def stamp(self, response: Response) -> Response:
        response.headers["X-Events"] = ",".join([*self.events, "after"])
        return response

    @route("/")
    async def index(self) -> ResponseReturnValue:
        return self.greeter.greet(type(self).__name__)

    @route("/<int:item_id>")
    async def show(self, item_id: int) -> ResponseReturnValue:
        if item_id > 10:
            raise ItemNotFoundError(item_id)
        return {"id": item_id, "url": self.url_for(".show", item_id=item_id)}

    @error_handler(ItemNotFoundError)
    async def not_found(self, error: ItemNotFoundError) -> ResponseReturnValue:
        return f"no item {error.args[0]}", 404


@controller(name="items", url_prefix="/items")
class ItemsController(BaseItemsController):
    @route("/extra")
    @route("/more")
    def extra(self) -> ResponseReturnValue:
        return "sync methods work too"

    @template_context_processor
    def who(self) -> dict[str, str]:
        return {"who": "items"}

    @route("/page")
    async def page(self) -> ResponseReturnValue:
        return await self.render_template("who.html")


@controller(name="tools", url_prefix="/tools")
class ToolsController(BaseItemsController):
    @route("/")
    async def index(self) -> ResponseReturnValue:
        return "tools override the inherited index"

    @route("/ws", websocket=True)
    async def socket(self) -> None:
        await self.websocket.send(self.greeter.greet("socket"))

    @before_websocket
    async def before_socket(self) -> None:
        self.events.append("before-ws")

    @after_websocket
    async def after_socket(self, response: Response | None) -> Response | None:
        AFTER_WEBSOCKET.append(self.events)
        return response


AFTER_WEBSOCKET: list[list[str]] = []


@pytest.fixture
def app(make_app):
    app = make_app(
        ItemsController,
        ToolsController,
        instances={Greeter: Greeter()},
        templates={"who.html": "{{ who }}"},
    )

    @app.errorhandler(NotFound)
    async def app_wide_not_found(error: NotFound) -> ResponseReturnValue:
        return "app-wide 404", 404

    return app


class TestRoutes:
    async def test_controller_gets_its_service(self, app) -> None:
        """The constructor's dependencies come from the container."""
        async with WebTestClient(app) as client:
            response = await client.get("/items/")
        assert await response.get_data(as_text=True) == "Hello, ItemsController"

    async def test_url_values_and_relative_url_for(self, app) -> None:
        """Rule variables reach the method; url_for('.show') is relative to the controller."""
        async with WebTestClient(app) as client:
            response = await client.get("/items/3")
        assert await response.get_json() == {"id": 3, "url": "/items/3"}

    async def test_one_method_many_rules_and_sync_methods(self, app) -> None:
        """A method can serve several rules; synchronous methods are served too."""
        async with WebTestClient(app) as client:
            first = await client.get("/items/extra")
            second = await client.get("/items/more")
        assert await first.get_data(as_text=True) == "sync methods work too"
        assert second.status_code == 200

    async def test_endpoints_are_named_after_controller_and_method(self, app) -> None:
        """Endpoints read controller.method, as url_for expects."""
        endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
        assert {"items.index", "items.show", "items.extra", "tools.index", "tools.socket"} <= (
            endpoints
        )
        assert set(app.controllers) == {"items", "tools"}


class TestInheritance:
    async def test_inherited_routes_serve_under_each_prefix(self, app) -> None:
        """A route defined on a base class is served by every controller deriving from it."""
        async with WebTestClient(app) as client:
            response = await client.get("/tools/5")
        assert (await response.get_json())["url"] == "/tools/5"

    async def test_overriding_method_replaces_the_route(self, app) -> None:
        """A subclass overriding a routed method serves its own version."""
        async with WebTestClient(app) as client:
            response = await client.get("/tools/")
        assert await response.get_data(as_text=True) == "tools override the inherited index"


class TestHooksAndErrors:
    async def test_request_hooks_run_on_the_same_instance(self, app) -> None:
        """before_request and after_request run on the controller serving the request."""
        async with WebTestClient(app) as client:
            response = await client.get("/items/")
        assert response.headers["X-Events"] == "before,after"

    async def test_hooks_do_not_run_for_other_controllers(self, app) -> None:
        """A controller's hooks run for its own routes only."""
        async with WebTestClient(app) as client:
            response = await client.get("/health")
        assert "X-Events" not in response.headers

    async def test_websocket_hooks(self, app) -> None:
        """before_websocket and after_websocket run around the socket, on its controller."""
        AFTER_WEBSOCKET.clear()
        async with WebTestClient(app) as client, client.websocket("/tools/ws") as socket:
            assert await socket.receive() == "Hello, socket"
        assert AFTER_WEBSOCKET == [["before-ws"]]

    async def test_context_processor(self, app) -> None:
        """A controller's template context processor feeds its templates."""
        async with WebTestClient(app) as client:
            response = await client.get("/items/page")
        assert await response.get_data(as_text=True) == "items"

    async def test_controller_error_handler(self, app) -> None:
        """An error handler method handles its exception for its controller."""
        async with WebTestClient(app) as client:
            response = await client.get("/items/99")
        assert response.status_code == 404
        assert await response.get_data(as_text=True) == "no item 99"

    async def test_app_wide_error_handler(self, app) -> None:
        """Quart's app-wide error handlers still apply."""
        async with WebTestClient(app) as client:
            response = await client.get("/nowhere")
        assert await response.get_data(as_text=True) == "app-wide 404"


class TestRegistrationErrors:
    def test_undecorated_class_is_refused(self, make_app) -> None:
        """A class without its own @controller is refused, saying what to add."""
        with pytest.raises(TypeError, match=r"decorate it with @controller\(name=\.\.\.\)"):
            make_app(BaseItemsController, instances={Greeter: Greeter()})

    def test_duplicate_names_are_refused(self, make_app) -> None:
        """Two controllers with one name are refused, naming both."""

        @controller(name="items")
        class OtherItemsController(BaseController):
            @route("/other")
            async def other(self) -> str:
                return ""

        with pytest.raises(ValueError, match="two controllers are named 'items'"):
            make_app(ItemsController, OtherItemsController, instances={Greeter: Greeter()})

    def test_controller_without_routes_is_refused(self, make_app) -> None:
        """A controller with no @route method is almost certainly a mistake."""

        @controller(name="empty")
        class EmptyController(BaseController):
            pass

        with pytest.raises(ValueError, match="has no @route methods"):
            make_app(EmptyController)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"name": "with space"}, "Python identifier"),
            ({"name": "ok", "url_prefix": "items"}, "url_prefix starts with '/'"),
            ({"name": "ok", "url_prefix": "/items/"}, "does not end with one"),
        ],
    )
    def test_bad_controller_arguments(self, kwargs: dict[str, str], message: str) -> None:
        """@controller refuses bad names and prefixes."""
        with pytest.raises(ValueError, match=message):
            controller(**kwargs)

    def test_bad_route_arguments(self) -> None:
        """@route refuses rules without a leading slash and websockets with methods."""
        with pytest.raises(ValueError, match="starts with '/'"):
            route("items")
        with pytest.raises(ValueError, match="websocket route takes no HTTP methods"):
            route("/", websocket=True, methods=["GET"])


class TestDiscovery:
    async def test_controllers_of_a_package_are_found(self, make_app, monkeypatch) -> None:
        """discover_controllers imports a package and finds each controller once."""
        monkeypatch.syspath_prepend(str(Path(__file__).parent))
        found = discover_controllers("scaffold_web_discovery_fixture")
        assert [cls.name for cls in found] == ["alpha", "beta"]
        app = make_app(*found)
        async with WebTestClient(app) as client:
            response = await client.get("/beta/")
        assert await response.get_data(as_text=True) == "beta after alpha"


class TestSubclassingTheApp:
    def test_init_hook_runs_after_construction(self, tmp_path) -> None:
        """A WebApp subclass's init() runs once the app is built (the 0.9 hook)."""

        class StrictApp(BaseWebApp):
            def init(self) -> None:
                self.jinja_env.undefined = jinja2.StrictUndefined

        container = Container()
        container.add_instance(Greeter, Greeter())
        app = StrictApp(
            "strict",
            container,
            settings=WebSettings(secret_key="s" * 40, data_dir=tmp_path),
            controllers=[ItemsController],
            root_path=str(tmp_path),
        )
        assert app.jinja_env.undefined is jinja2.StrictUndefined
        assert "items" in app.controllers
