import abc
from types import TracebackType
from typing import Self

from chatbot.domain.message import MessageRepository


class UnitOfWork(abc.ABC):
    messages: MessageRepository

    @abc.abstractmethod
    async def __aenter__(self) -> Self: ...

    @abc.abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abc.abstractmethod
    async def commit(self) -> None: ...

    @abc.abstractmethod
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(abc.ABC):
    @abc.abstractmethod
    def create(self) -> UnitOfWork: ...
