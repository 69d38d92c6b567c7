"""Push delivery: one lane per push destination, the database as the retry schedule.

```
 box consumer ──(push_deliveries row, due now)──> lane of box X ──claim due rows (lease)──>
   DeliverEnvelope on X's receiver (no DB transaction, no broker message held) ──> outcome:
     answer        -> envelope Delivered / DeliveredWithWarnings / ... ; row done; circuit closed
     no answer     -> row due again after backoff with jitter; failure counted on X's circuit
     limit reached -> envelope FailedDelivery with the last reason; row failed
```

Each destination has its own lane (task), HTTP connection pool and in-flight limit
(`concurrency`), so a slow or dead receiver holds only its own lane. After `circuit_threshold`
consecutive failures its circuit opens (state in `push_circuits`, shared by every worker): no
calls until it reopens, then one probe decides whether it closes or stays open (twice as long).

Several workers may run lanes for the same destination: a claim leases rows
(`FOR UPDATE SKIP LOCKED` + `lease_token`), and an outcome is recorded only under the lease that
made the call. A worker killed mid-call leaves a lease that expires after `PushPolicy.lease`;
then the row is pushed again — the one case where a receiver can see an envelope twice, with the
same hubDeliveryNumber (receivers deduplicate on it).
"""

import asyncio
import logging
import random
import ssl
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.database import unit_of_work, utcnow
from hub.envelopes.domain import TrackingState
from hub.envelopes.service import EnvelopeService
from hub.observability.metrics import record_push_attempt
from hub.routing import repository
from hub.routing.models import PushState
from hub.routing.policy import PushPolicy
from hub.routing.push_client import PushAnswered, PushClient, PushFailed, PushOutcome
from hub.routing.timing import wait_or_stop

logger = logging.getLogger(__name__)

#: A lane with nothing due looks again at least this often (other workers may add work).
IDLE_POLL_SECONDS = 1.0


class PushWorker:
    """Keeps one lane per push destination in the registry."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        envelopes: EnvelopeService,
        policy: PushPolicy,
        ssl_context: ssl.SSLContext,
        refresh_seconds: float = 5.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._envelopes = envelopes
        self._policy = policy
        self._ssl = ssl_context
        self._refresh = refresh_seconds
        self._clock = clock
        self._rng = rng or random.Random()
        self._lanes: dict[str, tuple[PushLane, asyncio.Task[None]]] = {}

    def wake(self, box_code: str) -> None:
        entry = self._lanes.get(box_code)
        if entry is not None:
            entry[0].wake()

    async def run(self, stopping: asyncio.Event) -> None:
        try:
            while not stopping.is_set():
                try:
                    await self._refresh_lanes(stopping)
                except Exception:
                    logger.warning("push: could not read the registry", exc_info=True)
                await wait_or_stop(stopping, self._refresh)
        finally:
            for lane, task in self._lanes.values():
                lane.stop()
                await asyncio.gather(task, return_exceptions=True)
            self._lanes.clear()

    async def _refresh_lanes(self, stopping: asyncio.Event) -> None:
        async with unit_of_work(self._sessionmaker) as session:
            destinations = await repository.push_destinations(session)
        for box, (lane, task) in list(self._lanes.items()):
            if destinations.get(box) != lane.url:  # gone, or its receiver moved
                lane.stop()
                await asyncio.gather(task, return_exceptions=True)
                del self._lanes[box]
        for box, url in destinations.items():
            if box not in self._lanes:
                lane = PushLane(
                    box_code=box,
                    url=url,
                    sessionmaker=self._sessionmaker,
                    envelopes=self._envelopes,
                    policy=self._policy,
                    client=PushClient(
                        url=url,
                        ssl_context=self._ssl,
                        timeout=self._policy.timeout_seconds,
                        max_connections=self._policy.concurrency,
                    ),
                    clock=self._clock,
                    rng=self._rng,
                    stopping=stopping,
                )
                self._lanes[box] = (lane, asyncio.create_task(lane.run(), name=f"push-{box}"))


class PushLane:
    def __init__(
        self,
        *,
        box_code: str,
        url: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        envelopes: EnvelopeService,
        policy: PushPolicy,
        client: PushClient,
        clock: Callable[[], datetime],
        rng: random.Random,
        stopping: asyncio.Event,
    ) -> None:
        self.box_code = box_code
        self.url = url
        self._sessionmaker = sessionmaker
        self._envelopes = envelopes
        self._policy = policy
        self._client = client
        self._clock = clock
        self._rng = rng
        self._stopping = stopping
        self._own_stop = asyncio.Event()
        self._wake = asyncio.Event()
        self.calls = 0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._own_stop.set()
        self._wake.set()

    @property
    def _stopped(self) -> bool:
        return self._stopping.is_set() or self._own_stop.is_set()

    async def run(self) -> None:
        failures = 0
        try:
            while not self._stopped:
                try:
                    pause = await self.step()
                    failures = 0
                except Exception:
                    failures += 1
                    logger.warning("push lane %s: step failed", self.box_code, exc_info=True)
                    pause = min(5.0, 0.2 * 2**failures)
                if pause > 0 and not self._stopped:
                    self._wake.clear()
                    await wait_or_stop(self._stopping, pause, self._wake)
        finally:
            await self._client.aclose()

    async def step(self) -> float:
        """Push what is due now; the seconds to wait before the next step (0: go on)."""
        now = self._clock()
        limit = self._policy.concurrency
        async with unit_of_work(self._sessionmaker) as session:
            circuit = await repository.circuit(session, self.box_code)
            opened_until = circuit.opened_until if circuit is not None else None
        if opened_until is not None:
            if opened_until > now:
                await self._give_up_expired(now)
                return min(IDLE_POLL_SECONDS * 5, (opened_until - now).total_seconds())
            async with unit_of_work(self._sessionmaker) as session:
                probing = await repository.take_probe(
                    session,
                    box_code=self.box_code,
                    now=now,
                    probe_until=now + timedelta(seconds=self._policy.timeout_seconds + 5),
                )
            if not probing:
                return IDLE_POLL_SECONDS  # another worker probes
            limit = 1
        token = uuid.uuid4().hex
        async with unit_of_work(self._sessionmaker) as session:
            claimed = await repository.claim_pushes(
                session,
                box_code=self.box_code,
                limit=limit,
                now=now,
                lease_until=now + self._policy.lease,
                token=token,
            )
        if not claimed:
            async with unit_of_work(self._sessionmaker) as session:
                due = await repository.next_due(session, self.box_code)
            if due is None:
                return IDLE_POLL_SECONDS
            return max(0.0, min(IDLE_POLL_SECONDS, (due - self._clock()).total_seconds()))
        outcomes = await asyncio.gather(*(self._attempt(row) for row in claimed))
        # Every outcome of the round in one transaction: one commit (and one turn of the
        # evidence chain's lock) per round instead of one per envelope.
        await self._record(lambda s: self._record_round(s, token, claimed, outcomes))
        return 0.0

    async def _attempt(self, row: repository.ClaimedPush) -> PushOutcome | None:
        """Call the receiver; None when the envelope is final already (the NPPO pulled and
        acknowledged it meanwhile), so there is nothing to push."""
        async with unit_of_work(self._sessionmaker) as session:
            envelope = await self._envelopes.envelope_for_push(session, envelope_id=row.envelope_id)
        if envelope is None:
            return None
        self.calls += 1
        return await self._client.deliver(envelope)  # outside any transaction

    async def _record_round(
        self,
        session: AsyncSession,
        token: str,
        rows: Sequence[repository.ClaimedPush],
        outcomes: Sequence[PushOutcome | None],
    ) -> None:
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome is None:
                await repository.finish_push(
                    session,
                    push_id=row.id,
                    token=token,
                    state=PushState.DONE,
                    attempts=row.attempts,
                    error="final before it was pushed",
                    now=self._clock(),
                )
            else:
                await self._record_outcome(session, row, token, outcome)

    async def _record_outcome(
        self, session: AsyncSession, row: repository.ClaimedPush, token: str, outcome: PushOutcome
    ) -> bool:
        now = self._clock()
        attempts = row.attempts + 1
        if isinstance(outcome, PushAnswered):
            if await repository.finish_push(
                session,
                push_id=row.id,
                token=token,
                state=PushState.DONE,
                attempts=attempts,
                error=None,
                now=now,
            ):
                await self._envelopes.record_push_outcome(
                    session,
                    delivery_number=row.hub_delivery_number,
                    state=outcome.state,
                    message=outcome.message,
                    actor=self.box_code,
                )
            await repository.record_success(session, box_code=self.box_code, now=now)
            record_push_attempt(destination=self.box_code, result="ok")
            return True
        assert isinstance(outcome, PushFailed)
        reason = f"push to {self.box_code} failed: {outcome.reason}"
        too_old = now - row.created_at >= self._policy.give_up_after
        if attempts >= self._policy.max_attempts or too_old:
            if await repository.finish_push(
                session,
                push_id=row.id,
                token=token,
                state=PushState.FAILED,
                attempts=attempts,
                error=outcome.reason,
                now=now,
            ):
                await self._envelopes.record_push_outcome(
                    session,
                    delivery_number=row.hub_delivery_number,
                    state=TrackingState.FAILED_DELIVERY,
                    message=f"{reason} (attempt {attempts}, giving up)",
                    actor="hub",
                )
        else:
            await repository.retry_push_later(
                session,
                push_id=row.id,
                token=token,
                attempts=attempts,
                due_at=now + self._policy.retry_delay(attempts, self._rng),
                error=outcome.reason,
            )
        record_push_attempt(
            destination=self.box_code,
            result="failed" if attempts >= self._policy.max_attempts or too_old else "retry",
        )
        opened = await repository.record_failure(
            session,
            box_code=self.box_code,
            error=outcome.reason,
            now=now,
            threshold=self._policy.circuit_threshold,
            open_for=self._policy.circuit_open_for,
        )
        if opened is not None and opened > now:
            logger.warning("push circuit of %s open until %s: %s", self.box_code, opened, reason)
        return False

    async def _record(self, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """Commit an outcome, retrying while the database is away: the call has happened, and
        losing its outcome would mean calling the receiver again once the lease expires."""
        deadline = self._clock() + self._policy.lease / 2
        failures = 0
        while True:
            try:
                async with unit_of_work(self._sessionmaker) as session:
                    await work(session)
                return
            except Exception:
                failures += 1
                if self._clock() >= deadline:
                    logger.error("push %s: outcome not recorded, lease will expire", self.box_code)
                    raise
                await asyncio.sleep(min(2.0, 0.1 * 2**failures))

    async def _give_up_expired(self, now: datetime) -> None:
        """While the circuit is open nothing is attempted; envelopes waiting longer than the
        give-up age fail here rather than wait for a receiver that may never return."""
        async with unit_of_work(self._sessionmaker) as session:
            expired = await repository.expired_pushes(
                session,
                box_code=self.box_code,
                created_before=now - self._policy.give_up_after,
                limit=500,
            )
            if not expired:
                return
            circuit = await repository.circuit(session, self.box_code)
            last = circuit.last_error if circuit is not None else None
            reason = (
                f"push to {self.box_code} failed: receiver unreachable for "
                f"{self._policy.give_up_after}; last error: {last}"
            )
            await repository.fail_expired(
                session, ids=[r.id for r in expired], error=reason, now=now
            )
            for row in expired:
                await self._envelopes.record_push_outcome(
                    session,
                    delivery_number=row.hub_delivery_number,
                    state=TrackingState.FAILED_DELIVERY,
                    message=reason,
                    actor="hub",
                )
