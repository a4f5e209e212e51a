"""The app's Jinja environment: Quart's, with template globals copied cheaply.

Jinja keeps a template's globals as a `ChainMap` of its own over the environment's, so
that changes to the environment's globals show through, and copies that map into a new
dict for every rendering (and again into a set of names). `ChainMap` serves each name
from Python code that tries the template's mapping, usually empty, and catches the
`KeyError`: a dozen exceptions per page for Jinja's, Quart's and Scaffold's globals.
`ScaffoldTemplate` merges the two dicts in one step instead; the copy it hands to the
context holds the same names, values and order, read at the same moment.
"""

from __future__ import annotations

from collections import ChainMap
from typing import TYPE_CHECKING, Any

from jinja2 import Template
from jinja2.runtime import new_context
from quart import current_app
from quart.globals import _cv_app, _cv_request, _cv_websocket
from quart.signals import before_render_template, template_rendered
from quart.templating import Environment, _default_template_ctx_processor, _render

if TYPE_CHECKING:
    from collections.abc import Mapping, MutableMapping

    from jinja2.runtime import Context


def _flat(template_globals: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """The template's globals as one dict, when they are Jinja's `ChainMap` of dicts."""
    if type(template_globals) is not ChainMap:
        return template_globals
    merged: dict[str, Any] = {}
    for mapping in reversed(template_globals.maps):
        if type(mapping) is not dict:
            return template_globals
        merged.update(mapping)
    return merged


class ScaffoldTemplate(Template):
    def new_context(
        self,
        vars: dict[str, Any] | None = None,  # noqa: A002 - Jinja's name
        shared: bool = False,  # noqa: FBT001, FBT002 - Jinja's signature
        locals: Mapping[str, Any] | None = None,  # noqa: A002 - Jinja's name
    ) -> Context:
        return new_context(
            self.environment, self.name, self.blocks, vars, shared, _flat(self.globals), locals
        )


class ScaffoldEnvironment(Environment):
    template_class = ScaffoldTemplate


def _default_context() -> dict[str, Any]:
    """What Quart's default context processor gives (g, request, session), called plainly."""
    context: dict[str, Any] = {}
    app_context = _cv_app.get(None)
    if app_context is not None:
        context["g"] = app_context.g
    request_context = _cv_request.get(None)
    if request_context is not None:
        context["request"] = request_context.request
        context["session"] = request_context.session
    return context


async def update_template_context(app: Any, context: dict[str, Any]) -> None:  # noqa: ANN401 - a Quart app
    """Quart's `update_template_context`, running its default processor as a function.

    The processors of the app and of the request's blueprints add their values where
    the view's context has none, as in Quart; Quart's own processor, an async function
    reading three context variables, is the one every page runs.
    """
    names: list[str | None] = [None]
    request_context = _cv_request.get(None)
    if request_context is not None:
        names.extend(reversed(request_context.request.blueprints))
    else:
        websocket_context = _cv_websocket.get(None)
        if websocket_context is not None:
            names.extend(reversed(websocket_context.websocket.blueprints))
    extra: dict[str, Any] = {}
    for name in names:
        for processor in app.template_context_processors[name]:
            if processor is _default_template_ctx_processor:
                extra.update(_default_context())
            else:
                extra.update(await app.ensure_async(processor)())
    original = context.copy()
    context.update(extra)
    context.update(original)


async def render_template(template_name_or_list: str | list[str], **context: Any) -> str:  # noqa: ANN401 - template variables
    """Quart's `render_template`; its two signals are sent only when someone listens."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # noqa: SLF001 - LocalProxy's documented accessor
    await app.update_template_context(context)
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    if before_render_template.receivers or template_rendered.receivers:
        return await _render(template, context, app)
    return await template.render_async(context)  # type: ignore[no-any-return]
