"""The examples in the README and in docs/di.md run, so the documentation cannot rot."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
GUIDE = PACKAGE.parents[1] / "docs" / "di.md"
EXAMPLE = re.compile(r"<!-- example: (?P<name>[\w-]+) -->\n```python\n(?P<code>.*?)```", re.DOTALL)


def examples(path: Path) -> dict[str, str]:
    return {match["name"]: match["code"] for match in EXAMPLE.finditer(path.read_text())}


def run_example(path: Path, name: str) -> dict[str, Any]:
    """Execute one example as a module of its own (dataclasses need it in sys.modules)."""
    module = types.ModuleType(f"scaffold_di_docs_{name.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        exec(compile(examples(path)[name], f"{path.name}:{name}", "exec"), module.__dict__)  # noqa: S102 - the documented example
    finally:
        del sys.modules[module.__name__]
    return module.__dict__


class TestReadme:
    def test_script(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The plain-script example runs and prints both greetings."""
        run_example(README, "script")
        assert capsys.readouterr().out.splitlines() == [
            "hello Ada from sqlite://",
            "hello Grace from sqlite://",
        ]

    async def test_quart(self) -> None:
        """The Quart example serves a request from a per-request scope."""
        pytest.importorskip("quart")
        namespace = run_example(README, "quart")
        app = namespace["app"]
        async with app.test_app() as test_app:
            response = await test_app.test_client().get("/?name=Ada")
            assert await response.get_data(as_text=True) == "hello Ada"

    def test_override(self) -> None:
        """The test example passes when run."""
        namespace = run_example(README, "test")
        namespace["test_sign_up_sends_a_welcome_mail"]()

    def test_every_example_is_covered(self) -> None:
        """Each README example has a test here."""
        assert set(examples(README)) == {"script", "quart", "test"}


class TestGuide:
    @pytest.mark.parametrize("name", ["unit-of-work", "context", "parameters"])
    def test_example_runs(self, name: str) -> None:
        """Each example of the guide runs; its own asserts check the behaviour it shows."""
        run_example(GUIDE, name)

    def test_every_example_is_covered(self) -> None:
        """Each example of the guide is run above."""
        assert set(examples(GUIDE)) == {"unit-of-work", "context", "parameters"}
