"""The chatbot's web app: its controllers, templates and assets on scaffold-web."""

from pathlib import Path

from scaffold.di import Container
from scaffold.web import WebApp, WebSettings

from .controllers.home_controller import HomeController
from .controllers.messages_controller import MessagesController

HERE = Path(__file__).parent


def create_web_app(container: Container, settings: WebSettings) -> WebApp:
    return WebApp(
        __name__,
        container,
        settings=settings,
        controllers=[HomeController, MessagesController],
        root_path=str(HERE),
        template_folder="templates",
        assets_folder="assets",
    )
