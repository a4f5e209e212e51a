"""Injected commands: what they receive, one DI scope per run, definition errors, exit codes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import click
import pytest
from click.testing import CliRunner

from scaffold.cli import (
    CliApp,
    CommandDefinitionError,
    CommandError,
    ExitCode,
    Progress,
    command,
    group,
)
from scaffold.di import Container


class Greeter:
    def greet(self, name: str) -> str:
        return f"Hello, {name}!"


class Counter:
    """A scoped service: one per command run."""

    instances = 0

    def __init__(self) -> None:
        Counter.instances += 1
        self.number = Counter.instances


class Unregistered:
    pass


def make_container() -> Container:
    container = Container()
    container.add_singleton(Greeter)
    container.add_scoped(Counter)
    return container


def run(app: click.Command, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


class TestInjection:
    def test_async_function_gets_arguments_and_services(self) -> None:
        """An async command receives its click argument and a service resolved by type."""
        app = CliApp("demo", container=make_container)

        @app.command()
        @click.argument("name")
        async def hello(name: str, greeter: Greeter) -> None:
            click.echo(greeter.greet(name))

        assert run(app, "hello", "Ada") == (0, "Hello, Ada!\n")

    def test_sync_function_gets_services(self) -> None:
        """A sync command receives its services too, and runs outside any event loop."""
        app = CliApp("demo", container=make_container)

        @app.command()
        @click.option("--times", type=int, default=1)
        def hello(times: int, greeter: Greeter) -> None:
            import asyncio  # noqa: PLC0415 - shows that a sync command may start a loop

            async def twice() -> str:
                return greeter.greet("Bob") * times

            click.echo(asyncio.run(twice()))

        assert run(app, "hello", "--times", "2") == (0, "Hello, Bob!Hello, Bob!\n")

    def test_class_command_gets_services_in_init_and_options_in_call(self) -> None:
        """A class command is built with its dependencies and called with the options."""
        app = CliApp("demo", container=make_container)

        @app.command()
        @click.argument("name")
        class Hello:
            """Say hello."""

            def __init__(self, greeter: Greeter) -> None:
                self.greeter = greeter

            async def __call__(self, name: str) -> None:
                click.echo(self.greeter.greet(name))

        assert run(app, "hello", "Cy") == (0, "Hello, Cy!\n")
        assert "Say hello." in run(app, "hello", "--help")[1]

    def test_each_run_has_a_scope_of_its_own(self) -> None:
        """A scoped service is shared within one run and new in the next run."""
        app = CliApp("demo", container=make_container())
        seen: list[tuple[int, int]] = []

        @app.command()
        async def count(first: Counter, second: Counter) -> None:
            seen.append((first.number, second.number))

        run(app, "count")
        run(app, "count")
        assert seen[0][0] == seen[0][1]
        assert seen[1][0] == seen[1][1]
        assert seen[0][0] != seen[1][0]

    def test_the_run_context_is_injectable(self) -> None:
        """A command can ask for its click context and a Progress by type."""
        app = CliApp("demo", container=make_container)

        @app.command()
        async def where(ctx: click.Context, progress: Progress) -> None:
            click.echo(f"{ctx.command_path} {type(progress).__name__}")

        assert run(app, "where") == (0, "demo where Progress\n")

    def test_a_factory_container_is_built_per_run_and_closed(self) -> None:
        """A container factory runs for each command run, whose end closes the container."""
        events: list[str] = []

        async def resource() -> AsyncIterator[Greeter]:
            events.append("open")
            yield Greeter()
            events.append("close")

        def factory() -> Container:
            events.append("build")
            container = Container()
            container.add_singleton(Greeter, resource)
            return container

        app = CliApp("demo", container=factory)

        @app.command()
        async def use(greeter: Greeter) -> None:
            events.append("run")

        assert run(app, "use")[0] == 0
        assert events == ["build", "open", "run", "close"]

    def test_init_functions_of_a_given_container_run_once(self) -> None:
        """A container given as is gets `init()` once, however many commands run."""
        calls: list[str] = []
        container = make_container()
        container.add_init_function(lambda: calls.append("init"))
        app = CliApp("demo", container=container)

        @app.command()
        def greet(greeter: Greeter) -> None:
            pass

        run(app, "greet")
        run(app, "greet")
        assert calls == ["init"]

    def test_a_command_needing_nothing_from_the_container_never_builds_it(self) -> None:
        """Commands that ask only for the run's own objects do not build the application."""

        def factory() -> Container:
            raise AssertionError("built")

        app = CliApp("demo", container=factory)

        @app.command()
        def plain(ctx: click.Context) -> None:
            click.echo(ctx.command_path)

        assert run(app, "plain") == (0, "demo plain\n")

    def test_test_overrides_reach_the_command(self) -> None:
        """`container.override` replaces a service for the commands run inside it."""

        class FakeGreeter(Greeter):
            def greet(self, name: str) -> str:
                return f"fake {name}"

        container = make_container()
        app = CliApp("demo", container=container)

        @app.command()
        @click.argument("name")
        async def hello(name: str, greeter: Greeter) -> None:
            click.echo(greeter.greet(name))

        with container.override(Greeter, FakeGreeter()):
            assert run(app, "hello", "Ed") == (0, "fake Ed\n")
        assert run(app, "hello", "Ed") == (0, "Hello, Ed!\n")

    def test_help_does_not_build_the_container(self) -> None:
        """`--help` and usage errors never call the container factory."""

        def factory() -> Container:
            raise AssertionError("built")

        app = CliApp("demo", container=factory)

        @app.command()
        async def use(greeter: Greeter) -> None:
            pass

        assert run(app, "--help")[0] == 0
        assert run(app, "use", "--help")[0] == 0
        assert run(app, "use", "--bogus")[0] == ExitCode.USAGE


class TestGroups:
    def test_subgroups_inject_too(self) -> None:
        """Commands of a subgroup made with `app.group()` get their services injected."""
        app = CliApp("demo", container=make_container)

        @app.group()
        def users() -> None:
            """Manage users."""

        @users.command()
        @click.argument("name")
        async def welcome(name: str, greeter: Greeter) -> None:
            click.echo(greeter.greet(name))

        assert run(app, "users", "welcome", "Di") == (0, "Hello, Di!\n")
        assert "welcome" in run(app, "users", "--help")[1]

    def test_commands_defined_apart_are_added(self) -> None:
        """`command()` and `group()` make commands to add to an app later, and plain click
        commands mount as they are."""

        @command()
        async def hello(greeter: Greeter) -> None:
            click.echo(greeter.greet("module"))

        @group()
        def tools() -> None:
            """Tools."""

        @click.command()
        def plain() -> None:
            click.echo("plain")

        tools.add_command(plain)
        app = CliApp("demo", container=make_container, commands=[hello, tools])
        assert run(app, "hello") == (0, "Hello, module!\n")
        assert run(app, "tools", "plain") == (0, "plain\n")

    def test_version_option(self) -> None:
        """`version=` adds `--version`, which prints the name and version."""
        app = CliApp("demo", container=make_container, version="1.2.3")
        assert run(app, "--version") == (0, "demo 1.2.3\n")


class TestDefinitionErrors:
    def test_a_parameter_neither_option_nor_annotated_is_refused(self) -> None:
        """A parameter with no option and no type is refused when the command is defined."""
        with pytest.raises(CommandDefinitionError, match="'mystery'"):

            @command()
            def broken(mystery) -> None:  # type: ignore[no-untyped-def]
                pass

    def test_an_option_without_a_parameter_is_refused(self) -> None:
        """An option whose name no parameter takes is refused, naming the option."""
        with pytest.raises(CommandDefinitionError, match="verbose"):

            @command()
            @click.option("--verbose", is_flag=True)
            def broken() -> None:
                pass

    def test_variadic_parameters_are_refused(self) -> None:
        """`*args` cannot be filled by name, so it is refused."""
        with pytest.raises(CommandDefinitionError, match=r"\*args"):

            @command()
            def broken(*args: str) -> None:
                pass

    def test_a_class_without_call_is_refused(self) -> None:
        """A class command must have `__call__`."""
        with pytest.raises(CommandDefinitionError, match="__call__"):

            @command()
            class Broken:
                pass

    def test_class_call_parameters_must_be_options(self) -> None:
        """Dependencies of a class command belong in `__init__`, and the error says so."""
        with pytest.raises(CommandDefinitionError, match="__init__"):

            @command()
            class Broken:
                def __call__(self, greeter: Greeter) -> None:
                    pass


class TestExitCodes:
    def test_command_error_prints_its_message_and_exits_with_its_code(self) -> None:
        """CommandError ends the run with `Error: <message>` and the chosen code."""
        app = CliApp("demo", container=make_container)

        @app.command()
        def fail() -> None:
            raise CommandError("the input file is empty", exit_code=4)

        assert run(app, "fail") == (4, "Error: the input file is empty\n")

    def test_command_error_refuses_a_success_code(self) -> None:
        """A failure cannot exit with 0 (or outside 1..255)."""
        with pytest.raises(ValueError, match=r"1\.\.255"):
            CommandError("no", exit_code=0)

    def test_a_missing_dependency_exits_78_naming_it(self) -> None:
        """A service the container cannot provide gives exit code 78 and a message naming it."""
        app = CliApp("demo", container=make_container)

        @app.command()
        async def needy(thing: Unregistered) -> None:
            pass

        code, output = run(app, "needy")
        assert code == ExitCode.CONFIG == 78
        assert "cannot get its dependencies" in output
        assert "Unregistered" in output

    def test_an_unexpected_exception_exits_1_with_the_traceback(self) -> None:
        """A bug in a command exits with 1, the traceback written by logging."""
        app = CliApp("demo", container=make_container)

        @app.command()
        async def crash() -> None:
            raise RuntimeError("boom")

        code, output = run(app, "--log-format", "json", "crash")
        assert code == ExitCode.FAILURE
        assert "RuntimeError: boom" in output

    def test_usage_errors_exit_2_naming_the_option(self) -> None:
        """An invalid option value exits with 2 and says which option was wrong."""
        app = CliApp("demo", container=make_container)

        @app.command()
        @click.option("--count", type=click.IntRange(1, 10), required=True)
        def repeat(count: int) -> None:
            pass

        code, output = run(app, "repeat", "--count", "11")
        assert code == ExitCode.USAGE
        assert "--count" in output
        assert "11" in output

    def test_interrupt_exits_130(self) -> None:
        """Ctrl-C during a command exits with 130."""
        app = CliApp("demo", container=make_container)

        @app.command()
        async def wait() -> None:
            raise KeyboardInterrupt

        assert run(app, "wait") == (ExitCode.INTERRUPTED, "Aborted.\n")

    def test_injection_without_a_container_exits_78(self) -> None:
        """An app without a container refuses commands that need services, with 78."""
        app = CliApp("demo")

        @app.command()
        def needy(greeter: Greeter) -> None:
            pass

        @app.command()
        def bare(ctx: click.Context) -> None:
            click.echo(ctx.command_path)

        code, output = run(app, "needy")
        assert code == ExitCode.CONFIG
        assert "Greeter" in output
        assert run(app, "bare") == (0, "demo bare\n")

    def test_a_real_process_exits_with_the_documented_codes(self, tmp_path) -> None:
        """Run as a program, the exit status is what a shell script sees."""
        script = tmp_path / "tool.py"
        script.write_text(
            textwrap.dedent(
                """
                import click
                from scaffold.cli import CliApp, CommandError
                from scaffold.di import Container

                app = CliApp("tool", container=Container)

                @app.command()
                def ok() -> None:
                    click.echo("fine")

                @app.command()
                def refuse() -> None:
                    raise CommandError("refused", exit_code=3)

                app()
                """
            )
        )
        codes = {}
        for args in (["ok"], ["refuse"], ["nope"]):
            completed = subprocess.run(
                [sys.executable, str(script), *args], capture_output=True, text=True, check=False
            )
            codes[args[0]] = (completed.returncode, completed.stdout, completed.stderr)
        assert codes["ok"] == (0, "fine\n", "")
        assert codes["refuse"][0] == 3
        assert codes["refuse"][2] == "Error: refused\n"
        assert codes["nope"][0] == ExitCode.USAGE
