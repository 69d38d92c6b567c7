"""Waiting that a shutdown (or new work) cuts short."""

import asyncio
import contextlib


async def wait_or_stop(
    stopping: asyncio.Event, seconds: float, wake: asyncio.Event | None = None
) -> None:
    """Sleep up to `seconds`; return early when `stopping` (or `wake`) is set."""
    if seconds <= 0 or stopping.is_set() or (wake is not None and wake.is_set()):
        return
    waiters = [asyncio.ensure_future(stopping.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
