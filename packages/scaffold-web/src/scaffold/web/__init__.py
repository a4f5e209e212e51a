"""scaffold.web: controllers with injected dependencies on Quart, secure by default.

```python
from scaffold.web import BaseController, WebApp, controller, route

@controller(name="home")
class HomeController(BaseController):
    def __init__(self, greeter: Greeter) -> None:
        self.greeter = greeter

    @route("/")
    async def index(self) -> str:
        return await self.render_template("home.html", greeting=self.greeter.greet())

app = WebApp(__name__, container, controllers=[HomeController])
```
"""

from ._app import BaseWebApp, WebApp
from ._assets import Assets, UnknownAssetError
from ._auth import current_user, current_user_id, login_required, login_user, logout_user
from ._controller import BaseController, controller
from ._csrf import CSRFError, csrf_exempt, generate_csrf_token, validate_csrf_token
from ._discovery import discover_controllers
from ._filters import time_ago
from ._markers import (
    after_request,
    after_websocket,
    before_request,
    before_websocket,
    error_handler,
    route,
    template_context_processor,
)
from ._passwords import PasswordHasher, VerifyResult
from ._security_headers import DEFAULT_CSP, SecurityHeaders
from ._serving import load_app, run_dev, serve
from ._sessions import rotate_session
from ._settings import ConfigurationError, WebSettings
from ._websocket_errors import MalformedMessageError

__all__ = [
    "DEFAULT_CSP",
    "Assets",
    "BaseController",
    "BaseWebApp",
    "CSRFError",
    "ConfigurationError",
    "MalformedMessageError",
    "PasswordHasher",
    "SecurityHeaders",
    "UnknownAssetError",
    "VerifyResult",
    "WebApp",
    "WebSettings",
    "after_request",
    "after_websocket",
    "before_request",
    "before_websocket",
    "controller",
    "csrf_exempt",
    "current_user",
    "current_user_id",
    "discover_controllers",
    "error_handler",
    "generate_csrf_token",
    "load_app",
    "login_required",
    "login_user",
    "logout_user",
    "rotate_session",
    "route",
    "run_dev",
    "serve",
    "template_context_processor",
    "time_ago",
    "validate_csrf_token",
]
