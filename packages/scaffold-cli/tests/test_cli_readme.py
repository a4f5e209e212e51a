"""The README's example runs as shown."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_example_runs_as_documented(tmp_path: Path) -> None:
    """`greet.py` from the README greets, fails with exit 3 and logs JSON as it says."""
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert code is not None
    script = tmp_path / "greet.py"
    script.write_text(code.group(1))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), *args], capture_output=True, text=True, check=False
        )

    greeted = run("hello", "Ada", "Bob")
    assert (greeted.returncode, greeted.stdout) == (0, "Hello, Ada!\nHello, Bob!\n")
    assert greeted.stderr.startswith("Greeting ...\nGreeting: 2/2 in ")
    refused = run("hello", "nobody")
    assert refused.returncode == 3
    assert "Error: nobody cannot be greeted" in refused.stderr
    assert run("hello", "--shout", "Cy").stdout == "HELLO, CY!\n"
    assert run("hello").returncode == 2
