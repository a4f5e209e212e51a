from scaffold.web import BaseController, controller, route

from .alpha import AlphaController  # imported, not defined here: found once only


@controller(name="beta", url_prefix="/beta")
class BetaController(BaseController):
    @route("/")
    async def index(self) -> str:
        return f"beta after {AlphaController.name}"
