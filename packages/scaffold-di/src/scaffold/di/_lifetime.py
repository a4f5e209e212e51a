"""How long a resolved instance lives."""

from enum import Enum


class Lifetime(Enum):
    """The lifetime of a registration.

    SINGLETON: one instance for the container, created on first use.
    SCOPED: one instance per scope (a request, a task run, a CLI command).
    TRANSIENT: a new instance every time it is injected or resolved.
    """

    SINGLETON = "singleton"
    SCOPED = "scoped"
    TRANSIENT = "transient"
