"""The declarative base every model shares, and moments stored in UTC and read back aware on every database."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC, timezone-aware (a naive moment is taken to be UTC already)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A moment, stored in UTC and read back timezone-aware in UTC from every database.

    Without it SQLite (no time zones: it keeps the text and drops the offset) gives back naive values
    and PostgreSQL (`timestamptz`) aware ones in the connection's time zone, so that code comparing
    a column with `utcnow()` or printing it worked on one and not the other. A naive value is taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base of every model; `Base.metadata` is what Alembic compares against."""
