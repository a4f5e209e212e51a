"""The base class of an application's e-mail notification service (the 0.9 tutorial's)."""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._addresses import parse_address
from ._errors import TemplateError
from ._templates import MailTemplates

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from contextlib import AbstractAsyncContextManager

    from ._attachment import Attachment
    from ._templates import RenderedMail
    from .types import MailSender


class EmailNotificationService:
    """Subclass it to send the mails of an application; templates live next to the subclass.

    Parameters:
        mail_sender: how mail goes out (`SmtpMailSender`, `QueuedMailSender`, ...).
        default_sender_email: the From address to use when a mail names none.
        templates: where templates come from; by default the `templates` folder next to
            the module that defines the subclass (`get_templates_dir`).
        template_globals: names every template can use, for example `url_for`.
        render_context: a callable returning an async context manager entered around
            every rendering, such as a web application's `app_context`, so that globals
            like `url_for` work outside a request.
    """

    def __init__(
        self,
        mail_sender: MailSender,
        default_sender_email: str,
        *,
        templates: MailTemplates | None = None,
        template_globals: Mapping[str, Any] | None = None,
        render_context: Callable[[], AbstractAsyncContextManager[object]] | None = None,
    ) -> None:
        parse_address(default_sender_email, field="default_sender_email")
        self.mail_sender = mail_sender
        self.default_sender_email = default_sender_email
        self._templates = templates
        self._template_globals = template_globals
        self._render_context = render_context

    def get_templates_dir(self) -> Path:
        """The `templates` folder next to the module that defines this class."""
        try:
            module_file = inspect.getfile(type(self))
        except TypeError as error:
            raise TemplateError(
                f"{type(self).__name__} is not defined in a file, so it has no templates "
                "folder; pass templates=MailTemplates(...)"
            ) from error
        return Path(module_file).parent / "templates"

    @property
    def templates(self) -> MailTemplates:
        """The templates this service renders (made on first use)."""
        if self._templates is None:
            self._templates = MailTemplates(
                self.get_templates_dir(), globals=self._template_globals
            )
        return self._templates

    async def render_template(self, template_path: str, /, **context: Any) -> str:  # noqa: ANN401 - template values are anything
        """Render one template file, such as `text/welcome.txt`, to a string."""
        async with self._rendering():
            return await self.templates.render_template(template_path, **context)

    async def render_mail(self, name: str, /, **context: Any) -> RenderedMail:  # noqa: ANN401 - template values are anything
        """Render the text, HTML and subject versions of the mail `name` (see `MailTemplates`)."""
        async with self._rendering():
            return await self.templates.render(name, **context)

    async def send_mail(
        self,
        name: str,
        /,
        *,
        recipients: Sequence[str],
        context: Mapping[str, Any] | None = None,
        subject: str | None = None,
        sender: str | None = None,
        cc: Sequence[str] = (),
        bcc: Sequence[str] = (),
        reply_to: str | Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> str:
        """Render the mail `name` with `context` and send it; return its Message-ID."""
        rendered = await self.render_mail(name, **(context or {}))
        message = rendered.message(
            sender=sender or self.default_sender_email,
            recipients=recipients,
            subject=subject,
            cc=cc,
            bcc=bcc,
            reply_to=reply_to,
            headers=headers,
            attachments=attachments,
        )
        return await self.mail_sender.send(message)

    def _rendering(self) -> AbstractAsyncContextManager[object]:
        if self._render_context is None:
            return contextlib.nullcontext()
        return self._render_context()
