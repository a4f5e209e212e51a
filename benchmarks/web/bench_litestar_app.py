"""The same route in Litestar, with the service from its dependency injection."""

from pathlib import Path

from bench_service import Greeter
from litestar import Litestar, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.di import Provide
from litestar.response import Template
from litestar.template.config import TemplateConfig

_greeter = Greeter()


async def provide_greeter() -> Greeter:
    return _greeter


@get("/", dependencies={"greeter": Provide(provide_greeter)})
async def index(greeter: Greeter) -> Template:
    return Template(
        template_name="page.html",
        context={
            "title": "Litestar",
            "greeting": greeter.greet("world"),
            "items": greeter.items(),
        },
    )


app = Litestar(
    route_handlers=[index],
    template_config=TemplateConfig(
        directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine
    ),
)
