"""Alembic environment of this application, run through scaffold.persistence."""

import chatbot.infrastructure.persistence.model  # noqa: F401 - registers its tables on Base.metadata
from scaffold.persistence.migrations import run_migrations
from scaffold.persistence.model import Base

run_migrations(Base.metadata)
