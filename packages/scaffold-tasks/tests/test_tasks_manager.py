"""The task manager: background work in this process, tracked, logged, awaited on shutdown."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading

import pytest

from scaffold.tasks import TaskManager


class NotificationService:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_welcome_message(self, email: str) -> None:
        await asyncio.sleep(0.01)
        self.sent.append(email)


class TestRunTask:
    async def test_runs_a_coroutine_function_with_arguments(self):
        """`run_task(fn, *args)` (the 0.9 call) runs fn(*args) in the background."""
        service = NotificationService()
        manager = TaskManager()
        task = manager.run_task(service.send_welcome_message, "ada@example.com")
        assert manager.running == 1
        assert task.get_name() == "NotificationService.send_welcome_message"
        await manager.join()
        assert service.sent == ["ada@example.com"]
        assert (manager.running, manager.succeeded) == (0, 1)

    async def test_runs_plain_functions_in_a_thread(self):
        """A plain function runs in a worker thread, keeping the event loop free."""
        manager = TaskManager()
        main = threading.get_ident()
        task = manager.run_task(threading.get_ident)
        assert await task != main

    async def test_keyword_arguments_and_partials(self):
        """Keyword arguments and functools.partial work too."""
        service = NotificationService()
        manager = TaskManager()
        manager.run_task(service.send_welcome_message, email="a@example.com")
        manager.run_task(functools.partial(service.send_welcome_message, "b@example.com"))
        await manager.join()
        assert sorted(service.sent) == ["a@example.com", "b@example.com"]

    async def test_failure_is_logged_with_the_task_name(self, caplog):
        """A failing task's exception is logged with its name and traceback, not raised."""

        async def send_invoice(number: int) -> None:
            raise ValueError(f"invoice {number} is empty")

        manager = TaskManager()
        with caplog.at_level(logging.ERROR, logger="scaffold.tasks"):
            manager.run_task(send_invoice, 7)
            await manager.join()
        assert manager.failed == 1
        record = caplog.records[-1]
        assert "background task" in record.getMessage()
        assert "send_invoice" in record.getMessage()
        assert "invoice 7 is empty" in record.getMessage()
        assert record.exc_info is not None

    def test_needs_a_running_loop(self):
        """Called outside async code, run_task says it needs a running event loop."""
        with pytest.raises(RuntimeError, match="needs a running event loop"):
            TaskManager().run_task(NotificationService().send_welcome_message, "x")

    async def test_refuses_non_callables(self):
        """A non-callable is refused at once."""
        with pytest.raises(TypeError, match="needs a callable"):
            TaskManager().run_task("not a function")  # type: ignore[call-overload]


class TestShutdown:
    async def test_waits_for_running_tasks(self):
        """Shutdown lets running tasks finish, then refuses new ones."""
        service = NotificationService()
        manager = TaskManager()
        manager.run_task(service.send_welcome_message, "late@example.com")
        await manager.shutdown()
        assert service.sent == ["late@example.com"]
        with pytest.raises(RuntimeError, match="shut down"):
            manager.run_task(service.send_welcome_message, "x")

    async def test_cancels_what_outlives_the_grace_period(self, caplog):
        """Tasks still running after the grace period are cancelled and named in the log."""
        cancelled = asyncio.Event()

        async def forever() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        manager = TaskManager(shutdown_timeout=0.05)
        manager.run_task(forever)
        with caplog.at_level(logging.WARNING, logger="scaffold.tasks"):
            await manager.shutdown()
        assert cancelled.is_set()
        assert manager.running == 0
        assert "forever" in caplog.text
        assert manager.failed == 0

    async def test_async_context_manager(self):
        """`async with TaskManager()` shuts down on exit."""
        service = NotificationService()
        async with TaskManager() as manager:
            manager.run_task(service.send_welcome_message, "ctx@example.com")
        assert service.sent == ["ctx@example.com"]

    async def test_inside_a_quart_app_lifecycle(self):
        """Hooked into Quart's serving lifecycle, shutdown waits for background work."""
        quart = pytest.importorskip("quart")
        service = NotificationService()
        manager = TaskManager()
        app = quart.Quart(__name__)
        app.after_serving(manager.shutdown)

        @app.post("/sign-up")
        async def sign_up() -> str:
            manager.run_task(service.send_welcome_message, "web@example.com")
            return "ok"

        async with app.test_app() as test_app:
            response = await test_app.test_client().post("/sign-up")
            assert response.status_code == 200
        assert service.sent == ["web@example.com"]
