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
from quart.templating import Environment

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
