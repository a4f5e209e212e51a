"""A registration: a key, how to provide it, and for how long the instance lives."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._keys import describe
from ._providers import Kind, display_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._lifetime import Lifetime


class _Missing:
    """The marker for "not created yet" in singleton cells and scope caches."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not created>"


MISSING = _Missing()
# The instance cache of every fresh scope, never written to: a plan that finds it there
# replaces it with a dict of its own.
NO_INSTANCES: dict[int, object] = {}
_ids = itertools.count(1)


def _new_cell() -> list[object]:
    return [MISSING]


@dataclass(eq=False, slots=True)
class Registration:
    """One `add_*` call.

    Parameters:
        key: what is asked for (a class, an ABC, a Protocol, `Repository[User]`, ...).
        lifetime: singleton, scoped or transient (an instance is a singleton).
        kind: how the provider produces the instance.
        provider: the class or factory; None for an instance.
        instance: the object given to add_instance().
        cell: where a singleton is kept once created; survives re-validation.
    """

    key: object
    lifetime: Lifetime
    kind: Kind
    provider: Callable[..., object] | None
    instance: object = None
    id: int = field(default_factory=lambda: next(_ids))
    cell: list[object] = field(default_factory=_new_cell)
    # For an open generic registration (`add_scoped(Repository, SqlRepository)`): the
    # registration made for each set of type arguments asked for, kept across rebuilds.
    closed: dict[tuple[object, ...], Registration] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return describe(self.key)

    @property
    def provider_name(self) -> str:
        if self.provider is None:
            return f"the instance {self.instance!r}"
        return display_name(self.provider)
