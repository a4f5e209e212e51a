"""The composition root: the one module that knows every layer of the chatbot.

`bootstrap()` builds the container from `Settings`; `web_app()` is the ASGI app factory the
servers load. On SQLite (the embedded default) the web process also runs the task worker
and the cron scheduler; on PostgreSQL they run as `chatbot worker` processes.
"""

import asyncio
import contextlib
import datetime
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from openai import AsyncOpenAI

from chatbot.application.interfaces import (
    NotificationService,
    PubSubService,
    TaskAttempt,
    TaskQueue,
    UnitOfWorkFactory,
)
from chatbot.application.services.message_service import MessageService
from chatbot.application.services.user_service import UserService
from chatbot.application.tasks.definitions import (
    PruneOldConversationsTask,
    ReplyToConversationTask,
    SendWelcomeEmailTask,
)
from chatbot.application.tasks.handlers import (
    PruneOldConversationsTaskHandler,
    ReplyToConversationTaskHandler,
    SendWelcomeEmailTaskHandler,
)
from chatbot.domain.chatbot import Chatbot
from chatbot.infrastructure.chatbots.offline import OfflineBot
from chatbot.infrastructure.chatbots.openai_bot import OpenAIBot
from chatbot.infrastructure.persistence.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from chatbot.infrastructure.services.emailnotificationservice import EmailNotificationService
from chatbot.infrastructure.services.pub_sub import ScaffoldPubSubService
from chatbot.infrastructure.services.task_queue import ScaffoldTaskQueue, task_attempt
from chatbot.presentation.web.app import create_web_app
from chatbot.settings import Settings
from scaffold.di import Container
from scaffold.mail import MailSender, mail_sender_from_url
from scaffold.persistence import Database, uuid7
from scaffold.pubsub import PubSub, from_url
from scaffold.tasks import (
    ContainerResolver,
    CronSchedule,
    TaskContext,
    TaskRegistry,
    Worker,
    WorkerSettings,
    backend_from_url,
)
from scaffold.tasks import TaskQueue as DurableTaskQueue
from scaffold.web import WebApp, WebSettings

logger = logging.getLogger(__name__)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def task_registry() -> TaskRegistry:
    """The background tasks under their stable names (what the database stores)."""
    registry = TaskRegistry()
    registry.register(
        ReplyToConversationTask, ReplyToConversationTaskHandler, name="chat.reply", max_attempts=5
    )
    registry.register(
        SendWelcomeEmailTask, SendWelcomeEmailTaskHandler, name="mail.welcome", max_attempts=8
    )
    registry.register(
        PruneOldConversationsTask,
        PruneOldConversationsTaskHandler,
        name="chat.prune",
        max_attempts=3,
    )
    return registry


def schedules(settings: Settings) -> list[CronSchedule]:
    return [
        CronSchedule(
            name="chat.prune-nightly",
            expression=settings.prune_schedule,
            task=PruneOldConversationsTask(max_age_days=settings.prune_messages_after_days),
        )
    ]


async def open_database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def open_pub_sub(settings: Settings) -> AsyncIterator[PubSub]:
    pub_sub = from_url(settings.resolved_pubsub_url)
    try:
        yield pub_sub
    finally:
        await pub_sub.aclose()


def new_task_queue(settings: Settings) -> DurableTaskQueue:
    """The app's task queue on its database, not yet opened."""
    return DurableTaskQueue(backend_from_url(settings.resolved_database_url), task_registry())


async def open_task_queue(settings: Settings) -> AsyncIterator[DurableTaskQueue]:
    queue = new_task_queue(settings)
    await queue.open()
    try:
        yield queue
    finally:
        await queue.close()


def unit_of_work_factory(database: Database) -> SqlUnitOfWorkFactory:
    return SqlUnitOfWorkFactory(database, SqlUnitOfWork)


def chatbot(settings: Settings) -> Chatbot:
    if settings.openai_api_key is None:
        return OfflineBot(clock=utc_now, new_id=uuid7)
    client = AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        # The task queue retries a failed reply (with backoff, then a dead letter), so the
        # client does not retry on its own as well.
        max_retries=0,
        timeout=60.0,
    )
    return OpenAIBot(client, model=settings.openai_model, clock=utc_now, new_id=uuid7)


def notification_service(settings: Settings, mail_sender: MailSender) -> NotificationService:
    return EmailNotificationService(mail_sender, settings.mail_sender)


def bootstrap(settings: Settings | None = None) -> Container:
    settings = settings or Settings()
    container = Container()
    container.add_instance(Settings, settings)

    # Infrastructure, opened once per process and closed with the container.
    container.add_singleton(Database, open_database)
    container.add_singleton(PubSub, open_pub_sub)
    container.add_singleton(DurableTaskQueue, open_task_queue)
    container.add_singleton(MailSender, lambda: mail_sender_from_url(settings.mail_url))

    # The application's interfaces, bound to their implementations.
    container.add_singleton(UnitOfWorkFactory, unit_of_work_factory)
    container.add_singleton(PubSubService, ScaffoldPubSubService)
    container.add_singleton(TaskQueue, ScaffoldTaskQueue)
    container.add_singleton(NotificationService, notification_service)
    container.add_singleton(Chatbot, chatbot)

    # Application services and the task handlers the worker resolves per task; a task's
    # scope carries the worker's TaskContext, from which a handler may learn its attempt.
    container.add_singleton(UserService)
    container.add_singleton(MessageService)
    container.add_context(TaskContext)
    container.add_scoped(TaskAttempt, task_attempt)
    container.add_scoped(ReplyToConversationTaskHandler)
    container.add_scoped(SendWelcomeEmailTaskHandler)
    container.add_scoped(PruneOldConversationsTaskHandler)
    return container


def create_worker(container: Container, settings: Settings, queue: DurableTaskQueue) -> Worker:
    return Worker(
        queue,
        resolver=ContainerResolver(container),
        settings=WorkerSettings(concurrency=settings.worker_concurrency),
        schedules=schedules(settings),
    )


def web_app(settings: Settings | None = None) -> WebApp:
    """The ASGI app; on SQLite the task worker and scheduler run inside it."""
    settings = settings or Settings()
    container = bootstrap(settings)
    app = create_web_app(
        container,
        WebSettings(
            environment=settings.environment,
            secret_key=(settings.secret_key.get_secret_value() if settings.secret_key else None),
            data_dir=settings.data_dir,
            allowed_origins=settings.allowed_origins,
            proxy_hops=settings.proxy_hops,
        ),
    )
    if settings.embedded:
        run_worker_inside(app, container, settings)
    return app


def run_worker_inside(app: WebApp, container: Container, settings: Settings) -> None:
    """Run the task worker and scheduler for as long as the app serves.

    A `while_serving` generator resumes at shutdown before the app closes its container,
    so the worker stops while the queue and the database are still open.
    """

    @app.while_serving
    async def worker_alongside() -> AsyncGenerator[None]:
        queue = await container.aresolve(DurableTaskQueue)
        await queue.migrate()
        worker = create_worker(container, settings, queue)
        task = asyncio.create_task(worker.run(handle_signals=False), name="task-worker")
        logger.info("task worker and scheduler running inside the web process")
        yield
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
