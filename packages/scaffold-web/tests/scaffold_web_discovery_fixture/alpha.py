from scaffold.web import BaseController, controller, route


@controller(name="alpha", url_prefix="/alpha")
class AlphaController(BaseController):
    @route("/")
    async def index(self) -> str:
        return "alpha"


class NotAController:
    pass
