"""The package README and docs/mail.md: every Python example runs as written.

Files that the text shows (a line "`path`:" followed by a fenced block) are written to a
temporary folder first; the examples then run there, one after the other, with `MAIL_URL`
pointing at a real SMTP server (aiosmtpd in a thread, as the examples run `asyncio.run`).
"""

import contextlib
import os
import re
import socket
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

PACKAGE = Path(__file__).parents[1]
DOCS = [PACKAGE / "README.md", PACKAGE.parents[1] / "docs" / "mail.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
FILE_LABEL = re.compile(r"`([\w./-]+)`:\n\n$")


class Collecting:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope.original_content)
        return "250 OK"


def blocks(text: str) -> list[tuple[str, str, str | None]]:
    """(language, code, file it shows, if any) for every fenced block."""
    found = []
    for match in FENCE.finditer(text):
        label = FILE_LABEL.search(text[max(0, match.start() - 200) : match.start()])
        found.append((match.group(1), match.group(2), label.group(1) if label else None))
    return found


@pytest.fixture
def smtp_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}?security=none", handler
    finally:
        controller.stop()


@pytest.mark.parametrize("document", DOCS, ids=lambda path: path.name)
def test_examples_run(document, smtp_url, tmp_path, monkeypatch, capsys):
    """Every Python example of the document runs without error, in order."""
    url, handler = smtp_url
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAIL_URL", url)
    examples = 0
    for language, code, shown_file in blocks(document.read_text(encoding="utf-8")):
        if shown_file is not None:
            target = tmp_path / shown_file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code, encoding="utf-8")
        elif language == "python":
            examples += 1
            namespace = {"__name__": f"example_{examples}"}
            with contextlib.chdir(tmp_path):
                exec(compile(code, f"{document.name}, example {examples}", "exec"), namespace)  # noqa: S102 - running the documentation's own examples
    assert examples >= 3
    assert os.environ["MAIL_URL"] == url
    output = capsys.readouterr().out
    assert "Traceback" not in output
    if document.name == "README.md":
        assert handler.messages, "the SMTP example did not reach the server"
        assert b"Subject: Your invoice for March" in handler.messages[0]
