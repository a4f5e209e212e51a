"""The documentation's examples: README programs run, guide snippets compile."""

import ast
import contextlib
import io
import re
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE / "README.md"
GUIDE = PACKAGE.parents[1] / "docs" / "pubsub.md"


def python_blocks(path: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), re.DOTALL)
    return [textwrap.dedent(block) for block in blocks]


README_BLOCKS = python_blocks(README)


def test_readme_has_examples():
    """The README shows several complete programs."""
    assert len(README_BLOCKS) >= 4
    assert all("asyncio.run(main())" in block for block in README_BLOCKS)


@pytest.mark.parametrize("number", range(len(README_BLOCKS)))
def test_readme_example_runs_in_memory(number, monkeypatch):
    """Each README program runs as written, its own assertions included."""
    monkeypatch.delenv("PUBSUB_URL", raising=False)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(README_BLOCKS[number], f"README block {number}", "exec"), {})  # noqa: S102 - the README's own code


def test_readme_first_example_runs_on_postgres(postgres_url, monkeypatch):
    """The first README program works unchanged when PUBSUB_URL names PostgreSQL."""
    monkeypatch.setenv("PUBSUB_URL", postgres_url)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(README_BLOCKS[0], "README block 0", "exec"), {})  # noqa: S102 - the README's own code
    assert output.getvalue() == "received 0195a3c4-8a1e-7cc0-b2f1-3f2e5d7c9a10\n"


@pytest.mark.parametrize("number", range(len(python_blocks(GUIDE))))
def test_guide_snippet_compiles(number):
    """The user guide's snippets are valid Python (they are fragments of an app)."""
    source = python_blocks(GUIDE)[number]
    compile(source, f"docs/pubsub.md block {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
