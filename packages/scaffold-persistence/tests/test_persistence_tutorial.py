"""The 0.9 tutorial's persistence code runs unchanged, apart from its imports.

The domain, model, repository and unit of work below are the tutorial's own text (the
domain's `base.py` is not shown there, so a minimal one stands in, and the unit of work's
elided lines are filled in). They are written out as an application package and driven
through the flows of the tutorial's MessageService, in a process of their own, against
SQLite and PostgreSQL.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

FILES = {
    "app/__init__.py": "",
    "app/domain/__init__.py": "",
    "app/domain/base.py": """
        import abc
        import dataclasses
        import uuid


        @dataclasses.dataclass(frozen=True)
        class EntityId:
            value: uuid.UUID


        class Entity(abc.ABC):
            @property
            @abc.abstractmethod
            def id(self) -> EntityId: ...
    """,
    "app/domain/message.py": """
        import abc
        import dataclasses
        import datetime
        from collections.abc import Sequence
        from typing import override

        from .base import Entity, EntityId


        @dataclasses.dataclass(frozen=True)
        class MessageId(EntityId):
            pass


        @dataclasses.dataclass(frozen=True)
        class UserId(EntityId):
            pass


        class Message(Entity):
            def __init__(
                self,
                id: MessageId,
                user_id: UserId,
                content: str,
                sent_at: datetime.datetime,
            ) -> None:
                self._id = id
                self._user_id = user_id
                self._content = content
                self._sent_at = sent_at

            @property
            @override
            def id(self) -> MessageId:
                return self._id

            @property
            def user_id(self) -> UserId:
                return self._user_id

            @property
            def content(self) -> str:
                return self._content

            @property
            def sent_at(self) -> datetime.datetime:
                return self._sent_at


        class UserMessage(Message):
            pass


        class BotMessage(Message):
            pass


        class MessageRepository(abc.ABC):
            @abc.abstractmethod
            async def get(self, id: MessageId) -> Message | None:
                pass

            @abc.abstractmethod
            def add(self, message: Message) -> None:
                pass

            @abc.abstractmethod
            async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
                pass
    """,
    "app/application/__init__.py": "",
    "app/application/interfaces/__init__.py": "",
    "app/application/interfaces/uow.py": """
        import abc
        from typing import Self

        from app.domain.message import MessageRepository


        class UnitOfWork(abc.ABC):
            messages: MessageRepository

            @abc.abstractmethod
            async def __aenter__(self) -> Self: ...

            @abc.abstractmethod
            async def __aexit__(self, *exc_info: object) -> None: ...

            @abc.abstractmethod
            async def commit(self) -> None: ...


        class UnitOfWorkFactory(abc.ABC):
            @abc.abstractmethod
            def create(self) -> UnitOfWork: ...
    """,
    "app/infrastructure/__init__.py": "",
    "app/infrastructure/persistence_model.py": """
        import datetime
        import uuid

        from scaffold.persistence.model import Base, EntityMixin, TimestampMixin
        from sqlalchemy.orm import Mapped, mapped_column


        class Message(EntityMixin, TimestampMixin, Base):
            __tablename__ = "message"

            user_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
            content: Mapped[str]
            sent_at: Mapped[datetime.datetime] = mapped_column(nullable=False)
            is_from_bot: Mapped[bool] = mapped_column(nullable=False)
    """,
    "app/infrastructure/repositories/__init__.py": "",
    "app/infrastructure/repositories/sql_message_repository.py": """
        from collections.abc import Sequence
        from typing import override

        import sqlalchemy as sa
        from scaffold.persistence.repository import GenericSqlRepository

        from app.domain.message import (
            BotMessage,
            Message,
            MessageId,
            MessageRepository,
            UserId,
            UserMessage,
        )
        from app.infrastructure.persistence_model import Message as MessageDTO


        class SqlMessageRepository(GenericSqlRepository[Message, MessageId, MessageDTO], MessageRepository):
            @override
            async def get_user_messages(self, user_id: UserId) -> Sequence[Message]:
                dtos = (
                    await self._session.scalars(
                        sa.select(MessageDTO).where(MessageDTO.user_id == user_id.value).order_by(MessageDTO.sent_at.desc()),
                    )
                ).all()
                return [self.map_dto_to_entity_and_track(dto) for dto in dtos]

            @override
            def _map_entity_to_dto(self, entity: Message) -> MessageDTO:
                return MessageDTO(
                    id=entity.id.value,
                    user_id=entity.user_id.value,
                    content=entity.content,
                    sent_at=entity.sent_at,
                    is_from_bot=isinstance(entity, BotMessage),
                )

            @override
            def _map_dto_to_entity(self, dto: MessageDTO) -> Message:
                if dto.is_from_bot:
                    return BotMessage(
                        id=MessageId(dto.id),
                        user_id=UserId(dto.user_id),
                        content=dto.content,
                        sent_at=dto.sent_at,
                    )
                return UserMessage(
                    id=MessageId(dto.id),
                    user_id=UserId(dto.user_id),
                    content=dto.content,
                    sent_at=dto.sent_at,
                )
    """,  # noqa: E501 - the tutorial's text, verbatim, long lines included
    "app/infrastructure/uow.py": """
        import typing

        from scaffold.persistence.uow import GenericSqlUnitOfWork
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.application.interfaces.uow import UnitOfWork
        from app.infrastructure.repositories.sql_message_repository import SqlMessageRepository


        class SqlUnitOfWork(GenericSqlUnitOfWork, UnitOfWork):
            @typing.override
            def __init__(self, session: AsyncSession) -> None:
                super().__init__(session)
                self.messages = SqlMessageRepository(session)
    """,
    "drive.py": '''
        """The flows of the tutorial's MessageService, through the tutorial's unit of work."""

        import asyncio
        import datetime
        import json
        import sys
        import uuid

        from scaffold.persistence import Database, UnitOfWorkFactory, uuid7
        from scaffold.persistence.model import Base

        from app.application.interfaces.uow import UnitOfWorkFactory as AppUnitOfWorkFactory
        from app.domain.message import BotMessage, MessageId, UserId, UserMessage
        from app.infrastructure.uow import SqlUnitOfWork


        class SqlUnitOfWorkFactory(UnitOfWorkFactory[SqlUnitOfWork], AppUnitOfWorkFactory):
            pass


        async def main(url):
            database = Database(url)
            await database.create_all(Base.metadata)
            factory = SqlUnitOfWorkFactory(database, SqlUnitOfWork)
            user_id = uuid.uuid4()
            now = datetime.datetime.now(datetime.UTC)
            report = {}

            # send_user_message
            uow = factory.create()
            async with uow:
                message = UserMessage(
                    id=MessageId(uuid7()), user_id=UserId(user_id), content="Hi!", sent_at=now
                )
                uow.messages.add(message)
                await uow.commit()

            # reply_to_user_latest_message
            uow = factory.create()
            async with uow:
                messages = await uow.messages.get_user_messages(UserId(user_id))
                reply = BotMessage(
                    id=MessageId(uuid7()),
                    user_id=messages[0].user_id,
                    content="Hello, human.",
                    sent_at=now + datetime.timedelta(seconds=1),
                )
                uow.messages.add(reply)
                await uow.commit()
                report["reply_id_after_commit"] = str(reply.id.value)

            # get_messages_for_conversation
            uow = factory.create()
            async with uow:
                messages = await uow.messages.get_user_messages(UserId(user_id))
                report["conversation"] = [
                    [m.content, isinstance(m, BotMessage), m.sent_at.isoformat()] for m in messages
                ]

            # subscribe_to_user_messages: one unit of work entered once per notification
            uow = factory.create()
            fetched = []
            for message_id in (message.id, reply.id):
                async with uow:
                    found = await uow.messages.get(message_id)
                    fetched.append(found.content)
            report["fetched"] = fetched

            print(json.dumps(report))
            await database.dispose()


        asyncio.run(main(sys.argv[1]))
    ''',
}


def write_app(root: Path) -> None:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tutorial_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chatbot.db'}"
    return request.getfixturevalue("pg_schema")("scaffold_persistence_tutorial")


def test_the_tutorial_code_runs_unchanged(tmp_path, tutorial_url):
    """The tutorial's model, repository and unit of work store, reply to and list the
    messages of a conversation, newest first."""
    write_app(tmp_path)
    result = subprocess.run(
        [sys.executable, "drive.py", tutorial_url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    contents = [(content, from_bot) for content, from_bot, _ in report["conversation"]]
    assert contents == [("Hello, human.", True), ("Hi!", False)]
    assert all(sent_at.endswith("+00:00") for _, _, sent_at in report["conversation"])
    assert report["fetched"] == ["Hi!", "Hello, human."]
