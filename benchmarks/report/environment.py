"""What the numbers were measured on: the machine, its load, and the versions of everything."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from benchmarks.support import cpu_model

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN = os.environ.get(
    "EPHYTO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: The libraries whose versions move the figures (parsing, signing, web, database, broker).
KEY_LIBRARIES = (
    "lxml",
    "xmlschema",
    "cryptography",
    "signxml",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "jinja2",
    "pydantic",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "aio-pika",
    "argon2-cffi",
)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_bytes": _ram_bytes(),
        "os": platform.platform(),
    }


def _ram_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def versions() -> dict[str, Any]:
    from lxml import etree

    libraries = {}
    for name in KEY_LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = "not installed"
    return {
        "python": platform.python_version(),
        "libxml2": ".".join(map(str, etree.LIBXML_VERSION)),
        "postgresql": _postgresql(),
        "rabbitmq": _rabbitmq(),
        "git": _git(),
        "libraries": libraries,
    }


def _postgresql() -> str:
    """The server's own version (what the benchmarks ran against), not the client's."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.ext.asyncio import create_async_engine

    async def ask() -> str:
        url = POSTGRES_ADMIN.replace("postgresql://", "postgresql+asyncpg://", 1)
        engine = create_async_engine(url, connect_args={"timeout": 10})
        try:
            async with engine.connect() as connection:
                return str((await connection.execute(text("SHOW server_version"))).scalar_one())
        finally:
            await engine.dispose()

    try:
        return asyncio.run(ask())
    except (OSError, SQLAlchemyError, TimeoutError) as exc:
        return f"unavailable ({type(exc).__name__}: {exc})"


def _rabbitmq() -> str:
    return _command("rabbitmqctl", "-q", "version") or "unavailable (rabbitmqctl failed)"


def _git() -> dict[str, Any]:
    commit = _command("git", "rev-parse", "HEAD")
    changed = _command("git", "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit or "unknown",
        "subject": _command("git", "log", "-1", "--format=%s") or "",
        # Files changed but not committed: the run measured the tree, not just the commit.
        "uncommitted_files": len(changed.splitlines()) if changed is not None else None,
    }


def _command(*argv: str) -> str | None:
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def now() -> datetime:
    return datetime.now(UTC)
