"""scaffold.mail._payload and _queued: mail through a task queue, against a real SMTP server.

scaffold-tasks cannot be imported here (packages stay independent), so the queue in these
tests is the smallest one that keeps the contract: it stores the JSON text of each
payload, runs `deliver_payload` for it, keeps it when that raises, and dead-letters it with
the error after its last attempt.
"""

import dataclasses
import json
import re

import pytest

from scaffold.mail import (
    Attachment,
    InvalidPayloadError,
    MailDeliveryError,
    Message,
    QueuedMailSender,
    SmtpMailSender,
    deliver_payload,
    message_from_payload,
    message_to_payload,
)


def full_message(**changes):
    fields = {
        "subject": "Ihre Rechnung — März",
        "recipients": ["Ada <ada@example.com>", "bob@example.com"],
        "sender": '"Shop, Inc." <shop@example.com>',
        "body": "Grüße\n",
        "html": '<p>Grüße <img src="cid:logo"></p>',
        "reply_to": ["help@example.com", "desk@example.com"],
        "headers": {"X-Order": "42", "List-Unsubscribe": "<mailto:u@example.com>"},
        "cc": ["cy@example.com"],
        "bcc": ["archive@example.com"],
        "attachments": [
            Attachment("Rechnung März.pdf", bytes(range(256))),
            Attachment("logo.png", b"\x89PNG\r\n\x1a\n", content_id="logo"),
        ],
    }
    fields.update(changes)
    return Message(**fields)


@dataclasses.dataclass
class QueuedTask:
    payload_json: str
    attempts: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)


class MiniQueue:
    """Stores payloads as JSON text, as a database column would, and runs them."""

    def __init__(self, max_attempts: int) -> None:
        self.max_attempts = max_attempts
        self.pending: list[QueuedTask] = []
        self.done: list[str] = []
        self.dead: list[QueuedTask] = []

    async def enqueue(self, payload) -> None:
        self.pending.append(QueuedTask(json.dumps(payload)))

    async def run_once(self, sender) -> None:
        """One pass of a worker: every pending task is attempted once."""
        still_pending = []
        for task in self.pending:
            task.attempts += 1
            try:
                self.done.append(await deliver_payload(json.loads(task.payload_json), sender))
            except MailDeliveryError as error:
                task.errors.append(str(error))
                if task.attempts >= self.max_attempts:
                    self.dead.append(task)
                else:
                    still_pending.append(task)
        self.pending = still_pending


class TestPayload:
    def test_round_trips_every_field_through_json(self):
        """Every field, attachments included, survives message -> payload -> JSON -> message."""
        message = full_message()
        payload = message_to_payload(message, message_id="<fixed@example.com>")
        restored = message_from_payload(json.loads(json.dumps(payload)))
        assert restored == message.replace(message_id="<fixed@example.com>")
        assert restored.attachments[0].content == bytes(range(256))
        assert restored.attachments[1].content_id == "logo"

    def test_is_plain_json_data(self):
        """The payload holds only JSON types; attachment bytes are base64 text."""
        payload = message_to_payload(full_message(), message_id="<fixed@example.com>")
        assert json.loads(json.dumps(payload)) == payload
        assert payload["version"] == 1
        assert payload["attachments"][0]["content_base64"].startswith("AAECAw")
        assert payload["bcc"] == ["archive@example.com"]

    def test_round_trips_a_minimal_message(self):
        """A message with only the required fields round-trips too."""
        message = Message(subject="", recipients=["a@example.com"], sender="b@example.com", body="")
        payload = message_to_payload(message, message_id="<m@example.com>")
        assert message_from_payload(payload) == message.replace(message_id="<m@example.com>")

    @pytest.mark.parametrize(
        ("mutate", "fragment"),
        [
            (lambda p: p.update(version=2), "version 2 is not supported"),
            (lambda p: p.pop("subject"), "missing keys ['subject']"),
            (lambda p: p.update(extra=1), "unknown keys ['extra']"),
            (lambda p: p.update(cc="a@example.com"), "cc must be a list"),
            (lambda p: p.update(headers=[]), "headers must be a dict"),
            (lambda p: p["attachments"][0].pop("filename"), "attachments[0] must be a dict"),
            (
                lambda p: p["attachments"][0].update(content_base64="not base64!"),
                "is not base64",
            ),
            (lambda p: p.update(recipients=["bad"]), "does not hold a valid message"),
            (lambda p: p.update(subject="a\r\nBcc: x@example.com"), "line breaks"),
        ],
    )
    def test_bad_payloads_are_refused_clearly(self, mutate, fragment):
        """A payload that is not a valid message raises InvalidPayloadError saying why."""
        payload = json.loads(
            json.dumps(message_to_payload(full_message(), message_id="<m@example.com>"))
        )
        mutate(payload)
        with pytest.raises(InvalidPayloadError, match=re.escape(fragment)):
            message_from_payload(payload)

    def test_not_a_dict_is_refused(self):
        """Something other than a dict is refused with its type."""
        with pytest.raises(InvalidPayloadError, match="got list"):
            message_from_payload([])


class TestQueuedMailSender:
    async def test_enqueues_the_payload_and_returns_its_message_id(self):
        """send() enqueues the payload (with its Message-ID fixed now) and sends nothing."""
        enqueued = []

        async def enqueue(payload):
            enqueued.append(payload)

        sender = QueuedMailSender(enqueue, message_id_domain="app.example.com")
        message_id = await sender.send(full_message())
        [payload] = enqueued
        assert payload["message_id"] == message_id
        assert message_id.endswith("@app.example.com>")

    async def test_an_enqueue_failure_reaches_the_caller(self):
        """If the queue cannot store the mail, send() raises instead of losing it."""

        async def broken_enqueue(payload):
            raise ConnectionError("database is down")

        with pytest.raises(ConnectionError, match="database is down"):
            await QueuedMailSender(broken_enqueue).send(full_message())


class TestDeliveryThroughAQueue:
    async def test_delivers_every_part_with_the_enqueued_message_id(self, smtp_server):
        """The worker's delivery sends the whole message, with the Message-ID from send()."""
        server = await smtp_server()
        queue = MiniQueue(max_attempts=3)
        message_id = await QueuedMailSender(queue.enqueue).send(full_message())
        assert server.received == []

        await queue.run_once(SmtpMailSender(server.host, server.port, security="none"))

        assert queue.done == [message_id]
        [received] = server.received
        assert received.rcpt_tos == [
            "ada@example.com",
            "bob@example.com",
            "cy@example.com",
            "archive@example.com",
        ]
        parsed = received.message
        assert parsed["Message-ID"] == message_id
        assert parsed["Subject"] == "Ihre Rechnung — März"
        assert parsed["Bcc"] is None
        assert parsed["X-Order"] == "42"
        [attachment] = parsed.iter_attachments()
        assert attachment.get_filename() == "Rechnung März.pdf"
        assert attachment.get_content() == bytes(range(256))
        related = parsed.get_body(("related",))
        assert related is not None
        assert [p.get_content_type() for p in related.iter_parts()] == ["text/html", "image/png"]

    @pytest.mark.parametrize(
        ("reply", "temporary"),
        [("421 4.7.0 Try again later", True), ("550 5.7.1 Not accepted", False)],
    )
    async def test_a_refusing_server_makes_delivery_raise(self, smtp_server, reply, temporary):
        """A 4xx or 5xx reply raises from deliver_payload, so the queue keeps the task."""
        server = await smtp_server()
        server.handler.data_reply = reply
        payload = message_to_payload(full_message(), message_id="<q@example.com>")
        sender = SmtpMailSender(server.host, server.port, security="none")
        with pytest.raises(MailDeliveryError, match=reply[:3]) as caught:
            await deliver_payload(payload, sender)
        assert caught.value.temporary is temporary

    async def test_an_outage_loses_nothing(self, smtp_server):
        """Server refusing, then gone, then back: the mail arrives once, same Message-ID."""
        server = await smtp_server()
        port = server.port
        sender = SmtpMailSender(server.host, port, security="none", timeout=5)
        queue = MiniQueue(max_attempts=5)
        message_id = await QueuedMailSender(queue.enqueue).send(full_message())

        server.handler.data_reply = "451 4.3.0 Mailbox busy"
        await queue.run_once(sender)
        await server.stop()
        await queue.run_once(sender)
        assert queue.done == []
        [task] = queue.pending
        assert task.attempts == 2
        assert "451" in task.errors[0]
        assert f"127.0.0.1:{port}" in task.errors[1]

        back = await smtp_server()
        await queue.run_once(SmtpMailSender(back.host, back.port, security="none"))
        assert queue.done == [message_id]
        assert queue.pending == []
        [received] = back.received
        assert received.message["Message-ID"] == message_id

    async def test_dead_lettered_with_the_error_after_the_last_attempt(self, smtp_server):
        """A mail the server keeps refusing ends dead-lettered with every error, not dropped."""
        server = await smtp_server()
        server.handler.data_reply = "554 5.7.1 Rejected"
        sender = SmtpMailSender(server.host, server.port, security="none")
        queue = MiniQueue(max_attempts=3)
        await QueuedMailSender(queue.enqueue).send(full_message())
        for _ in range(3):
            await queue.run_once(sender)
        [dead] = queue.dead
        assert dead.attempts == 3
        assert all("554 5.7.1 Rejected" in error for error in dead.errors)
        assert message_from_payload(json.loads(dead.payload_json)).subject == (
            "Ihre Rechnung — März"
        )

    async def test_an_invalid_payload_raises(self):
        """A payload that is no message raises InvalidPayloadError before anything is sent."""
        with pytest.raises(InvalidPayloadError):
            await deliver_payload({"version": 1}, SmtpMailSender("127.0.0.1", 1))


class TestPayloadInATaskDataclass:
    async def test_survives_pydantic_json_as_a_task_field(self, smtp_server):
        """A frozen task dataclass holding a MailPayload survives pydantic's JSON and delivers.

        This is how scaffold-tasks stores tasks (docs/mail.md shows the wiring).
        """
        pydantic = pytest.importorskip("pydantic")
        from scaffold.mail import MailPayload  # noqa: PLC0415 - only with pydantic installed

        @dataclasses.dataclass(frozen=True)
        class SendMailTask:
            payload: MailPayload

        adapter = pydantic.TypeAdapter(SendMailTask)
        stored = []

        async def enqueue(payload):
            stored.append(adapter.dump_json(SendMailTask(payload)))

        message_id = await QueuedMailSender(enqueue).send(full_message())
        task = adapter.validate_json(stored[0])
        server = await smtp_server()
        await deliver_payload(
            task.payload, SmtpMailSender(server.host, server.port, security="none")
        )
        [received] = server.received
        assert received.message["Message-ID"] == message_id
        [attachment] = received.message.iter_attachments()
        assert attachment.get_content() == bytes(range(256))

        broken = json.loads(stored[0])
        broken["payload"]["attachments"][0].pop("filename")
        with pytest.raises(pydantic.ValidationError, match="filename"):
            adapter.validate_json(json.dumps(broken))
