"""What several benchmarks need alike: the machine's CPU model, a process's CPU time, and
throw-away PostgreSQL databases on the server the tests use."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.settings import async_database_url

#: The maintenance database of the server benchmarks create their own databases on.
POSTGRES_ADMIN: Final = os.environ.get(
    "EPHYTO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and of its reaped children) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime/stime fields 14/15, cutime/cstime 16/17.
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def postgres_url(database: str) -> str:
    """The URL of ``database`` on the same server as POSTGRES_ADMIN."""
    return f"{POSTGRES_ADMIN.rpartition('/')[0]}/{database}"


async def postgres_admin(statement: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    engine = create_async_engine(async_database_url(POSTGRES_ADMIN), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()
