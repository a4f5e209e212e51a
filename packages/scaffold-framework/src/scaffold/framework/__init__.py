"""scaffold.framework: the umbrella distribution of Scaffold and its `scaffold` command.

`pip install scaffold-framework` installs every Scaffold package. This module offers the
`scaffold` command as a click group, and project generation as functions.
"""

from ._cli import ScaffoldCommand, scaffold_command
from ._mounts import ENTRY_POINT_GROUP, Mount
from ._project import ProjectError, bundled_template, new_project, update_project
from ._template_repository import TemplateRepository, TemplateRepositoryError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Mount",
    "ProjectError",
    "ScaffoldCommand",
    "TemplateRepository",
    "TemplateRepositoryError",
    "bundled_template",
    "new_project",
    "scaffold_command",
    "update_project",
]
