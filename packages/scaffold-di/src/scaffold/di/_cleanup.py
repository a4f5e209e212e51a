"""Running generator factories' cleanup when a scope (or the container) closes."""

from __future__ import annotations

from types import AsyncGeneratorType
from typing import Any

from ._errors import ResolutionError

DONE = object()


def close_sync(exits: list[Any], error: BaseException | None) -> None:
    """Finish every generator in `exits`, newest first; raise what they raised afterwards.

    `error` (what ended the scope, if anything) is thrown into each generator at its
    `yield`, so a factory can roll back; a generator re-raising it is not an extra error.
    """
    errors: list[BaseException] = []
    while exits:
        generator = exits.pop()
        if type(generator) is AsyncGeneratorType:
            errors.append(
                ResolutionError(
                    f"the async generator factory {_name(generator)}() cannot be closed from "
                    "synchronous code; close with `await ... aclose()` or `async with` instead"
                )
            )
            continue
        try:
            # next() with a default finishes a generator without raising StopIteration.
            if error is None:
                if next(generator, DONE) is DONE:
                    continue
            else:
                generator.throw(error)
        except StopIteration:
            continue
        except BaseException as raised:  # noqa: BLE001 - collected and raised after the others ran
            if raised is not error:
                errors.append(raised)
            continue
        generator.close()
        errors.append(yielded_twice(generator))
    if errors:
        _raise(errors)


async def close_async(exits: list[Any], error: BaseException | None) -> None:
    """Like `close_sync`, awaiting async generators as well."""
    errors: list[BaseException] = []
    for generator in reversed(exits):
        if type(generator) is not AsyncGeneratorType:
            try:
                close_sync([generator], error)
            except BaseException as raised:  # noqa: BLE001 - collected like the others
                errors.append(raised)
            continue
        try:
            if error is None:
                if await anext(generator, DONE) is DONE:
                    continue
            else:
                await generator.athrow(error)
        except StopAsyncIteration:
            continue
        except BaseException as raised:  # noqa: BLE001 - collected and raised after the others ran
            if raised is not error:
                errors.append(raised)
            continue
        await generator.aclose()
        errors.append(yielded_twice(generator))
    exits.clear()
    if errors:
        _raise(errors)


def _name(generator: object) -> str:
    return str(getattr(generator, "__qualname__", generator))


def yielded_twice(generator: object) -> ResolutionError:
    return ResolutionError(
        f"the generator factory {_name(generator)}() yielded more than once; a factory yields "
        "its instance exactly once and cleans up after that yield"
    )


def _raise(errors: list[BaseException]) -> None:
    if len(errors) == 1:
        raise errors[0]
    raise BaseExceptionGroup("errors while closing generator factories", errors)
