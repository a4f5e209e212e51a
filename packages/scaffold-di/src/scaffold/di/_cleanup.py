"""Running generator factories' cleanup when a scope (or the container) closes."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

from ._errors import ResolutionError


def close_sync(exits: list[Any], error: BaseException | None) -> None:
    """Finish every generator in `exits`, newest first; raise what they raised afterwards.

    `error` (what ended the scope, if anything) is thrown into each generator at its
    `yield`, so a factory can roll back; a generator re-raising it is not an extra error.
    """
    errors: list[BaseException] = []
    pending_async: list[str] = []
    while exits:
        generator = exits.pop()
        if isinstance(generator, AsyncGenerator):
            pending_async.append(_name(generator))
            continue
        _finish(generator, error, errors)
    if pending_async:
        errors.append(
            ResolutionError(
                "async generator factories cannot be closed from synchronous code: "
                f"{', '.join(pending_async)}; close with `await ... aclose()` or "
                "`async with` instead"
            )
        )
    _raise(errors)


async def close_async(exits: list[Any], error: BaseException | None) -> None:
    """Like `close_sync`, awaiting async generators as well."""
    errors: list[BaseException] = []
    while exits:
        generator = exits.pop()
        if isinstance(generator, AsyncGenerator):
            await _afinish(generator, error, errors)
        else:
            _finish(generator, error, errors)
    _raise(errors)


def _finish(
    generator: Generator[object], error: BaseException | None, errors: list[BaseException]
) -> None:
    try:
        if error is None:
            next(generator)
        else:
            generator.throw(error)
    except StopIteration:
        return
    except BaseException as raised:  # noqa: BLE001 - collected and raised after the others ran
        if raised is not error:
            errors.append(raised)
        return
    generator.close()
    errors.append(_yielded_twice(_name(generator)))


async def _afinish(
    generator: AsyncGenerator[object], error: BaseException | None, errors: list[BaseException]
) -> None:
    try:
        if error is None:
            await anext(generator)
        else:
            await generator.athrow(error)
    except StopAsyncIteration:
        return
    except BaseException as raised:  # noqa: BLE001 - collected and raised after the others ran
        if raised is not error:
            errors.append(raised)
        return
    await generator.aclose()
    errors.append(_yielded_twice(_name(generator)))


def _name(generator: object) -> str:
    return str(getattr(generator, "__qualname__", generator))


def _yielded_twice(name: str) -> ResolutionError:
    return ResolutionError(
        f"the generator factory {name}() yielded more than once; a factory yields its "
        "instance exactly once and cleans up after that yield"
    )


def _raise(errors: list[BaseException]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BaseExceptionGroup("errors while closing generator factories", errors)
