"""Persistence: SQLModel tables per domain, the engine and sessions, Alembic migrations."""
