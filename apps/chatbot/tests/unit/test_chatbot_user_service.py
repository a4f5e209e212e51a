"""UserService on in-memory fakes: the welcome mail goes through the task queue."""

from chatbot_fakes import FakeNotificationService, FakeTaskQueue

from chatbot.application.services.user_service import UserService
from chatbot.application.tasks.definitions import SendWelcomeEmailTask
from chatbot.application.tasks.handlers import SendWelcomeEmailTaskHandler


async def test_welcome_mail_is_queued_then_delivered_by_its_handler() -> None:
    """Signing in queues the mail; the task handler sends it through the notification service."""
    log: list[str] = []
    queue = FakeTaskQueue(log)
    notifications = FakeNotificationService()
    service = UserService(notifications, queue)

    await service.send_welcome_message("ada@example.com")
    assert queue.tasks == [SendWelcomeEmailTask(email="ada@example.com")]
    assert notifications.welcomed == []

    await SendWelcomeEmailTaskHandler(service).handle(queue.tasks[0])  # type: ignore[arg-type]
    assert notifications.welcomed == ["ada@example.com"]
