"""Fingerprinted asset files: names carry a content hash, so browsers may cache them forever."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from quart import send_file
from werkzeug.exceptions import NotFound

if TYPE_CHECKING:
    from quart.wrappers import Response

IMMUTABLE = "public, max-age=31536000, immutable"
# Unfingerprinted names (a source map asking for its original, a hand-written link) are
# served too, but must be revalidated since their content can change under the same name.
REVALIDATE = "no-cache"
_HASH_LENGTH = 12


class UnknownAssetError(LookupError):
    """A template asked for an asset that is not in the assets folder."""


class Assets:
    """The files of an assets folder, each under a name that includes its content hash.

    The hashes are computed once, when the app starts (the development server restarts on
    changes), so looking up a URL is a dictionary access.

    Parameters:
        folder: the folder whose files are served.
        url_prefix: the URL path they are served under.
    """

    def __init__(self, folder: Path, url_prefix: str = "/assets") -> None:
        if not url_prefix.startswith("/") or url_prefix.endswith("/"):
            raise ValueError(f"url_prefix must start and not end with '/', got {url_prefix!r}")
        self.folder = folder
        self.url_prefix = url_prefix
        self._fingerprinted: dict[str, str] = {}  # logical name -> fingerprinted name
        self._files: dict[str, tuple[Path, bool]] = {}  # served name -> (file, immutable)

    def scan(self) -> None:
        """Hash every file in the folder; called once at start-up."""
        fingerprinted: dict[str, str] = {}
        files: dict[str, tuple[Path, bool]] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.rglob("*")):
                relative = path.relative_to(self.folder)
                if not path.is_file() or any(part.startswith(".") for part in relative.parts):
                    continue
                logical = relative.as_posix()
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:_HASH_LENGTH]
                pure = PurePosixPath(logical)
                suffixes = "".join(pure.suffixes)
                stem = pure.name[: len(pure.name) - len(suffixes)] if suffixes else pure.name
                name = str(pure.with_name(f"{stem}.{digest}{suffixes}"))
                fingerprinted[logical] = name
                files[name] = (path, True)
                files.setdefault(logical, (path, False))
        self._fingerprinted = fingerprinted
        self._files = files

    @property
    def names(self) -> list[str]:
        """The logical names of all assets, as templates refer to them."""
        return sorted(self._fingerprinted)

    def url(self, name: str) -> str:
        """The URL of asset `name` (a path relative to the folder, like ``css/app.css``)."""
        try:
            return f"{self.url_prefix}/{self._fingerprinted[name.lstrip('/')]}"
        except KeyError:
            raise UnknownAssetError(
                f"no asset {name!r} in {self.folder} (known: {', '.join(self.names) or 'none'})"
            ) from None

    async def response(self, served_name: str) -> Response:
        """The file for a URL path below the prefix; 404 for anything unknown."""
        entry = self._files.get(served_name)
        if entry is None:
            raise NotFound(f"There is no asset named {served_name!r}.")
        path, immutable = entry
        mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        response = await send_file(path, mimetype=mimetype, conditional=True)
        response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
        return response
