"""The examples in the README and the user guide run, and print what the text says.

A Python block that follows a `<!-- runnable -->` line is run as a script of its own in
an empty folder; the `text` block right after it, if any, is its expected output.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).parent.parent
DOCUMENTS = [PACKAGE / "README.md", PACKAGE.parent.parent / "docs" / "persistence.md"]
EXAMPLE = re.compile(
    r"<!-- runnable -->\n```python\n(?P<code>.*?)```\n(?:\n[^\n`]*\n\n```text\n(?P<out>.*?)```)?",
    re.DOTALL,
)


def examples():
    for document in DOCUMENTS:
        for number, match in enumerate(EXAMPLE.finditer(document.read_text()), start=1):
            yield pytest.param(match["code"], match["out"], id=f"{document.name}-{number}")


@pytest.mark.parametrize(("code", "expected"), list(examples()))
def test_example_runs_and_prints_what_the_text_says(code, expected, tmp_path):
    """A runnable example exits cleanly and prints the output shown below it."""
    script = tmp_path / "example.py"
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if expected is not None:
        assert result.stdout == expected


def test_every_document_has_runnable_examples():
    """The README and the guide each keep at least one runnable example."""
    for document in DOCUMENTS:
        assert EXAMPLE.search(document.read_text()), document
