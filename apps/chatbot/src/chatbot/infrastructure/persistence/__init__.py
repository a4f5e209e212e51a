"""Persistence of the chatbot: SQLAlchemy models, repositories and the unit of work."""
