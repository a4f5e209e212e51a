"""The examples in the README and in docs/tasks.md run, so the documentation cannot rot."""

from __future__ import annotations

import asyncio
import re
import sys
import types
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
GUIDE = PACKAGE.parents[1] / "docs" / "tasks.md"
EXAMPLE = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```", re.DOTALL)


def examples(path: Path) -> dict[str, str]:
    return {match["name"]: match["code"] for match in EXAMPLE.finditer(path.read_text())}


def run_example(path: Path, name: str) -> dict[str, Any]:
    """Execute one example as a module of its own (dataclasses need it in sys.modules)."""
    module = types.ModuleType(f"scaffold_tasks_docs_{name.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        exec(compile(examples(path)[name], f"{path.name}:{name}", "exec"), module.__dict__)  # noqa: S102 - the documented example
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


# Examples that call asyncio.run() run in a thread, off the test's own event loop.


class TestReadme:
    async def test_quickstart(self, tmp_path, monkeypatch, capsys):
        """The first example runs the due task and leaves the delayed one queued."""
        monkeypatch.chdir(tmp_path)
        await asyncio.to_thread(run_example, README, "quickstart")
        assert capsys.readouterr().out == "welcome mail to ada@example.com\n"
        assert (tmp_path / "tasks.db").exists()

    async def test_container(self, capsys):
        """The container example injects the chatbot and the task's context."""
        await asyncio.to_thread(run_example, README, "container")
        assert capsys.readouterr().out == "hello user 7 (attempt 1)\n"

    async def test_manager(self, capsys):
        """The task manager example waits for its background task on exit."""
        await asyncio.to_thread(run_example, README, "manager")
        assert capsys.readouterr().out == "sent to ada@example.com\n"

    async def test_unit_test_example(self):
        """The unit-test example passes."""
        namespace = run_example(README, "test")
        await namespace["test_sign_up_queues_a_welcome_email"]()

    def test_every_example_is_covered(self):
        """Each README example has a test here."""
        assert set(examples(README)) == {"quickstart", "container", "manager", "test"}


class TestGuide:
    async def test_worker_inside_a_quart_app(self, tmp_path, monkeypatch):
        """The guide's Quart app runs its worker while serving and stops it with the server."""
        monkeypatch.chdir(tmp_path)
        namespace = run_example(GUIDE, "quart")
        app = namespace["app"]
        async with app.test_app() as test_app:
            response = await test_app.test_client().post("/orders/42")
            assert await response.get_data(as_text=True) == "thanks!"
            for _ in range(500):
                if namespace["ThankHandler"].thanked:
                    break
                await asyncio.sleep(0.01)
        assert namespace["ThankHandler"].thanked == [42]
        assert not namespace["worker"]._running

    async def test_testing_example(self):
        """The guide's unit test with a clock of its own passes."""
        namespace = run_example(GUIDE, "testing")
        await namespace["test_charging"]()

    def test_every_example_is_covered(self):
        """Each guide example has a test here."""
        assert set(examples(GUIDE)) == {"quart", "testing"}
