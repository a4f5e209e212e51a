"""WTForms forms whose CSRF token is bound to the session, with async validation.

```python
from scaffold.web.forms import BaseForm
from wtforms import EmailField, validators

class SignUpForm(BaseForm):
    email = EmailField("Email address", [validators.InputRequired()])
```

In a template ``{{ form.csrf_token }}`` renders the hidden token field. ``form.validate()``
checks the token and the fields synchronously; ``await form.validate_async()`` also runs
validators that are coroutines (an ``async def validate_email(self, field)`` looking the
address up in a repository, say), and ``await form.validate_on_submit()`` does that for a
request with an unsafe method, reading the submitted form itself when the form was created
without data.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from quart import has_request_context, has_websocket_context, request, session
from wtforms import Field, Form
from wtforms.csrf.core import CSRF, CSRFTokenField
from wtforms.form import BaseForm as WTFormsBaseForm
from wtforms.validators import StopValidation, ValidationError

from ._csrf import FORM_FIELD, SAFE_METHODS, CSRFError, generate_csrf_token, validate_csrf_token

__all__ = ["BaseForm", "SessionCSRF"]

type _Validator = Callable[[Any, Any], Any]


class SessionCSRF(CSRF):
    """WTForms' CSRF hook, backed by the token stored in the Scaffold session."""

    def generate_csrf_token(self, csrf_token_field: CSRFTokenField) -> str:  # noqa: ARG002 - WTForms' signature
        _require_context()
        return generate_csrf_token(session)

    def validate_csrf_token(self, form: WTFormsBaseForm, field: CSRFTokenField) -> None:  # noqa: ARG002 - WTForms' signature
        _require_context()
        try:
            validate_csrf_token(session, field.data)
        except CSRFError as error:
            raise ValidationError(error.reason) from None


def _require_context() -> None:
    if not (has_request_context() or has_websocket_context()):
        raise RuntimeError(
            "a BaseForm with CSRF protection needs a request (its token lives in the "
            "session); outside a request create it with meta={'csrf': False}"
        )


class BaseForm(Form):
    """A WTForms form with a session-bound CSRF token field named ``csrf_token``."""

    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_field_name = FORM_FIELD

    @classmethod
    async def from_request(cls, **kwargs: Any) -> Self:  # noqa: ANN401 - WTForms' own keywords
        """A form filled from the current request's form data and files."""
        formdata = (await request.form).copy()
        formdata.update(await request.files)
        return cls(formdata, **kwargs)

    async def validate_on_submit(
        self, extra_validators: Mapping[str, Sequence[_Validator]] | None = None
    ) -> bool:
        """For an unsafe request: fill the form from it if needed, then `validate_async`."""
        if request.method in SAFE_METHODS:
            return False
        if not self.is_submitted_data_loaded():
            formdata = (await request.form).copy()
            formdata.update(await request.files)
            self.process(formdata)
        return await self.validate_async(extra_validators)

    def is_submitted_data_loaded(self) -> bool:
        """Whether the form was created from submitted data (rather than defaults)."""
        return bool(getattr(self, "_scaffold_formdata", False))

    def process(self, formdata: Any = None, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - WTForms' signature
        self._scaffold_formdata = formdata is not None
        super().process(formdata, *args, **kwargs)

    def validate(self, extra_validators: Mapping[str, Sequence[_Validator]] | None = None) -> bool:
        """Synchronous validation; refuses forms with async validators instead of skipping them."""
        chains = self._validator_chains(extra_validators)
        asynchronous = [
            f"{name}: {getattr(validator, '__qualname__', repr(validator))}"
            for name, validators in chains.items()
            for validator in validators
            if _is_async(validator)
        ]
        if asynchronous:
            raise TypeError(
                f"{type(self).__name__} has async validators ({', '.join(asynchronous)}); "
                f"call `await form.validate_async()` instead of `form.validate()`"
            )
        return super().validate(extra_validators)

    async def validate_async(
        self, extra_validators: Mapping[str, Sequence[_Validator]] | None = None
    ) -> bool:
        """Validate every field, awaiting validators that are coroutine functions."""
        chains = self._validator_chains(extra_validators)
        success = True
        for name, field in self._fields.items():
            if not await _validate_field(self, field, chains.get(name, ())):
                success = False
        return success

    def _validator_chains(
        self, extra_validators: Mapping[str, Sequence[_Validator]] | None
    ) -> dict[str, list[_Validator]]:
        """Per field: its own validators, then the extra ones, then ``validate_<name>``."""
        chains: dict[str, list[_Validator]] = {}
        for name, field in self._fields.items():
            chain = list(field.validators)
            if extra_validators and name in extra_validators:
                chain.extend(extra_validators[name])
            inline = getattr(type(self), f"validate_{name}", None)
            if inline is not None:
                chain.append(inline)
            chains[name] = chain
        return chains


def _is_async(validator: object) -> bool:
    return inspect.iscoroutinefunction(validator) or inspect.iscoroutinefunction(
        getattr(validator, "__call__", None)  # noqa: B004 - callable objects' own __call__
    )


async def _validate_field(form: BaseForm, field: Field, chain: Sequence[_Validator]) -> bool:
    """WTForms' Field.validate, with awaitable validators awaited."""
    field.errors = list(field.process_errors)
    stopped = False
    try:
        field.pre_validate(form)
    except StopValidation as stop:
        _record(field, stop)
        stopped = True
    except ValidationError as error:
        _errors(field).append(error.args[0])
    if not stopped:
        stopped = await _run_chain(form, field, chain)
    try:
        field.post_validate(form, stopped)
    except ValidationError as error:
        _errors(field).append(error.args[0])
    return not field.errors


async def _run_chain(form: BaseForm, field: Field, chain: Sequence[_Validator]) -> bool:
    """Run validators in order; True when one stopped the chain."""
    for validator in chain:
        try:
            result = validator(form, field)
            if inspect.isawaitable(result):
                await result
        except StopValidation as stop:
            _record(field, stop)
            return True
        except ValidationError as error:
            _errors(field).append(error.args[0])
    return False


def _errors(field: Field) -> list[str]:
    # WTForms declares errors as a Sequence; during validation it is the list being built.
    return field.errors  # type: ignore[return-value]


def _record(field: Field, stop: StopValidation) -> None:
    if stop.args and stop.args[0]:
        _errors(field).append(stop.args[0])
