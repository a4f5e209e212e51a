"""Working out what a provider is and which parameters it wants injected."""

from __future__ import annotations

import functools
import inspect
import sys
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, get_args, get_origin

from ._errors import RegistrationError
from ._keys import describe

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


class Kind(Enum):
    """How the compiled plan turns a provider into an instance."""

    CALL = "call"  # a class or a plain function: call it
    AWAIT = "await"  # an async function: await its result
    GENERATOR = "generator"  # yields the instance once; the rest is cleanup
    ASYNC_GENERATOR = "async generator"
    INSTANCE = "instance"  # an existing object
    CONTAINER_CALL = "container call"  # the 0.9 form: `lambda c: ...`, opaque to validation
    ASYNC_CONTAINER_CALL = "async container call"

    @property
    def is_async(self) -> bool:
        return self in _ASYNC_KINDS


_ASYNC_KINDS = frozenset({Kind.AWAIT, Kind.ASYNC_GENERATOR, Kind.ASYNC_CONTAINER_CALL})


class Unresolved(str):
    """A string annotation naming something neither its module nor the container knows."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a provider, with its annotation evaluated (or the reason it was not).

    Parameters:
        name: the parameter's name.
        annotation: the evaluated annotation; `inspect.Parameter.empty` when there is none.
        error: why the annotation could not be evaluated, if it could not.
        has_default: a default exists, so it may be left out when nothing is registered.
        keyword: pass it by keyword (keyword-only, or after a left-out parameter).
    """

    name: str
    annotation: object
    error: str | None
    has_default: bool
    keyword_only: bool
    positional_only: bool


def provider_kind(provider: Callable[..., object]) -> Kind:  # noqa: PLR0911 - one per kind
    """Classify a provider given to `add_*` (an instance is classified by its caller)."""
    if isinstance(provider, type) or isinstance(get_origin(provider), type):
        return Kind.CALL
    if not callable(provider):
        raise RegistrationError(
            f"the provider {provider!r} is not callable: give a class, a factory function, "
            "or use add_instance() for an existing object"
        )
    call: Any = provider
    if not inspect.isroutine(call) and not isinstance(call, functools.partial):
        # A callable object: what matters is its __call__ method.
        call = type(provider).__call__
    if _is_container_form(provider):
        if inspect.iscoroutinefunction(call):
            return Kind.ASYNC_CONTAINER_CALL
        return Kind.CONTAINER_CALL
    if inspect.isasyncgenfunction(call):
        return Kind.ASYNC_GENERATOR
    if inspect.isgeneratorfunction(call):
        return Kind.GENERATOR
    if inspect.iscoroutinefunction(call):
        return Kind.AWAIT
    return Kind.CALL


def _is_container_form(provider: Callable[..., object]) -> bool:
    """The 0.9 form: a function whose only parameter is unannotated (`lambda c: ...`)."""
    try:
        parameters = list(inspect.signature(provider).parameters.values())
    except (TypeError, ValueError):
        return False
    if len(parameters) != 1:
        return False
    (only,) = parameters
    return (
        only.kind in {only.POSITIONAL_ONLY, only.POSITIONAL_OR_KEYWORD}
        and only.default is only.empty
        and only.annotation is only.empty
    )


def display_name(provider: object) -> str:
    """How a provider is named in messages: `UserService` or `make_session()`."""
    if isinstance(provider, type) or get_origin(provider) is not None:
        return describe(provider)
    name = describe(provider)
    return f"{name}()" if inspect.isroutine(provider) or inspect.isfunction(provider) else name


def parameters(
    provider: Callable[..., object], fallback_names: Mapping[str, object]
) -> list[Parameter]:
    """The injectable parameters of a provider (`*args` and `**kwargs` are not injected).

    String annotations (`from __future__ import annotations`) are evaluated in the
    provider's module; a name that is not found there is looked up among
    `fallback_names` (the registered types by name), which covers classes defined
    inside functions, as in tests.
    """
    target, substitutions = _signature_target(provider)
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError) as error:
        raise RegistrationError(
            f"cannot read the parameters of {display_name(provider)}: {error}"
        ) from error
    function: Any = target
    if isinstance(target, type):
        # The __init__ that runs, for its module's globals (string annotations).
        function = next(vars(c)["__init__"] for c in target.__mro__ if "__init__" in vars(c))
    function = inspect.unwrap(function)
    module_globals: dict[str, Any] = getattr(function, "__globals__", None) or vars(
        sys.modules.get(getattr(target, "__module__", ""), sys)
    )
    local_names: dict[str, Any] = {
        param.__name__: param for param in getattr(target, "__type_params__", ())
    }
    result = []
    params = list(signature.parameters.values())
    if isinstance(target, type) and params and _is_bound_self(target, params[0]):
        params = params[1:]
    for param in params:
        if param.kind in {param.VAR_POSITIONAL, param.VAR_KEYWORD}:
            continue
        annotation, problem = _evaluate(
            param.annotation, module_globals, local_names, fallback_names
        )
        if substitutions and problem is None:
            annotation = _substitute(annotation, substitutions)
        result.append(
            Parameter(
                name=param.name,
                annotation=annotation,
                error=problem,
                has_default=param.default is not param.empty,
                keyword_only=param.kind is param.KEYWORD_ONLY,
                positional_only=param.kind is param.POSITIONAL_ONLY,
            )
        )
    return result


def _is_bound_self(target: type, first: inspect.Parameter) -> bool:
    # inspect.signature(cls) already drops `self`; this guards odd metaclasses only.
    return first.name == "self" and first.annotation is first.empty and target is type


def _signature_target(
    provider: Callable[..., object],
) -> tuple[Callable[..., object], dict[object, object]]:
    """For `Repository[User]` as a provider: the class, and `{T: User}` to substitute."""
    origin = get_origin(provider)
    if isinstance(origin, type):
        type_params = getattr(origin, "__type_params__", ()) or getattr(
            origin, "__parameters__", ()
        )
        return origin, dict(zip(type_params, get_args(provider), strict=False))
    return provider, {}


def _evaluate(
    annotation: object,
    module_globals: dict[str, Any],
    local_names: dict[str, Any],
    fallback_names: Mapping[str, object],
) -> tuple[object, str | None]:
    if not isinstance(annotation, str):
        return annotation, None
    attempts = (local_names, {**fallback_names, **local_names})
    for names in attempts:
        try:
            return _eval(annotation, module_globals, names), None
        except NameError:
            continue
        except Exception as error:  # noqa: BLE001 - any failure is reported as a validation problem
            return (
                annotation,
                f"has the annotation {annotation!r}, which fails to evaluate: {error}",
            )
    # Neither the module nor the registrations know the name: nothing can be registered
    # for it, which validation reports like any missing registration.
    return Unresolved(annotation), None


def _eval(annotation: str, module_globals: dict[str, Any], names: Mapping[str, Any]) -> object:
    # The same evaluation typing.get_type_hints performs for string annotations; a quoted
    # annotation under `from __future__ import annotations` is a string twice over.
    value: object = annotation
    while isinstance(value, str):
        value = eval(value, module_globals, dict(names))  # noqa: S307 - annotations are code
    return value


def _substitute(annotation: object, substitutions: dict[object, object]) -> object:
    if annotation in substitutions:
        return substitutions[annotation]
    parameters_of = getattr(annotation, "__parameters__", ())
    if parameters_of:
        return annotation[tuple(substitutions.get(p, p) for p in parameters_of)]  # type: ignore[index]
    return annotation
