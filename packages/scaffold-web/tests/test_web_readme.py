"""The README's examples run as written."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


async def test_the_first_app_and_its_test_run(tmp_path: Path, monkeypatch) -> None:
    """hello.py and the test shown under it pass, as a reader would run them."""
    app_code, test_code = python_blocks()[:2]
    (tmp_path / "scaffold_web_readme_hello.py").write_text(app_code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SCAFFOLD_ENV", "development")
    monkeypatch.delitem(sys.modules, "scaffold_web_readme_hello", raising=False)
    spec = importlib.util.find_spec("scaffold_web_readme_hello")
    assert spec is not None
    hello = importlib.import_module("scaffold_web_readme_hello")
    namespace = dict(vars(hello))
    exec(compile(test_code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    await namespace["test_hello"]()
    assert (tmp_path / "data" / "secret_key").exists()


def test_the_readme_has_its_examples() -> None:
    """The README keeps both examples the test above runs."""
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert "WebApp(__name__, container" in blocks[0]
    assert "WebTestClient" in blocks[1]
