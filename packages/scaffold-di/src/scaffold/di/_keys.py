"""What can be registered as a key, and how keys and annotations are named in messages."""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Annotated, NewType, TypeAliasType, get_args, get_origin

# Annotations that ask for every implementation registered for their item type.
SEQUENCE_ORIGINS: dict[object, type] = {
    collections.abc.Sequence: list,
    collections.abc.Iterable: list,
    collections.abc.Collection: list,
    list: list,
    tuple: tuple,
}


def is_key(key: object) -> bool:
    """A class, a parametrised generic, `Annotated[...]`, a NewType or a `type` alias."""
    if isinstance(key, type | NewType | TypeAliasType):
        return True
    try:
        hash(key)
    except TypeError:
        return False
    return get_origin(key) is not None


def describe(key: object) -> str:
    """A short readable name: `Repository[User]`, `Annotated[str, 'dsn']`, `Service`."""
    origin = get_origin(key)
    if origin is not None:
        return _describe_generic(key, origin)
    if key is None or key is types.NoneType:
        return "None"
    if isinstance(key, str):  # an annotation string that could not be evaluated
        return key
    name = getattr(key, "__qualname__", None) or getattr(key, "__name__", None)
    if isinstance(name, str):
        return name.rsplit("<locals>.", 1)[-1]  # a class local to a function: its own name
    return repr(key)


def _describe_generic(key: object, origin: object) -> str:
    args = get_args(key)
    if origin is Annotated:
        extras = ", ".join(repr(item) for item in args[1:])
        return f"Annotated[{describe(args[0])}, {extras}]"
    if origin in {typing.Union, types.UnionType}:
        return " | ".join(describe(arg) for arg in args)
    inner = ", ".join("..." if arg is Ellipsis else describe(arg) for arg in args)
    return f"{describe(origin)}[{inner}]"


def sequence_item(annotation: object) -> tuple[type, object] | None:
    """For `Sequence[T]`, `list[T]`, `tuple[T, ...]`: the collection type and `T`."""
    origin = get_origin(annotation)
    collection = SEQUENCE_ORIGINS.get(origin)
    if collection is None:
        return None
    args = get_args(annotation)
    if collection is tuple:
        if len(args) == 2 and args[1] is Ellipsis:  # noqa: PLR2004 - tuple[T, ...]
            return tuple, args[0]
        return None
    if len(args) == 1:
        return collection, args[0]
    return None


def optional_inner(annotation: object) -> object | None:
    """For `T | None` (or `Optional[T]`): `T`; otherwise None."""
    if get_origin(annotation) not in {typing.Union, types.UnionType}:
        return None
    args: list[object] = [arg for arg in get_args(annotation) if arg is not types.NoneType]
    if len(args) == 1 and len(get_args(annotation)) == 2:  # noqa: PLR2004 - T and None
        return args[0]
    return None


def annotated_base(annotation: object) -> object | None:
    """For `Annotated[T, ...]`: `T`; otherwise None."""
    if get_origin(annotation) is Annotated:
        base: object = get_args(annotation)[0]
        return base
    return None
