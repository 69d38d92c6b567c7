"""Engine, sessions and the declarative base.

Commit at the edge only: request dependencies and workers open a unit of work with
`unit_of_work()`, services `flush()`, and the edge commits or rolls back.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

# Explicit constraint names, so Alembic migrations are stable and reversible on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Workers and hub processes share PostgreSQL; a fixed pool per process keeps the server under
    # its connection limit. No overflow: overflow connections are closed as soon as they are
    # returned, so a burst above the pool size opened and closed a connection per unit of work
    # (a new PostgreSQL backend, its catalog caches and every statement prepared again);
    # measured in the exchange benchmark, PostgreSQL CPU per envelope 7.4 -> 5.1 ms without it.
    # The hub has no pre-ping: it cost a round trip per unit of work (8 % of the worker's CPU,
    # 5 % of the hub's). A connection found dead when used invalidates the whole pool
    # (SQLAlchemy replaces every older connection), its request is answered 503 "retry"
    # (`database_unavailable`) and the routing workers retry their batch, as they do while the
    # database is down anyway. (GeNS, whose users see pages rather than retrying clients, has
    # its own engine, and pings.)
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=0, pool_pre_ping=False
    )


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or used just now (down, restarting,
    connection lost, every pooled connection busy for too long, SQLite busy): nothing was
    committed, and the same request may simply be sent again."""
    if isinstance(exc, sqlalchemy_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sqlalchemy_exc.OperationalError | sqlalchemy_exc.InterfaceError
        )
    return isinstance(exc, sqlalchemy_exc.TimeoutError | ConnectionError)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run while one writer commits; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit if the block finishes, roll back if it raises."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
