"""Database access: one async engine per process, sessions from its factory."""

from db.engine import create_engine, session_factory

__all__ = ["create_engine", "session_factory"]
