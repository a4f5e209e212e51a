"""Mail written as Jinja2 templates: a text and an HTML version (and a subject) per name."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from ._errors import InvalidMessageError, TemplateError
from ._message import Message

if TYPE_CHECKING:
    from ._attachment import Attachment

_SUFFIXES = (".subject.txt", ".txt", ".html")


@dataclasses.dataclass(frozen=True)
class RenderedMail:
    """The rendered versions of one mail template."""

    name: str
    text: str
    html: str | None
    subject: str | None

    def message(
        self,
        *,
        sender: str,
        recipients: Sequence[str],
        subject: str | None = None,
        cc: Sequence[str] = (),
        bcc: Sequence[str] = (),
        reply_to: str | Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Message:
        """A `Message` with these versions as body and HTML; `subject` overrides the template's."""
        subject = subject if subject is not None else self.subject
        if subject is None:
            raise InvalidMessageError(
                f"mail template {self.name!r} has no subject: add {self.name}.subject.txt or "
                "pass subject="
            )
        return Message(
            subject=subject,
            recipients=recipients,
            sender=sender,
            body=self.text,
            html=self.html,
            reply_to=reply_to,
            headers=headers,
            cc=cc,
            bcc=bcc,
            attachments=attachments,
        )


class MailTemplates:
    """Renders mail from Jinja2 templates.

    For a mail called `welcome` it renders `welcome.txt` (the plain-text version,
    required), `welcome.html` (the HTML version, optional, autoescaped) and
    `welcome.subject.txt` (the subject, optional, folded onto one line). Templates may
    extend a shared layout (`{% extends "layout.html" %}`) and include each other.
    A variable the context lacks is an error, not an empty string.

    Parameters:
        directory: one folder or several searched in order; or give `loader` instead.
        loader: any Jinja2 loader (`PackageLoader`, `DictLoader`, ...).
        globals: names every template can use (`url_for`, `site_name`, ...).
    """

    def __init__(
        self,
        directory: str | Path | Sequence[str | Path] | None = None,
        *,
        loader: jinja2.BaseLoader | None = None,
        globals: Mapping[str, Any] | None = None,  # noqa: A002 - Jinja2's own name for them
    ) -> None:
        if (directory is None) == (loader is None):
            raise ValueError("give MailTemplates either a directory or a loader")
        if loader is None:
            folders = [directory] if isinstance(directory, str | Path) else list(directory or ())
            loader = jinja2.FileSystemLoader([Path(folder) for folder in folders])
        self.environment = jinja2.Environment(
            loader=loader,
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html", "htm", "xml"), default_for_string=False, default=False
            ),
            undefined=jinja2.StrictUndefined,
            enable_async=True,
            keep_trailing_newline=True,
        )
        self.environment.globals.update(globals or {})

    async def render_template(self, template_name: str, /, **context: Any) -> str:  # noqa: ANN401 - template values are anything
        """Render one template file by its full name (`text/welcome.txt`)."""
        template = await self._load(template_name)
        if template is None:
            raise TemplateError(f"mail template {template_name!r} not found in {self._where()}")
        return await self._render(template, context)

    async def render(self, name: str, /, **context: Any) -> RenderedMail:  # noqa: ANN401 - template values are anything
        """Render the text, HTML and subject templates of the mail called `name`."""
        subject_template, text_template, html_template = [
            await self._load(name + suffix) for suffix in _SUFFIXES
        ]
        if text_template is None:
            found = f" (found {name}.html)" if html_template is not None else ""
            raise TemplateError(
                f"mail template {name!r} needs its plain-text version {name}.txt in "
                f"{self._where()}{found}"
            )
        subject = None
        if subject_template is not None:
            subject = " ".join((await self._render(subject_template, context)).split())
        return RenderedMail(
            name=name,
            text=await self._render(text_template, context),
            html=None if html_template is None else await self._render(html_template, context),
            subject=subject,
        )

    def names(self) -> list[str]:
        """The names of the mails that `render` can render (those with a `.txt` version)."""
        files = self.environment.list_templates()
        return sorted(
            {
                file.removesuffix(".txt")
                for file in files
                if file.endswith(".txt") and not file.endswith(".subject.txt")
            }
        )

    async def _load(self, template_name: str) -> jinja2.Template | None:
        # Loaders read files synchronously; keep that off the event loop.
        try:
            return await asyncio.to_thread(self.environment.get_template, template_name)
        except jinja2.TemplateNotFound:
            return None
        except jinja2.TemplateSyntaxError as error:
            raise TemplateError(
                f"mail template {error.filename or error.name or template_name!r}, line "
                f"{error.lineno}: {error.message}"
            ) from error

    async def _render(self, template: jinja2.Template, context: Mapping[str, Any]) -> str:
        try:
            return await template.render_async(**context)
        except jinja2.TemplateNotFound as error:
            # An {% extends %} or {% include %} names a template that does not exist.
            raise TemplateError(
                f"mail template {template.name!r} refers to {error.name!r}, which is not in "
                f"{self._where()}"
            ) from error
        except jinja2.TemplateError as error:
            raise TemplateError(f"mail template {template.name!r}: {error}") from error

    def _where(self) -> str:
        loader = self.environment.loader
        if isinstance(loader, jinja2.FileSystemLoader):
            return ", ".join(str(path) for path in loader.searchpath)
        return type(loader).__name__
