"""A local git repository holding every version of the project template seen on this machine.

copier updates a project by rendering the template version it was generated from and the
new one, and merging the difference into the project; both versions must come from a git
repository with a tag per version. The template ships inside this distribution, one version
per release, so `scaffold` records each installed version here as a tagged commit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

# The literal path written into a project's `.copier-answers.yml`; copier expands `~`, so
# the same answers file works on every machine and for every user.
DEFAULT_LOCATION: Final = "~/.cache/scaffold/project-template"
LOCATION_VARIABLE: Final = "SCAFFOLD_TEMPLATE_REPOSITORY"

# Commits are made by scaffold itself, never by the user's git identity.
_GIT_IDENTITY: Final = (
    "-c",
    "user.name=scaffold",
    "-c",
    "user.email=scaffold@localhost",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
)


class TemplateRepositoryError(RuntimeError):
    """The template repository could not be read or written (git missing or failing)."""


def _git(cwd: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise TemplateRepositoryError(
            "git is needed to generate and update projects (copier keeps template versions in"
            " git), and no `git` executable is on PATH"
        )
    completed = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
        [git, *_GIT_IDENTITY, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise TemplateRepositoryError(
            f"git {' '.join(args)} failed in {cwd}: {completed.stderr.strip()}"
        )
    return completed.stdout.strip()


class TemplateRepository:
    """The git repository of template versions at `location` (`~` allowed).

    Parameters:
        location: where the repository lives; by default `$SCAFFOLD_TEMPLATE_REPOSITORY`,
            else `~/.cache/scaffold/project-template`.
    """

    def __init__(self, location: str | None = None) -> None:
        self.location = location or os.environ.get(LOCATION_VARIABLE) or DEFAULT_LOCATION
        self.path = Path(self.location).expanduser()

    def tags(self) -> list[str]:
        if not (self.path / ".git").is_dir():
            return []
        return _git(self.path, "tag", "--list").split()

    def has(self, tag: str) -> bool:
        return tag in self.tags()

    def register(self, source: Path, version: str) -> str:
        """Make sure the template at `source` is a tagged commit, and return its tag.

        The tag is `v<version>`. When that tag already holds different template content (a
        development checkout changed the template without a release), the content gets the
        next `v<version>.postN` tag, which sorts after it, so projects generated from the
        earlier content can still be updated to this one.
        """
        if not (source / "copier.yml").is_file():
            raise TemplateRepositoryError(f"{source} is not a project template (no copier.yml)")
        if not re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version):
            raise TemplateRepositoryError(f"{version!r} is not a version number")
        self._ensure_repository()
        tree = self._tree_of(source)
        same_release = [
            t for t in self.tags() if re.fullmatch(rf"v{re.escape(version)}(\.post\d+)?", t)
        ]
        for tag in same_release:
            if _git(self.path, "rev-parse", f"{tag}^{{tree}}") == tree:
                return tag
        tag = f"v{version}" if not same_release else f"v{version}.post{len(same_release)}"
        parent = ["-p", _git(self.path, "rev-parse", "HEAD")] if self._has_commits() else []
        commit = _git(self.path, "commit-tree", tree, *parent, "-m", f"project template {tag}")
        _git(self.path, "update-ref", "HEAD", commit)
        _git(self.path, "tag", tag, commit)
        # Keep the work tree at HEAD: copier copies a local template's uncommitted changes.
        _git(self.path, "reset", "--hard", "--quiet", "HEAD")
        return tag

    def _has_commits(self) -> bool:
        try:
            _git(self.path, "rev-parse", "--verify", "--quiet", "HEAD")
        except TemplateRepositoryError:
            return False
        return True

    def _ensure_repository(self) -> None:
        if (self.path / ".git").is_dir():
            return
        self.path.mkdir(parents=True, exist_ok=True)
        _git(self.path, "init", "--quiet", "--initial-branch=main")

    def _tree_of(self, source: Path) -> str:
        """Write `source` into the repository's object store and return its tree hash."""
        with tempfile.TemporaryDirectory(prefix="scaffold-template-index-") as scratch:
            index = Path(scratch) / "index"
            env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_WORK_TREE": str(source)}
            git = shutil.which("git") or "git"
            for args in (["add", "--all", "--force", "."], ["write-tree"]):
                completed = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
                    [git, "--git-dir", str(self.path / ".git"), *args],
                    cwd=source,
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if completed.returncode != 0:
                    raise TemplateRepositoryError(
                        f"git {' '.join(args)} failed for {source}: {completed.stderr.strip()}"
                    )
            return completed.stdout.strip()
