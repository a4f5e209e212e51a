"""Running the chatbot's real processes (`chatbot run`, `web`, `worker`) for the tests."""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ReceivedMail:
    """Mails the test SMTP server received, as (recipients, parsed message) pairs."""

    messages: list[tuple[list[str], object]] = field(default_factory=list)

    def to(self, address: str, timeout: float = 15.0) -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for recipients, message in self.messages:
                if address in recipients:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no mail reached {address} within {timeout}s")


class _Collect(MessageHandler):
    def __init__(self, received: ReceivedMail) -> None:
        super().__init__()
        self.received = received

    def handle_message(self, message: object) -> None:
        recipients = str(message["X-RcptTo"]).split(", ")  # type: ignore[index]
        self.received.messages.append((recipients, message))


@contextmanager
def smtp_server() -> Iterator[tuple[str, ReceivedMail]]:
    """A real SMTP server on loopback; yields its mail URL and what it receives."""
    received = ReceivedMail()
    port = free_port()
    controller = Controller(_Collect(received), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}?security=none", received
    finally:
        controller.stop()


def base_environment(data_dir: Path, mail_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PUBSUB_"))}
    env.update(
        ENVIRONMENT="production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATA_DIR=str(data_dir),
        MAIL_URL=mail_url,
        CHATBOT_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not become healthy in {START_TIMEOUT}s:\n{log.read_text()}")


def wait_for_line(line: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if line in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(
                f"{process.args!r} exited ({process.returncode}):\n{log.read_text()}"
            )
        time.sleep(0.1)
    raise RuntimeError(f"{process.args!r} did not log {line!r} in {START_TIMEOUT}s")


@contextmanager
def chatbot_process(
    args: list[str],
    env: Mapping[str, str],
    log: Path,
    url: str | None = None,
    ready_line: str | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `chatbot ARGS`; wait for /health when it serves `url`, or for `ready_line` in
    its log; SIGTERM it at the end."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chatbot", *args],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if url is not None:
            wait_until_healthy(url, process, log)
        if ready_line is not None:
            wait_for_line(ready_line, process, log)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def migrate(env: Mapping[str, str], log: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chatbot", "migrate"],
        env=dict(env),
        capture_output=True,
        check=False,
        timeout=120,
    )
    log.write_bytes(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"chatbot migrate failed:\n{log.read_text()}")


@dataclass
class Deployment:
    """Where the running chatbot answers, and what its mail server received."""

    urls: list[str]
    mail: ReceivedMail
    logs: Path


@contextmanager
def embedded(tmp: Path, **extra_env: str) -> Iterator[Deployment]:
    """`chatbot run`: everything in one process on SQLite."""
    with smtp_server() as (mail_url, received):
        port = free_port()
        env = base_environment(tmp / "data", mail_url, PORT=str(port), **extra_env)
        url = f"http://127.0.0.1:{port}"
        with chatbot_process(["run"], env, tmp / "run.log", url):
            yield Deployment([url], received, tmp)


@contextmanager
def on_postgres(tmp: Path, database_url: str, web_processes: int = 2) -> Iterator[Deployment]:
    """Separate processes on PostgreSQL: `web_processes` web servers and one worker."""
    with smtp_server() as (mail_url, received), ExitStack() as stack:
        env = base_environment(tmp / "data", mail_url, DATABASE_URL=database_url)
        migrate(env, tmp / "migrate.log")
        urls = []
        for index in range(web_processes):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            web_env = {**env, "PORT": str(port)}
            stack.enter_context(chatbot_process(["web"], web_env, tmp / f"web{index}.log", url))
            urls.append(url)
        # The worker logs at INFO here, so the test can wait for its "started" line.
        worker_env = {**env, "CHATBOT_LOG_LEVEL": "INFO"}
        stack.enter_context(
            chatbot_process(["worker"], worker_env, tmp / "worker.log", ready_line=" started: ")
        )
        yield Deployment(urls, received, tmp)
