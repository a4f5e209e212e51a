"""A file attached to a message, or embedded in its HTML (`content_id`)."""

from __future__ import annotations

import dataclasses
import mimetypes
import re
from pathlib import Path

from ._errors import HeaderInjectionError, InvalidMessageError

_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
_CONTENT_ID = re.compile(r"[!-;=?-~]+")  # printable ASCII without <, > or spaces
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclasses.dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message.

    Parameters:
        filename: the name the recipient sees; any characters (non-ASCII included)
            except line breaks, control characters and path separators.
        content: the bytes of the file.
        content_type: `type/subtype`; guessed from the file name when not given.
        content_id: makes the file an inline part of the HTML version, which refers to
            it as `<img src="cid:CONTENT_ID">`; leave it out for an ordinary attachment.
    """

    filename: str
    content: bytes
    content_type: str = ""
    content_id: str | None = None

    def __post_init__(self) -> None:
        # Typed fields, but the values come from callers that may not type-check.
        name: object = self.filename
        if not isinstance(name, str) or not name.strip():
            raise InvalidMessageError(
                f"attachment: the file name must be a non-empty string, got {name!r}"
            )
        if "\r" in name or "\n" in name:
            raise HeaderInjectionError(f"attachment: line breaks in the file name {name!r}")
        if any(ord(character) < 0x20 or ord(character) == 0x7F for character in name):  # noqa: PLR2004 - control characters
            raise InvalidMessageError(f"attachment: control characters in the file name {name!r}")
        if "/" in name or "\\" in name:
            raise InvalidMessageError(
                f"attachment: {name!r} is a path; give the file name only (no / or \\)"
            )
        content: object = self.content
        if isinstance(content, bytearray | memoryview):
            object.__setattr__(self, "content", bytes(content))
        elif not isinstance(content, bytes):
            raise InvalidMessageError(
                f"attachment {name!r}: content must be bytes, got {type(content).__name__} "
                "(encode text first, e.g. text.encode())"
            )
        content_type = self.content_type or mimetypes.guess_type(name)[0] or _DEFAULT_CONTENT_TYPE
        if not _CONTENT_TYPE.fullmatch(content_type):
            raise InvalidMessageError(
                f"attachment {name!r}: {content_type!r} is not a content type (type/subtype)"
            )
        object.__setattr__(self, "content_type", content_type.lower())
        if self.content_id is not None and not _CONTENT_ID.fullmatch(self.content_id):
            raise InvalidMessageError(
                f"attachment {name!r}: content_id {self.content_id!r} must be printable ASCII "
                "without spaces or angle brackets"
            )

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        filename: str | None = None,
        content_type: str = "",
        content_id: str | None = None,
    ) -> Attachment:
        """Read a file into an attachment, named after the file unless `filename` is given."""
        file = Path(path)
        return cls(
            filename=filename if filename is not None else file.name,
            content=file.read_bytes(),
            content_type=content_type,
            content_id=content_id,
        )

    @property
    def inline(self) -> bool:
        """Whether the file is embedded in the HTML version rather than attached."""
        return self.content_id is not None
