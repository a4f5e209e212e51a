"""`WebApp`: a Quart app whose controllers come from the DI container, secure by default."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from hypercorn.middleware import ProxyFixMiddleware
from quart import Blueprint, Quart, request, session
from quart.globals import request_ctx
from quart.routing import QuartMap
from werkzeug.exceptions import BadHost
from werkzeug.routing import MapAdapter

from ._asgi import HTTPConnection, WebsocketConnection
from ._assets import Assets
from ._auth import AuthSettings, UserLoader, install_auth
from ._controller import BaseController, is_controller
from ._csrf import (
    FORM_FIELD,
    HEADER,
    SAFE_METHODS,
    generate_csrf_token,
    is_csrf_exempt,
    validate_csrf_token,
)
from ._filters import time_ago
from ._markers import ERROR_HANDLERS_ATTRIBUTE, HOOKS_ATTRIBUTE, ROUTES_ATTRIBUTE, RouteMark
from ._origins import OriginChecker
from ._scopes import ConnectionScopes, note_failure, start_connection
from ._secret_key import resolve_secret_key
from ._security_headers import SecurityHeadersApplier
from ._sessions import ScaffoldSessionInterface
from ._settings import WebSettings
from ._templating import ScaffoldEnvironment, update_template_context
from ._websocket_errors import close_for_malformed_input, malformed_input
from ._wrappers import ScaffoldRequest, ScaffoldResponse, ScaffoldWebsocket

if TYPE_CHECKING:
    from quart.ctx import RequestContext, WebsocketContext
    from quart.typing import ResponseReturnValue, ResponseTypes
    from quart.wrappers import BaseRequestWebsocket

    from scaffold.di import Container

_FORM_MIMETYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

_DEFAULT_PORTS = {"http": ":80", "ws": ":80", "https": ":443", "wss": ":443"}
_SERVER_NAMES_KEPT = 64


class WebApp(Quart):
    """A Quart app serving `@controller` classes resolved from `container`.

    Parameters:
        import_name: the app's package or module name; templates and assets are found
            relative to it (or to `root_path`).
        container: the DI container the controllers and their services come from.
        settings: environment, secret key, security options; `WebSettings.from_env()` when
            omitted.
        controllers: controller classes to register now (see `register_controllers`).
        template_folder: the Jinja templates folder, relative to the root path.
        assets_folder: the folder served with fingerprinted names under
            `assets_url_prefix`; ``None`` serves no assets.
        root_path: the folder the other paths are relative to; found from
            `import_name` when omitted.
        init_container: at start-up run ``await container.init()`` (init functions and
            graph validation) rather than ``container.validate()`` alone.
        close_container: at shutdown run ``await container.aclose()``.
    """

    asgi_http_class = HTTPConnection
    asgi_websocket_class = WebsocketConnection
    request_class = ScaffoldRequest
    response_class = ScaffoldResponse
    websocket_class = ScaffoldWebsocket
    jinja_environment = ScaffoldEnvironment

    def __init__(
        self,
        import_name: str,
        container: Container,
        *,
        settings: WebSettings | None = None,
        controllers: Iterable[type[BaseController]] = (),
        template_folder: str | None = "templates",
        assets_folder: str | None = "assets",
        assets_url_prefix: str = "/assets",
        root_path: str | None = None,
        init_container: bool = True,
        close_container: bool = True,
    ) -> None:
        self._async_functions: dict[object, bool] = {}
        super().__init__(
            import_name,
            static_folder=None,
            template_folder=template_folder,
            root_path=root_path,
        )
        self.container = container
        self.settings = settings if settings is not None else WebSettings.from_env()
        self.secret_key = resolve_secret_key(self.settings)
        self.debug = self.settings.development
        self.config.update(
            SESSION_COOKIE_NAME=self.settings.session_cookie_name,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            MAX_CONTENT_LENGTH=self.settings.max_content_length,
            TEMPLATES_AUTO_RELOAD=self.settings.development,
        )
        self.session_interface = ScaffoldSessionInterface(
            secure=self.settings.session_cookie_secure
        )
        self._auth = AuthSettings(self.settings.session_user_key)
        install_auth(self.extensions, self._auth)
        self._scopes = ConnectionScopes(container)
        self._controllers: dict[str, type[BaseController]] = {}
        self._init_container = init_container
        self._close_container = close_container
        self._server_names: dict[tuple[str, str], str] = {}

        self.assets: Assets | None = None
        if assets_folder is not None:
            self.assets = Assets(Path(self.root_path) / assets_folder, assets_url_prefix)
            self.assets.scan()
            self.add_url_rule(f"{assets_url_prefix}/<path:filename>", "assets", self._serve_asset)

        self.add_template_filter(time_ago, "time_ago")
        self.add_template_global(self._asset_url, "asset_url")
        self.add_template_global(self._csrf_token, "csrf_token")

        self._security_headers = SecurityHeadersApplier(self.settings.security_headers)
        self._origins = OriginChecker(self.settings.allowed_origins)
        self.before_websocket(self._origins.check)
        self.before_serving(self._start_container)
        self.after_serving(self._stop_container)

        if self.settings.proxy_hops:
            self.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]
                self.asgi_app, mode="legacy", trusted_hops=self.settings.proxy_hops
            )
        if self.settings.health_path is not None:
            self.add_url_rule(self.settings.health_path, "health", _health)

        self.register_controllers(controllers)
        self.init()

    def init(self) -> None:
        """Override to adjust the app at the end of construction (the 0.9 hook).

        For example ``self.jinja_env.undefined = jinja2.StrictUndefined``.
        """

    # Quart asks inspect.iscoroutinefunction about every hook, view and handler on every
    # request; the answer never changes for a function, so it is remembered.
    @overload
    def ensure_async[**P, T](
        self, func: Callable[P, Awaitable[T]]
    ) -> Callable[P, Awaitable[T]]: ...
    @overload
    def ensure_async[**P, T](self, func: Callable[P, T]) -> Callable[P, Awaitable[T]]: ...
    def ensure_async[**P, T](
        self, func: Callable[P, Awaitable[T]] | Callable[P, T]
    ) -> Callable[P, Awaitable[T]]:
        key = getattr(func, "__func__", func)
        try:
            is_async = self._async_functions[key]
        except KeyError:
            is_async = self._async_functions[key] = inspect.iscoroutinefunction(func)
        except TypeError:  # an unhashable callable
            is_async = inspect.iscoroutinefunction(func)
        if is_async:
            return func  # type: ignore[return-value]
        return self.sync_to_async(func)  # type: ignore[arg-type]

    async def update_template_context(self, context: dict[str, Any]) -> None:
        await update_template_context(self, context)

    # Jinja: escape everything, whatever the template's file name (Quart escapes .html only).
    def select_jinja_autoescape(self, filename: str | None) -> bool:  # noqa: ARG002 - Quart's signature
        return True

    def user_loader(self, loader: UserLoader) -> UserLoader:
        """Register ``async def load(user_id) -> user | None`` behind `current_user()`."""
        self._auth.user_loader = loader
        return loader

    @property
    def controllers(self) -> dict[str, type[BaseController]]:
        """The registered controllers by name."""
        return dict(self._controllers)

    def register_controllers(self, controllers: Iterable[type[BaseController]]) -> None:
        for cls in controllers:
            self.register_controller(cls)

    def register_controller(self, cls: type[BaseController]) -> None:
        """Serve the routes of `cls`, a class decorated with `@controller`.

        Routes, hooks and error handlers defined in base classes are inherited; a subclass
        overriding a method replaces its routes too.
        """
        if not is_controller(cls):
            raise TypeError(
                f"{cls.__module__}.{cls.__qualname__} is not a controller: decorate it with "
                f"@controller(name=...) (a base class's decoration is not inherited)"
            )
        if cls.name in self._controllers:
            other = self._controllers[cls.name]
            raise ValueError(
                f"two controllers are named {cls.name!r}: {other.__qualname__} and "
                f"{cls.__qualname__}"
            )
        blueprint = Blueprint(
            cls.name,
            cls.__module__,
            url_prefix=cls.url_prefix,
            subdomain=cls.subdomain,
            root_path=self.root_path,
        )
        # A blueprint starts with Flask's synchronous default context processor, which Quart
        # would run in a thread on every render; the app's own (async) one already adds
        # g, request and session.
        blueprint.template_context_processors[None] = []
        routes = 0
        for attribute, function in _marked_functions(cls):
            bound = self._bind(cls, function)
            for mark in getattr(function, ROUTES_ATTRIBUTE, ()):
                self._add_route(blueprint, attribute, bound, mark)
                routes += 1
            for exception in getattr(function, ERROR_HANDLERS_ATTRIBUTE, ()):
                blueprint.register_error_handler(exception, bound)
            for hook in getattr(function, HOOKS_ATTRIBUTE, ()):
                getattr(blueprint, hook)(bound)
        if routes == 0:
            raise ValueError(f"controller {cls.__qualname__} has no @route methods")
        self.register_blueprint(blueprint)
        self._controllers[cls.name] = cls
        _register_in_container(self.container, cls)

    @staticmethod
    def _add_route(
        blueprint: Blueprint, attribute: str, view: Callable[..., Any], mark: RouteMark
    ) -> None:
        endpoint = mark.endpoint or attribute
        if mark.websocket:
            blueprint.add_websocket(mark.rule, endpoint, view, **mark.options)
        else:
            blueprint.add_url_rule(mark.rule, endpoint, view, methods=mark.methods, **mark.options)

    def _bind(self, cls: type[BaseController], function: Callable[..., Any]) -> Callable[..., Any]:
        """A function Quart can call: the method on this connection's controller instance.

        Synchronous methods are called on the event loop (Quart would use a thread).
        """
        resolve = self._scopes.resolver(cls)
        websocket_route = any(mark.websocket for mark in getattr(function, ROUTES_ATTRIBUTE, ()))
        if inspect.iscoroutinefunction(function):
            if websocket_route:

                @functools.wraps(function)
                async def websocket_view(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any view
                    instance = await resolve()
                    try:
                        return await function(instance, *args, **kwargs)
                    except Exception as error:
                        cause = malformed_input(error)
                        if cause is None:
                            raise
                        await close_for_malformed_input(cause)
                        return None

                return websocket_view

            @functools.wraps(function)
            async def view(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any view
                return await function(await resolve(), *args, **kwargs)

            return view

        @functools.wraps(function)
        async def sync_view(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - any view
            return function(await resolve(), *args, **kwargs)

        return sync_view

    def create_url_adapter(self, request: BaseRequestWebsocket | None) -> MapAdapter | None:
        """The URL adapter of a request, with its host's normalised form remembered.

        Quart normalises the Host header (lower case, no default port, IDNA) on every
        request. With no SERVER_NAME, subdomain or host matching, that form is all the
        adapter takes from the host, so it is kept per host (a bounded number of them:
        the header comes from the client). Other set-ups take Quart's way.
        """
        url_map = self.url_map
        if (
            request is None
            or type(url_map) is not QuartMap
            or url_map.host_matching
            or url_map.default_subdomain
            or self.subdomain_matching
            or self.config["SERVER_NAME"] is not None
        ):
            return super().create_url_adapter(request)
        scheme = request.scheme
        host = request.host  # checked against TRUSTED_HOSTS here, as Quart does
        key = (scheme, host)
        server_name = self._server_names.get(key)
        if server_name is None:
            server_name = _server_name(scheme, host)
            if len(self._server_names) >= _SERVER_NAMES_KEPT:
                self._server_names.clear()
            self._server_names[key] = server_name
        return MapAdapter(
            url_map,
            server_name,
            request.root_path,
            "",  # the subdomain Quart finds when the server name is the host itself
            scheme,
            request.path,
            request.method,
            request.query_string.decode(),
        )

    # The CSRF check and closing the DI scope run for every request, so they are built
    # into the request cycle rather than registered as hooks, which cost a few
    # microseconds each on a page that takes a couple of hundred. The security headers
    # are added by the ASGI connection (see _asgi.py).

    async def preprocess_request(
        self, request_context: RequestContext | None = None
    ) -> ResponseReturnValue | None:
        start_connection()
        method = (request_context or request_ctx).request.method
        if self.settings.csrf and method not in SAFE_METHODS:
            await self._check_csrf()
        return await super().preprocess_request(request_context)

    async def preprocess_websocket(
        self, websocket_context: WebsocketContext | None = None
    ) -> ResponseReturnValue | None:
        start_connection()
        return await super().preprocess_websocket(websocket_context)

    async def handle_exception(self, error: Exception) -> ResponseTypes:
        note_failure(error)
        return await super().handle_exception(error)

    async def handle_websocket_exception(self, error: Exception) -> ResponseTypes | None:
        note_failure(error)
        return await super().handle_websocket_exception(error)

    async def do_teardown_request(
        self, exc: BaseException | None, request_context: RequestContext | None = None
    ) -> None:
        try:
            await self._scopes.close(exc)
        finally:
            await super().do_teardown_request(exc, request_context)

    async def do_teardown_websocket(
        self, exc: BaseException | None, websocket_context: WebsocketContext | None = None
    ) -> None:
        try:
            await self._scopes.close(exc)
        finally:
            await super().do_teardown_websocket(exc, websocket_context)

    async def _check_csrf(self) -> None:
        endpoint = request.endpoint
        view = self.view_functions.get(endpoint) if endpoint is not None else None
        if view is None or is_csrf_exempt(view):
            return  # routing errors (404, 405) are reported as such
        token = request.headers.get(HEADER)
        if token is None and request.mimetype in _FORM_MIMETYPES:
            token = (await request.form).get(FORM_FIELD)
        validate_csrf_token(session, token)

    async def _serve_asset(self, filename: str) -> ResponseTypes:
        assert self.assets is not None  # noqa: S101 - the route exists only with assets
        return await self.assets.response(filename)

    def _asset_url(self, name: str) -> str:
        if self.assets is None:
            raise RuntimeError("asset_url() needs an assets folder; this app has none")
        return self.assets.url(name)

    @staticmethod
    def _csrf_token() -> str:
        return generate_csrf_token(session)

    async def _start_container(self) -> None:
        if self._init_container:
            await self.container.init()
        else:
            self.container.validate()

    async def _stop_container(self) -> None:
        if self._close_container:
            await self.container.aclose()


BaseWebApp = WebApp
"""The 0.9 name of `WebApp`."""


async def _health() -> tuple[str, int, dict[str, str]]:
    return "OK", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


def _server_name(scheme: str, host: str) -> str:
    """The host as Quart and Werkzeug bind the URL map to it, or `BadHost`."""
    host = host.lower()
    default_port = _DEFAULT_PORTS.get(scheme)
    if default_port is not None and host.endswith(default_port):
        host = host[: -len(default_port)]
    name, colon, port = host.partition(":")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise BadHost from error
    return f"{name}{colon}{port}"


def _marked_functions(cls: type) -> list[tuple[str, Callable[..., Any]]]:
    """The methods of `cls` (inherited ones included) that carry a Scaffold mark."""
    found: list[tuple[str, Callable[..., Any]]] = []
    for attribute in dir(cls):
        value = inspect.getattr_static(cls, attribute)
        if not inspect.isfunction(value):
            continue
        if any(
            hasattr(value, mark)
            for mark in (ROUTES_ATTRIBUTE, ERROR_HANDLERS_ATTRIBUTE, HOOKS_ATTRIBUTE)
        ):
            found.append((attribute, value))
    return found


def _register_in_container(container: Container, cls: type[BaseController]) -> None:
    """Controllers live in the connection's scope; validation then checks their needs.

    A controller the application registered itself (with a factory, say) is kept as is.
    """
    if cls not in container:
        container.add_scoped(cls)
