"""scaffold.cli: a CLI app framework on click whose commands get their dependencies injected.

```python
from scaffold.cli import CliApp

app = CliApp("myapp", container=bootstrap)

@app.command()
@click.argument("name")
async def greet(name: str, greeter: Greeter) -> None:
    click.echo(await greeter.greet(name))
```
"""

from ._command import Command, command
from ._container import ContainerFactory
from ._errors import CommandError, ExitCode
from ._group import CliApp, Group, group
from ._logging import ConsoleFormatter, JsonFormatter, LogFormat, configure_logging
from ._plan import CommandDefinitionError
from ._progress import Progress, ProgressTask

__all__ = [
    "CliApp",
    "Command",
    "CommandDefinitionError",
    "CommandError",
    "ConsoleFormatter",
    "ContainerFactory",
    "ExitCode",
    "Group",
    "JsonFormatter",
    "LogFormat",
    "Progress",
    "ProgressTask",
    "command",
    "configure_logging",
    "group",
]
