"""Persistence: calls, turns, WhatsApp jobs and conversations (SQLAlchemy; SQLite by default)."""

from voice.store.db import Database, get_database

__all__ = ["Database", "get_database"]
