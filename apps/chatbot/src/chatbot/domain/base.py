"""Building blocks of the domain model: entities and their identities."""

import abc
import dataclasses
import uuid


@dataclasses.dataclass(frozen=True)
class EntityId:
    """The identity of an entity; subclasses give each kind of entity an id type of its own."""

    value: uuid.UUID

    def __str__(self) -> str:
        return str(self.value)


class Entity(abc.ABC):
    """An object defined by its identity rather than by its attributes."""

    @property
    @abc.abstractmethod
    def id(self) -> EntityId: ...

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entity) and type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self), self.id))
