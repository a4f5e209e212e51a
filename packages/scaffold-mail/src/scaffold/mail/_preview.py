"""Previewing a mail template: what the recipient would see, without sending anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ._templates import MailTemplates, RenderedMail


async def preview_mail(
    templates: MailTemplates, name: str, context: Mapping[str, Any] | None = None
) -> RenderedMail:
    """Render the mail `name` with `context`, as it would be sent."""
    return await templates.render(name, **(context or {}))


def format_preview(rendered: RenderedMail, *, text: bool = True, html: bool = True) -> str:
    """The rendered mail as readable text: the subject, then the versions asked for."""
    subject = (
        rendered.subject if rendered.subject is not None else "(none: pass subject= when sending)"
    )
    sections = [f"Mail: {rendered.name}", f"Subject: {subject}"]
    if text:
        sections.extend(["", "--- text/plain ---", rendered.text.rstrip("\n")])
    if html:
        body = rendered.html.rstrip("\n") if rendered.html is not None else "(no HTML version)"
        sections.extend(["", "--- text/html ---", body])
    return "\n".join(sections) + "\n"
