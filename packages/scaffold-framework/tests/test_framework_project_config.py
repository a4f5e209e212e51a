"""Reading `[tool.scaffold]`: where a project's parts are, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaffold.framework._project_config import ProjectConfigError, find_project, load_object


def write(folder: Path, text: str) -> Path:
    (folder / "pyproject.toml").write_text(text)
    return folder


class TestFindProject:
    def test_reads_the_nearest_pyproject_above(self, tmp_path: Path) -> None:
        """A subfolder of the project finds the project's table and root."""
        write(tmp_path, '[tool.scaffold]\nweb = "shop.entrypoints:web_app"\n')
        (tmp_path / "src" / "shop").mkdir(parents=True)
        config = find_project(tmp_path / "src" / "shop")
        assert config.root == tmp_path
        assert config.require("web") == "shop.entrypoints:web_app"
        assert config.path("migrations", "migrations") == tmp_path / "migrations"

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[project]\nname = 'x'\n", r"no \[tool.scaffold\]"),
            ("[tool.scaffold]\nwebb = 'a:b'\n", "unknown key.*webb"),
            ("[tool.scaffold]\nweb = 3\n", "must be a string"),
            ("[tool.scaffold\n", "not valid TOML"),
        ],
    )
    def test_bad_tables_are_refused(self, tmp_path: Path, text: str, message: str) -> None:
        """A missing table, an unknown key, a wrong type or broken TOML is named."""
        with pytest.raises(ProjectConfigError, match=message):
            find_project(write(tmp_path, text))

    def test_a_missing_key_says_how_to_add_it(self, tmp_path: Path) -> None:
        """`require` of a key the table lacks shows an example line to add."""
        config = find_project(write(tmp_path, "[tool.scaffold]\n"))
        with pytest.raises(ProjectConfigError, match=r'web = "my_app\.entrypoints:web"'):
            config.require("web")


class TestLoadObject:
    def test_loads_a_dotted_attribute(self) -> None:
        """`module:attr.attr` imports the module and follows the attributes."""
        assert load_object("pathlib:Path.cwd") == Path.cwd

    @pytest.mark.parametrize(
        ("reference", "message"),
        [
            ("pathlib", "module:attribute"),
            ("no_such_module_x:y", "cannot import no_such_module_x"),
            ("pathlib:Nope", "no attribute 'Nope'"),
        ],
    )
    def test_bad_references_are_named(self, reference: str, message: str) -> None:
        """A malformed reference, a missing module or attribute is reported as such."""
        with pytest.raises(ProjectConfigError, match=message):
            load_object(reference)
