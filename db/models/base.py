from sqlalchemy.orm import DeclarativeBase

from inngest_temporal.db import UtcDateTime, utcnow

__all__ = ["Base", "UtcDateTime", "utcnow"]


class Base(DeclarativeBase):
    pass
