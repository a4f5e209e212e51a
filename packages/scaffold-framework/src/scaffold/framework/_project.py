"""`scaffold new` and `scaffold update`: generate a project from the template, update it later."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import keyword
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from ._template_repository import TemplateRepository, TemplateRepositoryError

if TYPE_CHECKING:
    from collections.abc import Mapping

ANSWERS_FILE: Final = ".copier-answers.yml"
_PROJECT_NAME: Final = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
# Names a generated package must not take: they would shadow what the project imports.
_ANSWER_LINE: Final = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<value>.*)")
_MAX_DESCRIPTION: Final = 80
# Longer package names would push the generated imports over the line length of 100.
MAX_NAME_LENGTH: Final = 32
_TAKEN_NAMES: Final = frozenset({"scaffold", "tests", "test", "migrations", "alembic", "click"})


class ProjectError(Exception):
    """The project cannot be generated or updated; the message says why and what to do."""


def bundled_template() -> Path:
    """The project template that ships with this version of scaffold-framework."""
    return Path(str(importlib.resources.files("scaffold.framework") / "template"))


def framework_version() -> str:
    return importlib.metadata.version("scaffold-framework")


def package_name_for(project_name: str) -> str:
    """Check a project name (`my-shop`) and derive its Python package name (`my_shop`)."""
    if not _PROJECT_NAME.fullmatch(project_name) or len(project_name) > MAX_NAME_LENGTH:
        raise ProjectError(
            f"project name {project_name!r} is not valid: use at most {MAX_NAME_LENGTH} "
            "lower-case letters, digits and single dashes, starting with a letter (for "
            "example my-shop)"
        )
    package = project_name.replace("-", "_")
    if keyword.iskeyword(package) or package in _TAKEN_NAMES:
        raise ProjectError(
            f"project name {project_name!r} would make the package {package!r}, which "
            "shadows a module the project needs; pick another name"
        )
    return package


def _register(repository: TemplateRepository, template: Path | None, version: str | None) -> str:
    try:
        return repository.register(template or bundled_template(), version or framework_version())
    except TemplateRepositoryError as error:
        raise ProjectError(str(error)) from error


def new_project(
    destination: Path,
    *,
    project_name: str | None = None,
    description: str | None = None,
    python_version: str | None = None,
    repository: TemplateRepository | None = None,
    template: Path | None = None,
    template_version: str | None = None,
    git_init: bool = True,
) -> Path:
    """Render the project template into `destination`, which must not exist or be empty.

    Parameters:
        destination: the project folder; its name is the project name unless one is given.
        repository: the template repository (the default one unless given).
        template, template_version: another template and its version instead of the bundled
            one; for testing templates.
        git_init: make the folder a git repository (needed later by `scaffold update`).
    """
    destination = destination.resolve()
    name = project_name or destination.name
    package = package_name_for(name)
    if destination.exists() and any(destination.iterdir()):
        raise ProjectError(f"{destination} exists and is not empty; pick a new folder")
    if description is not None and (
        len(description) > _MAX_DESCRIPTION or {'"', "\\", "\n"} & set(description)
    ):
        raise ProjectError(
            f"description {description!r} is not valid: keep it to one sentence of at most "
            f'{_MAX_DESCRIPTION} characters, without " or \\'
        )
    repository = repository or TemplateRepository()
    tag = _register(repository, template, template_version)
    data: dict[str, str] = {"project_name": name, "package_name": package}
    if description is not None:
        data["description"] = description
    if python_version is not None:
        data["python_version"] = python_version
    import copier  # noqa: PLC0415 - a second to import; only `new` and `update` need it

    copier.run_copy(
        repository.location,
        destination,
        data=data,
        vcs_ref=tag,
        defaults=True,
        quiet=True,
        unsafe=False,
    )
    if git_init and shutil.which("git") is not None:
        _run(destination, "git", "init", "--quiet", "--initial-branch=main")
        _run(destination, "git", "add", "--all")
    return destination


def _run(cwd: Path, *command: str) -> None:
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)  # noqa: S603 - fixed commands, no shell
    if completed.returncode != 0:
        raise ProjectError(f"{' '.join(command)} failed in {cwd}: {completed.stderr.strip()}")


def read_answers(project: Path) -> Mapping[str, object]:
    answers = project / ANSWERS_FILE
    if not answers.is_file():
        raise ProjectError(
            f"{project} has no {ANSWERS_FILE}: it was not generated by `scaffold new`, so "
            "there is no template version to update from"
        )
    # copier writes one `key: scalar` line per answer; only scalars are read back here.
    loaded: dict[str, object] = {}
    for line in answers.read_text(encoding="utf-8").splitlines():
        match = _ANSWER_LINE.fullmatch(line)
        if match:
            loaded[match["key"]] = match["value"].strip().strip("'\"")
    if "_commit" not in loaded or "_src_path" not in loaded:
        raise ProjectError(f"{answers} does not say which template version made the project")
    return loaded


def update_project(
    project: Path,
    *,
    repository: TemplateRepository | None = None,
    template: Path | None = None,
    template_version: str | None = None,
    conflict: Literal["inline", "rej"] = "inline",
) -> str:
    """Merge the newest template into a generated project, keeping its local changes.

    The project must be a git repository with everything committed: the update then shows
    as an ordinary diff to review. Returns the template version the project is now on.
    """
    project = project.resolve()
    answers = read_answers(project)
    old = str(answers.get("_commit", ""))
    repository = repository or TemplateRepository()
    recorded = str(answers.get("_src_path", ""))
    if Path(recorded).expanduser() != repository.path:
        raise ProjectError(
            f"{project} was generated from the template repository {recorded!r}, not "
            f"{repository.location!r}; set SCAFFOLD_TEMPLATE_REPOSITORY={recorded} to use it"
        )
    tag = _register(repository, template, template_version)
    if not repository.has(old):
        raise ProjectError(
            f"{project} was generated from template {old}, which the template repository "
            f"{repository.location} does not hold (it keeps the versions installed on this "
            "machine). Add it by running that version's `scaffold template register` once, "
            f"e.g. `uvx --from scaffold-framework=={old.removeprefix('v')} scaffold template "
            "register`, then update again"
        )
    if old == tag:
        return tag
    import copier  # noqa: PLC0415 - a second to import; only `new` and `update` need it

    try:
        copier.run_update(
            project,
            vcs_ref=tag,
            defaults=True,
            overwrite=True,
            quiet=True,
            conflict=conflict,
            unsafe=False,
            skip_answered=True,
        )
    except copier.errors.UserMessageError as error:  # dirty work tree, downgrade, ...
        raise ProjectError(str(error)) from error
    return tag
