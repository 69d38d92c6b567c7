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

from hub.settings import HubSettings

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


async def wait_for_services(
    settings: HubSettings,
    *,
    within: float,
    broker: bool = True,
    report: Callable[[str], None] = print,
    every: float = 1.0,
) -> str | None:
    """Try the database (and the broker) until both answer; None, or the last failure."""
    from hub.database import create_engine

    engine = create_engine(settings.sqlalchemy_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while True:
            checks = [run_check("database", lambda: check_database(engine))]
            if broker and settings.broker_url:
                checks.append(run_check("broker", lambda: check_broker(settings.broker_url)))
            results = await asyncio.gather(*checks)
            failed = [r for r in results if not r.ok]
            if not failed:
                for r in results:
                    report(f"{r.name}: {r.detail}")
                return None
            last = "; ".join(f"{r.name}: {r.detail}" for r in failed)
            if loop.time() >= deadline:
                return f"not ready after {within:g} s: {last}"
            report(f"waiting: {last}")
            await asyncio.sleep(every)
    finally:
        await engine.dispose()
