"""Liveness and readiness.

Live: the process answers (a load balancer restarts it when not). Ready: it can do its work —
the database answers a query and the broker accepts a connection — so a load balancer sends it
traffic only then. Each check has a time limit: a hung dependency makes the probe fail, never
hang.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float


async def check_database(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return f"{engine.dialect.name} answers"


async def check_broker(broker_url: str) -> str:
    if not broker_url:
        return "in-process broker"
    import aio_pika  # only when a RabbitMQ URL is configured

    connection = await aio_pika.connect(broker_url, timeout=CHECK_TIMEOUT_SECONDS)
    await connection.close()
    return "RabbitMQ accepts connections"


async def run_check(name: str, check: Callable[[], Awaitable[str]]) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
        ok = True
    except TimeoutError:
        detail, ok = f"no answer within {CHECK_TIMEOUT_SECONDS:g} s", False
    except Exception as exc:  # any failure of a dependency means "not ready", with its reason
        detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
    return CheckResult(name=name, ok=ok, detail=detail, seconds=time.perf_counter() - started)
