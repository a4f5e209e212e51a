"""Quart's request and websocket classes with the blueprint lookup remembered.

Quart recomputes ``request.blueprints`` (splitting the endpoint name) each time a hook
list, an error handler or a context processor is looked up: four times or more per
request for a controller route. The endpoint is fixed once the URL is matched, so the
answer is kept, keyed by the matched rule.
"""

from __future__ import annotations

from typing import Any

from quart.wrappers import Request, Websocket


class _BlueprintsCache:
    _scaffold_blueprints: tuple[Any, list[str]] | None = None

    @property
    def blueprints(self) -> list[str]:
        rule = self.url_rule  # type: ignore[attr-defined]
        cached = self._scaffold_blueprints
        if cached is None or cached[0] is not rule:
            cached = (rule, super().blueprints)  # type: ignore[misc]
            self._scaffold_blueprints = cached
        return cached[1]


class ScaffoldRequest(_BlueprintsCache, Request):
    pass


class ScaffoldWebsocket(_BlueprintsCache, Websocket):
    pass
