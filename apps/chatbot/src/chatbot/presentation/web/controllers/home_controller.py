import uuid

from quart import ResponseReturnValue

from chatbot.application.services.user_service import UserService
from chatbot.presentation.web.forms import SignUpForm
from scaffold.web import BaseController, controller, login_user, logout_user, route


@controller(name="home")
class HomeController(BaseController):
    def __init__(self, user_service: UserService) -> None:
        self.user_service = user_service

    @route("/")
    async def index(self) -> ResponseReturnValue:
        if "user_id" in self.session:
            return self.redirect(self.url_for("messages.index"))
        form = SignUpForm()
        return await self.render_template("home/index.html", form=form)

    @route("/", methods=["POST"])
    async def create(self) -> ResponseReturnValue:
        form = SignUpForm(await self.request.form)
        if await form.validate_on_submit() and form.email.data:
            await self.user_service.send_welcome_message(email=form.email.data)
            login_user(uuid.uuid4())  # a fresh session id: no session fixation
            return self.redirect(self.url_for(".index"))
        return await self.render_template("home/index.html", form=form), 400

    @route("/signout", methods=["POST"])
    async def sign_out(self) -> ResponseReturnValue:
        logout_user()
        return self.redirect(self.url_for(".index"))
