"""scaffold.di: a dependency injection container with auto-wiring, scopes and validation.

See the package README for examples and docs/di.md for the guide.
"""

from ._container import Container
from ._errors import DependencyError, Problem, RegistrationError, ResolutionError, ValidationError
from ._lifetime import Lifetime
from ._override import Override
from ._scope import Scope

__all__ = [
    "Container",
    "DependencyError",
    "Lifetime",
    "Override",
    "Problem",
    "RegistrationError",
    "ResolutionError",
    "Scope",
    "ValidationError",
]
