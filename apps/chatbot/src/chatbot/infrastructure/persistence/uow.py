from typing import override

from sqlalchemy.ext.asyncio import AsyncSession

from chatbot.application.interfaces import UnitOfWork
from chatbot.application.interfaces import UnitOfWorkFactory as ApplicationUnitOfWorkFactory
from scaffold.persistence.uow import GenericSqlUnitOfWork, UnitOfWorkFactory

from .message_repository import SqlMessageRepository


class SqlUnitOfWork(GenericSqlUnitOfWork, UnitOfWork):
    @override
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self.messages = SqlMessageRepository(session)


class SqlUnitOfWorkFactory(UnitOfWorkFactory[SqlUnitOfWork], ApplicationUnitOfWorkFactory):
    """Units of work on the app's database, as the application layer asks for them."""
