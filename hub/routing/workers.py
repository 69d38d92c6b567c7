"""The routing workers of one process: outbox relay, box consumers, push lanes (and the
evidence chainer, hub/signing/evidence, which appends committed events after the fact too).

`ephyto hub worker` runs them as their own process (several may run, on several machines);
`ephyto hub serve` and `ephyto demo` run them inside the hub process when the broker is the
in-process one (or `EPHYTO_WORKERS_IN_PROCESS=true`).
"""

import asyncio
import contextlib
import logging
from datetime import timedelta

from hub.routing.boxes import BoxConsumer
from hub.routing.broker import Broker
from hub.routing.policy import PushPolicy
from hub.routing.push import PushWorker
from hub.routing.push_client import client_ssl_context
from hub.routing.relay import OutboxRelay
from hub.runtime import HubRuntime

logger = logging.getLogger(__name__)


class RoutingWorkers:
    def __init__(
        self,
        runtime: HubRuntime,
        *,
        broker: Broker | None = None,
        refresh_seconds: float = 5.0,
    ) -> None:
        settings = runtime.settings
        self.broker = broker or runtime.broker
        self.push = PushWorker(
            sessionmaker=runtime.sessionmaker,
            envelopes=runtime.envelopes,
            policy=PushPolicy.from_settings(settings),
            ssl_context=client_ssl_context(
                client_cert=settings.push_client_cert,
                client_key=settings.push_client_key,
                ca_bundle=settings.push_ca_bundle,
            ),
            refresh_seconds=refresh_seconds,
        )
        self.relay = OutboxRelay(
            sessionmaker=runtime.sessionmaker,
            broker=self.broker,
            republish_after=timedelta(seconds=settings.outbox_republish_after_seconds),
        )
        self.boxes = BoxConsumer(
            sessionmaker=runtime.sessionmaker,
            broker=self.broker,
            on_push_work=self.push.wake,
            refresh_seconds=refresh_seconds,
        )
        # Not routing, but the same kind of after-commit work, wherever routing workers run.
        self.evidence = runtime.evidence
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.broker.start()
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self.relay.run(self._stopping), name="outbox-relay"),
            asyncio.create_task(self.boxes.run(self._stopping), name="box-consumers"),
            asyncio.create_task(self.push.run(self._stopping), name="push-lanes"),
            asyncio.create_task(self.evidence.run(self._stopping), name="evidence-chainer"),
        ]

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Let in-flight work finish (pushes record their outcome), then stop."""
        self._stopping.set()
        if self._tasks:
            done, pending = await asyncio.wait(self._tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            for task in (*done, *pending):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._tasks = []
        await self.broker.close()

    async def run_until(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
