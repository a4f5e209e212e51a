"""scaffold.mail._templates and _notification: Jinja2 mail and the tutorial's service."""

import contextlib
from pathlib import Path
from typing import override

import jinja2
import pytest

from scaffold.mail import (
    EmailNotificationService,
    InMemoryMailSender,
    InvalidAddressError,
    InvalidMessageError,
    MailTemplates,
    Message,
    TemplateError,
)

TEMPLATES = Path(__file__).parent / "templates"
SITE = {"site_name": "Chatbot"}


class TestMailTemplates:
    async def test_renders_text_html_and_subject_from_one_name(self):
        """One name gives the .txt, .html (with its layout) and one-line .subject.txt."""
        templates = MailTemplates(TEMPLATES, globals=SITE)
        rendered = await templates.render("welcome", name="Ada")
        assert rendered.name == "welcome"
        assert rendered.subject == "Welcome to Chatbot, Ada!"
        assert rendered.text == "Hello Ada, welcome aboard.\n-- Chatbot\n"
        assert rendered.html is not None
        assert "<h1>Chatbot</h1>" in rendered.html
        assert "<p>Hello Ada, welcome aboard.</p>" in rendered.html
        assert "<footer>Sent by Chatbot</footer>" in rendered.html

    async def test_html_is_autoescaped_and_text_is_not(self):
        """Values are escaped in the HTML version only."""
        rendered = await MailTemplates(TEMPLATES, globals=SITE).render(
            "welcome", name="<script>alert('x')</script> & Co"
        )
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in (rendered.html or "")
        assert "<script>alert('x')</script> & Co" in rendered.text
        assert rendered.subject == "Welcome to Chatbot, <script>alert('x')</script> & Co!"

    async def test_html_and_subject_are_optional(self):
        """A mail with only a .txt has no HTML and no subject."""
        rendered = await MailTemplates(TEMPLATES).render("code", code="1234")
        assert (rendered.text, rendered.html, rendered.subject) == (
            "Your code is 1234.\n",
            None,
            None,
        )

    async def test_a_missing_variable_is_an_error(self):
        """A variable the context lacks raises, instead of leaving a blank in the mail."""
        with pytest.raises(TemplateError, match="'name' is undefined"):
            await MailTemplates(TEMPLATES, globals=SITE).render("welcome")

    async def test_a_missing_mail_names_the_file_and_folder(self):
        """Rendering an unknown name says which file is missing and where it looked."""
        with pytest.raises(
            TemplateError, match=r"needs its plain-text version nope\.txt in .*templates"
        ):
            await MailTemplates(TEMPLATES).render("nope")

    async def test_html_without_text_is_refused(self):
        """An HTML version without its text version is an error that says so."""
        templates = MailTemplates(loader=jinja2.DictLoader({"promo.html": "<p>Hi</p>"}))
        with pytest.raises(TemplateError, match=r"promo\.txt .*found promo\.html"):
            await templates.render("promo")

    async def test_syntax_errors_name_the_file_and_line(self):
        """A template that does not parse names its file and line."""
        templates = MailTemplates(loader=jinja2.DictLoader({"bad.txt": "line\n{% if %}"}))
        with pytest.raises(TemplateError, match=r"bad\.txt.*line 2"):
            await templates.render("bad")

    async def test_a_missing_layout_is_named(self):
        """A template extending a layout that does not exist names the layout."""
        templates = MailTemplates(
            loader=jinja2.DictLoader({"a.txt": "x", "a.html": '{% extends "gone.html" %}'})
        )
        with pytest.raises(TemplateError, match=r"'a\.html' refers to 'gone\.html', which is not"):
            await templates.render("a")

    async def test_render_template_renders_one_file(self):
        """render_template renders a single file by its full name."""
        text = await MailTemplates(TEMPLATES).render_template("code.txt", code="9")
        assert text == "Your code is 9.\n"
        with pytest.raises(TemplateError, match=r"'missing\.txt' not found"):
            await MailTemplates(TEMPLATES).render_template("missing.txt")

    def test_lists_the_mail_names(self):
        """names() lists every mail that has a text version."""
        assert MailTemplates(TEMPLATES).names() == ["code", "text/welcome", "welcome"]

    def test_needs_a_directory_or_a_loader(self):
        """Exactly one of directory and loader must be given."""
        with pytest.raises(ValueError, match="either a directory or a loader"):
            MailTemplates()

    async def test_several_folders_are_searched_in_order(self, tmp_path):
        """With several folders, the first that has a template wins."""
        (tmp_path / "code.txt").write_text("Overridden {{ code }}\n")
        rendered = await MailTemplates([tmp_path, TEMPLATES]).render("code", code="1")
        assert rendered.text == "Overridden 1\n"

    async def test_rendered_mail_becomes_a_message(self):
        """RenderedMail.message builds a Message; a missing subject must be given."""
        rendered = await MailTemplates(TEMPLATES, globals=SITE).render("welcome", name="Ada")
        message = rendered.message(sender="app@example.com", recipients=["ada@example.com"])
        assert (message.subject, message.body, message.html) == (
            rendered.subject,
            rendered.text,
            rendered.html,
        )
        code = await MailTemplates(TEMPLATES).render("code", code="1")
        with pytest.raises(InvalidMessageError, match=r"add code\.subject\.txt or pass subject="):
            code.message(sender="app@example.com", recipients=["ada@example.com"])
        assert code.message(sender="a@example.com", recipients=["b@example.com"], subject="Code")


class NotificationService:
    """The tutorial's application-layer interface."""

    async def send_welcome_message(self, email: str) -> None:
        raise NotImplementedError


class TutorialEmailNotificationService(EmailNotificationService, NotificationService):
    """The 0.9 tutorial's infrastructure class, unchanged apart from the import."""

    @override
    async def send_welcome_message(self, email: str) -> None:
        text = await self.render_template("text/welcome.txt")

        message = Message(
            subject="Welcome!",
            recipients=[email],
            sender=self.default_sender_email,
            body=text,
        )
        await self.mail_sender.send(message)


def fake_url_for(endpoint: str) -> str:
    return f"https://chat.example.com/{endpoint.replace('.', '/')}"


class TestEmailNotificationService:
    async def test_the_tutorial_welcome_email(self):
        """The tutorial's welcome mail renders from templates/ next to the class and is sent."""
        sender = InMemoryMailSender()
        service = TutorialEmailNotificationService(
            mail_sender=sender,
            default_sender_email="Chatbot <hello@chat.example.com>",
            template_globals={"url_for": fake_url_for},
        )
        await service.send_welcome_message("ada@example.com")
        [sent] = sender.outbox
        assert sent.message.subject == "Welcome!"
        assert sent.message.recipients == ("ada@example.com",)
        assert sent.message.body == "Welcome to https://chat.example.com/users/index!\n"
        assert sent.mime["From"] == "Chatbot <hello@chat.example.com>"

    def test_templates_live_next_to_the_subclass(self):
        """get_templates_dir is the templates folder beside the subclass's module."""
        service = TutorialEmailNotificationService(InMemoryMailSender(), "a@example.com")
        assert service.get_templates_dir() == TEMPLATES

    async def test_rendering_happens_inside_the_render_context(self):
        """render_context is entered around each rendering (for a web app's app_context)."""
        entered = []

        @contextlib.asynccontextmanager
        async def app_context():
            entered.append("in")
            yield
            entered.append("out")

        service = TutorialEmailNotificationService(
            InMemoryMailSender(),
            "a@example.com",
            template_globals={"url_for": fake_url_for},
            render_context=app_context,
        )
        await service.render_template("text/welcome.txt")
        assert entered == ["in", "out"]

    async def test_send_mail_renders_and_sends(self):
        """send_mail renders a mail by name and sends it from the default sender."""
        sender = InMemoryMailSender()
        service = EmailNotificationService(
            sender, "app@example.com", templates=MailTemplates(TEMPLATES, globals=SITE)
        )
        message_id = await service.send_mail(
            "welcome",
            recipients=["ada@example.com"],
            context={"name": "Ada"},
            bcc=["log@example.com"],
        )
        [sent] = sender.outbox
        assert sent.message_id == message_id
        assert sent.message.subject == "Welcome to Chatbot, Ada!"
        assert sent.message.sender == "app@example.com"
        assert sent.message.bcc == ("log@example.com",)
        assert sent.mime.get_content_type() == "multipart/alternative"

    def test_refuses_an_invalid_default_sender(self):
        """An invalid default sender fails when the service is made."""
        with pytest.raises(InvalidAddressError, match="default_sender_email"):
            EmailNotificationService(InMemoryMailSender(), "not an address")
