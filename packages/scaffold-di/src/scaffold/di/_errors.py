"""The exceptions the container raises, all under `DependencyError`."""

from __future__ import annotations

from dataclasses import dataclass


class DependencyError(Exception):
    """Base class of every error the container raises about its own use."""


class RegistrationError(DependencyError, TypeError):
    """A registration was refused: the key or the provider cannot work as given."""


class ResolutionError(DependencyError):
    """A service could not be resolved at run time (missing scope, async from sync, ...)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found by validation.

    Parameters:
        path: the services from a registered root down to where the problem is,
            as display names (`("HomeController", "UserService", "NotificationService")`).
        message: what is wrong there, and what to do about it.
    """

    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return f"{' -> '.join(self.path)}: {self.message}"


class ValidationError(DependencyError):
    """The dependency graph has problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        lines = [f"the container's dependency graph has {heading}:"]
        lines.extend(f"  - {problem}" for problem in problems)
        super().__init__("\n".join(lines))
