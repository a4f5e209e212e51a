"""The route as a Scaffold controller: the service injected, a template rendered."""

from pathlib import Path

from bench_service import Greeter

from scaffold.di import Container
from scaffold.web import BaseController, WebApp, WebSettings, controller, route


@controller(name="page")
class PageController(BaseController):
    def __init__(self, greeter: Greeter) -> None:
        self.greeter = greeter

    @route("/")
    async def index(self) -> str:
        return await self.render_template(
            "page.html",
            title="Scaffold",
            greeting=self.greeter.greet("world"),
            items=self.greeter.items(),
        )


container = Container()
container.add_singleton(Greeter)
app = WebApp(
    __name__,
    container,
    settings=WebSettings.from_env(),
    controllers=[PageController],
    root_path=str(Path(__file__).parent),
    assets_folder=None,
)
