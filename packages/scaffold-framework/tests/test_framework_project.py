"""Generating a project from the template, and updating it to a newer template version."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scaffold.framework import ProjectError, TemplateRepository, bundled_template, new_project
from scaffold.framework import update_project as update

GIT_IDENTITY = [
    "-c",
    "user.name=Test",
    "-c",
    "user.email=test@localhost",
    "-c",
    "commit.gpgsign=false",
]


def git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return completed.stdout


@pytest.fixture
def repository(tmp_path: Path) -> TemplateRepository:
    return TemplateRepository(str(tmp_path / "template-repository"))


def newer_template(tmp_path: Path) -> Path:
    """The bundled template with one changed file and one new file: a later release."""
    template = tmp_path / "newer-template"
    shutil.copytree(bundled_template(), template)
    readme = template / "project" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nA line the newer template adds.\n")
    (template / "project" / "CONTRIBUTING.md").write_text("How to contribute.\n")
    return template


class TestNewProject:
    def test_generates_the_four_layers_and_the_tooling(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """The project has the four layers, the composition root and every tool's set-up."""
        project = new_project(tmp_path / "my-shop", repository=repository)
        package = project / "src" / "my_shop"
        for layer in ("domain", "application", "infrastructure", "presentation"):
            assert (package / layer / "__init__.py").is_file()
        for entry in ("web", "worker", "cli"):
            assert (package / "presentation" / entry / "__init__.py").is_file()
        for name in (
            "bootstrap.py",
            "entrypoints.py",
        ):
            assert (package / name).is_file()
        for name in (
            "pyproject.toml",
            "alembic.ini",
            "migrations/env.py",
            ".pre-commit-config.yaml",
            "Dockerfile",
            "compose.yaml",
            ".github/workflows/ci.yml",
            ".copier-answers.yml",
        ):
            assert (project / name).is_file(), name
        pyproject = (project / "pyproject.toml").read_text()
        assert 'name = "my-shop"' in pyproject
        assert "[tool.importlinter]" in pyproject
        assert (project / ".git").is_dir()

    def test_web_templates_are_copied_verbatim(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """The app's own Jinja templates keep their `{{ }}`: copier renders only `.jinja`."""
        project = new_project(tmp_path / "shop", repository=repository)
        page = project / "src/shop/presentation/web/templates/notes/index.html"
        assert "{{ form.csrf_token }}" in page.read_text()

    def test_answers_record_the_template_version(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """`.copier-answers.yml` names the template version and the answers."""
        project = new_project(tmp_path / "shop", repository=repository, description="Sells things.")
        answers = (project / ".copier-answers.yml").read_text()
        assert "_commit: v" in answers
        assert "description: Sells things." in answers

    @pytest.mark.parametrize("name", ["My-Shop", "shop_", "1shop", "shop--x", "class", "scaffold"])
    def test_bad_names_are_refused(
        self, tmp_path: Path, repository: TemplateRepository, name: str
    ) -> None:
        """A name that cannot be a distribution and package name is refused, saying why."""
        with pytest.raises(ProjectError, match=repr(name)):
            new_project(tmp_path / name, repository=repository)

    @pytest.mark.parametrize("description", ['Says "hi".', "x" * 81, "two\nlines"])
    def test_bad_descriptions_are_refused(
        self, tmp_path: Path, repository: TemplateRepository, description: str
    ) -> None:
        """A description that would break the generated files is refused before anything."""
        with pytest.raises(ProjectError, match="description"):
            new_project(tmp_path / "shop", repository=repository, description=description)
        assert not (tmp_path / "shop").exists()
        assert repository.tags() == []

    def test_a_non_empty_folder_is_refused(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """Nothing is generated over existing files."""
        (tmp_path / "shop").mkdir()
        (tmp_path / "shop" / "notes.txt").write_text("mine")
        with pytest.raises(ProjectError, match="not empty"):
            new_project(tmp_path / "shop", repository=repository)


class TestTemplateRepository:
    def test_registering_the_same_template_twice_keeps_one_tag(
        self, repository: TemplateRepository
    ) -> None:
        """The same content under the same version is one tag."""
        assert repository.register(bundled_template(), "1.0.0") == "v1.0.0"
        assert repository.register(bundled_template(), "1.0.0") == "v1.0.0"
        assert repository.tags() == ["v1.0.0"]

    def test_changed_content_under_the_same_version_gets_a_post_tag(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """A development change without a version bump sorts after the release it changes."""
        repository.register(bundled_template(), "1.0.0")
        assert repository.register(newer_template(tmp_path), "1.0.0") == "v1.0.0.post1"

    def test_a_folder_without_copier_yml_is_refused(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """Only a template folder can be registered."""
        with pytest.raises(RuntimeError, match=r"copier\.yml"):
            repository.register(tmp_path, "1.0.0")


class TestUpdate:
    def generated(
        self, tmp_path: Path, repository: TemplateRepository, version: str = "0.10.0"
    ) -> Path:
        project = new_project(tmp_path / "shop", repository=repository, template_version=version)
        git(project, "commit", "--quiet", "-m", "generated")
        return project

    def test_update_merges_the_template_and_keeps_local_changes(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """A newer template's changes arrive, and the project's own edits stay."""
        project = self.generated(tmp_path, repository)
        domain = project / "src/shop/domain/notes.py"
        domain.write_text(domain.read_text() + "\n\nMAX_NOTE_LENGTH = 2000\n")
        readme = project / "README.md"
        readme.write_text("# shop, our notes app\n" + readme.read_text().split("\n", 1)[1])
        git(project, "commit", "--quiet", "-am", "local changes")

        tag = update(
            project,
            repository=repository,
            template=newer_template(tmp_path),
            template_version="0.10.1",
        )

        assert tag == "v0.10.1"
        assert "MAX_NOTE_LENGTH = 2000" in domain.read_text()
        merged = readme.read_text()
        assert merged.startswith("# shop, our notes app\n")
        assert "A line the newer template adds." in merged
        assert (project / "CONTRIBUTING.md").read_text() == "How to contribute.\n"
        assert "_commit: v0.10.1" in (project / ".copier-answers.yml").read_text()

    def test_update_refuses_uncommitted_changes(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """An update starts from a clean work tree, so it can be reviewed as a diff."""
        project = self.generated(tmp_path, repository)
        (project / "README.md").write_text("uncommitted\n")
        with pytest.raises(ProjectError, match="dirty"):
            update(
                project,
                repository=repository,
                template=newer_template(tmp_path),
                template_version="0.10.1",
            )

    def test_update_says_how_to_add_a_missing_template_version(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """A project from a version the repository lacks gets the command that adds it."""
        project = self.generated(tmp_path, repository, version="0.9.0")
        shutil.rmtree(repository.path)
        with pytest.raises(ProjectError, match=r"scaffold-framework==0\.9\.0 scaffold template"):
            update(project, repository=repository, template_version="0.10.0")

    def test_a_project_not_generated_is_refused(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """Without `.copier-answers.yml` there is nothing to update from."""
        with pytest.raises(ProjectError, match="copier-answers"):
            update(tmp_path, repository=repository)

    def test_the_same_version_is_a_no_op(
        self, tmp_path: Path, repository: TemplateRepository
    ) -> None:
        """Updating to the version the project is on changes nothing."""
        project = self.generated(tmp_path, repository)
        assert update(project, repository=repository, template_version="0.10.0") == "v0.10.0"
        assert git(project, "status", "--porcelain") == ""
