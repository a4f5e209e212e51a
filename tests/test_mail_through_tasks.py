"""Mail delivered through the task queue survives a mail server outage (scaffold-mail with
scaffold-tasks and scaffold-di, wired as docs/mail.md shows, against a real SMTP server).

A refused or failed SMTP send makes the task fail, so the queue retries it with backoff;
after its attempts it is dead-lettered holding the server's error. Runs on the SQLite and
the PostgreSQL task queue.
"""

import asyncio
import dataclasses
import email
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from scaffold.di import Container
from scaffold.mail import (
    InvalidPayloadError,
    MailPayload,
    MailSender,
    Message,
    QueuedMailSender,
    SmtpMailSender,
    deliver_payload,
)
from scaffold.tasks import (
    ContainerResolver,
    RetryPolicy,
    Task,
    TaskFailedPermanentlyError,
    TaskInfo,
    TaskQueue,
    TaskRegistry,
    TaskState,
    Worker,
    WorkerSettings,
    backend_from_url,
)

MAX_ATTEMPTS = 4


@dataclasses.dataclass(frozen=True)
class SendMailTask(Task, name="mail.send"):
    payload: MailPayload


class SendMailTaskHandler:
    def __init__(self, mail_sender: SmtpMailSender) -> None:
        self.mail_sender = mail_sender

    async def handle(self, task: SendMailTask) -> None:
        try:
            await deliver_payload(task.payload, self.mail_sender)
        except InvalidPayloadError as error:
            raise TaskFailedPermanentlyError(str(error)) from error


class ScriptedSmtp:
    """An aiosmtpd handler that answers DATA with the scripted replies, then accepts."""

    def __init__(self, replies: list[str], after_refusal: Callable[[], None] | None = None) -> None:
        self.replies = replies
        self.after_refusal = after_refusal
        self.refused = 0
        self.received: list[email.message.Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        if self.replies:
            self.refused += 1
            if self.after_refusal is not None:
                self.after_refusal()
            return self.replies.pop(0)
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@dataclasses.dataclass
class MailWorld:
    queue: TaskQueue
    mailer: MailSender
    port: int


@pytest.fixture
async def world(queue_url: str) -> AsyncIterator[MailWorld]:
    port = free_port()
    registry = TaskRegistry()
    registry.register(
        SendMailTask,
        SendMailTaskHandler,
        max_attempts=MAX_ATTEMPTS,
        retry=RetryPolicy(initial_delay=0.2, max_delay=0.4, jitter=0.0),
        # Each test uses its own queue, as the PostgreSQL database is shared.
        queue=f"mail-{port}",
    )
    queue = TaskQueue(backend_from_url(queue_url), registry)
    await queue.open()
    await queue.migrate()

    async def enqueue(payload: MailPayload) -> None:
        await queue.enqueue(SendMailTask(payload))

    try:
        yield MailWorld(queue, QueuedMailSender(enqueue), port)
    finally:
        await queue.close()


async def run_worker_until(
    world: MailWorld, done: Callable[[list[TaskInfo]], bool], within: float = 20.0
) -> list[TaskInfo]:
    """Run a real worker (handlers from the container) until `done(tasks)` holds."""
    container = Container()
    container.add_instance(
        SmtpMailSender, SmtpMailSender("127.0.0.1", world.port, security="none", timeout=5)
    )
    container.add_scoped(SendMailTaskHandler)
    worker = Worker(
        world.queue,
        resolver=ContainerResolver(container),
        settings=WorkerSettings(queues=[f"mail-{world.port}"], poll_interval=0.05),
    )
    async with worker.running():
        async with asyncio.timeout(within):
            while True:
                tasks = await world.queue.admin.list(list(TaskState), queue=f"mail-{world.port}")
                if done(tasks):
                    return tasks
                await asyncio.sleep(0.05)


def message() -> Message:
    return Message(
        subject="Welcome!",
        recipients=["ada@example.com"],
        sender="app@example.com",
        body="Hello Ada",
    )


async def test_outage_is_ridden_out_and_the_mail_arrives_once(world: MailWorld) -> None:
    """A 451 refusal, then a server that is gone: the queue retries until the mail arrives."""
    server: Controller | None = None

    def go_away() -> None:
        # The server disappears right after refusing (stopped from another thread, as
        # the handler runs on the server's own loop); the retry finds nobody there.
        assert server is not None
        threading.Thread(target=server.stop).start()

    smtp = ScriptedSmtp(["451 4.3.0 try again later"], after_refusal=go_away)
    server = Controller(smtp, hostname="127.0.0.1", port=world.port)
    server.start()
    message_id = await world.mailer.send(message())

    def refused_once_then_down(tasks: list[TaskInfo]) -> bool:
        # Two failed attempts (451, then no server); the task waits for its next one.
        return bool(tasks) and tasks[0].attempts == 2 and tasks[0].state == TaskState.QUEUED

    tasks = await run_worker_until(world, refused_once_then_down)
    assert f"could not talk to the SMTP server at 127.0.0.1:{world.port}" in (
        tasks[0].last_error or ""
    ), "the retried task holds the last error, naming the unreachable server"

    server = Controller(smtp, hostname="127.0.0.1", port=world.port)
    server.start()
    try:
        tasks = await run_worker_until(world, lambda t: t[0].state == TaskState.DONE)
    finally:
        server.stop()
    assert len(smtp.received) == 1
    assert smtp.received[0]["Message-ID"] == message_id
    assert smtp.received[0]["Subject"] == "Welcome!"


async def test_permanent_refusal_is_dead_lettered_with_the_server_error(
    world: MailWorld,
) -> None:
    """A server that keeps refusing: after its attempts the task is dead, holding the 554."""
    smtp = ScriptedSmtp(["554 5.7.1 rejected by policy"] * MAX_ATTEMPTS)
    server = Controller(smtp, hostname="127.0.0.1", port=world.port)
    server.start()
    try:
        await world.mailer.send(message())
        tasks = await run_worker_until(world, lambda t: t[0].state == TaskState.DEAD)
    finally:
        server.stop()
    assert tasks[0].attempts == MAX_ATTEMPTS
    assert "554" in (tasks[0].last_error or "")
    assert "rejected by policy" in (tasks[0].last_error or "")
    assert smtp.received == []
