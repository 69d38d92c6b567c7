"""Prometheus metrics. Every name starts with `ephyto_`.

Two kinds, kept apart on purpose:

- *Events* (counters, histograms) are recorded where they happen, in the process where they
  happen: an envelope accepted or finished (seen by a session hook at commit), a validation
  finding, a push attempt (the routing worker calls `record_push_attempt`). Prometheus adds
  them up across processes.
- *State* (gauges: what waits in each box, since when, certificate expiry, circuit states) is
  read from the database at scrape time, so every hub process reports the same truth and a
  restart loses nothing. The scrape handler reads a snapshot with the async session first and
  then renders it synchronously: no blocking I/O inside `collect()`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeRecord
from hub.observability import state
from hub.operators.control import DestinationControl
from hub.operators.models import AuditEntry
from hub.signing.expiry import CertificateExpiry, certificate_expiries

#: Process-wide event metrics (counters and histograms).
EVENTS = CollectorRegistry(auto_describe=True)
ProcessCollector(namespace="ephyto", registry=EVENTS)

ENVELOPES_ACCEPTED = Counter(
    "ephyto_envelopes_accepted",
    "Envelopes accepted into a box (copies for cc and FORWARD rules count separately).",
    ["kind", "destination"],
    registry=EVENTS,
)
ENVELOPE_OUTCOMES = Counter(
    "ephyto_envelope_outcomes",
    "Envelopes that reached a final tracking state, by state.",
    ["state", "destination"],
    registry=EVENTS,
)
DELIVERY_LATENCY = Histogram(
    "ephyto_delivery_latency_seconds",
    "Time from acceptance to a final state (acknowledged, refused or marked failed).",
    ["state"],
    # Pull NPPOs poll every few minutes; a push is acknowledged in seconds; a failing box
    # waits for hours. The buckets span all three.
    buckets=(0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 72 * 3600),
    registry=EVENTS,
)
PUSH_ATTEMPTS = Counter(
    "ephyto_push_attempts",
    "Push deliveries to an NPPO's own endpoint, by result (ok, retry, failed, circuit_open).",
    ["destination", "result"],
    registry=EVENTS,
)
VALIDATION_RESULTS = Counter(
    "ephyto_validation_results",
    "Validation findings by area (Schema, MandatoryElements, Mapping) and level.",
    ["area", "level"],
    registry=EVENTS,
)
VALIDATIONS = Counter(
    "ephyto_validations",
    "Certificates validated, by verdict (clean, warnings, severe).",
    ["verdict"],
    registry=EVENTS,
)
OPERATOR_ACTIONS = Counter(
    "ephyto_operator_actions",
    "Operator actions written to the audit log, by action and outcome.",
    ["action", "outcome"],
    registry=EVENTS,
)


def record_push_attempt(*, destination: str, result: str) -> None:
    """For the routing worker: one push attempt and how it ended."""
    PUSH_ATTEMPTS.labels(destination=destination, result=result).inc()


# ---------------------------------------------------------------------------- envelope hook

_PENDING_KEY = "ephyto.metrics.pending"


@dataclass(frozen=True, slots=True)
class _Observation:
    kind: str  # "accepted", "finished" or "operator"
    label: str  # the envelope kind, its final state, or the operator action
    destination: str  # the box, or the operator action's outcome
    latency: float | None = None


def _after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    """Note what this flush did to envelopes; published only when the transaction commits."""
    observed: list[_Observation] = session.info.setdefault(_PENDING_KEY, [])
    for obj in session.new:
        if isinstance(obj, EnvelopeRecord):
            observed.append(_Observation("accepted", obj.kind, obj.box_code))
        elif isinstance(obj, AuditEntry):
            observed.append(_Observation("operator", obj.action, obj.outcome))
    for obj in session.dirty:
        if not isinstance(obj, EnvelopeRecord):
            continue
        history = inspect(obj).attrs.tracking_state.history
        if not history.added or not history.deleted:
            continue
        new_state = history.added[0]
        if new_state == TrackingState.PENDING_DELIVERY.value:
            continue
        finished = obj.finished_at or obj.updated_at
        latency = (finished - obj.created_at).total_seconds() if finished else None
        observed.append(_Observation("finished", new_state, obj.box_code, latency))


def _detached_to_persistent(session: Session, instance: object) -> None:
    """An envelope inserted by a statement of its own (``insert_original``: one INSERT ... ON
    CONFLICT instead of a flush) joins the session this way: count it like a flushed one."""
    if isinstance(instance, EnvelopeRecord):
        observed: list[_Observation] = session.info.setdefault(_PENDING_KEY, [])
        observed.append(_Observation("accepted", instance.kind, instance.box_code))


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint was released; the outer transaction may still roll back
    for item in session.info.pop(_PENDING_KEY, ()):
        if item.kind == "accepted":
            ENVELOPES_ACCEPTED.labels(kind=item.label, destination=item.destination).inc()
        elif item.kind == "operator":
            OPERATOR_ACTIONS.labels(action=item.label, outcome=item.destination).inc()
        else:
            ENVELOPE_OUTCOMES.labels(state=item.label, destination=item.destination).inc()
            if item.latency is not None:
                DELIVERY_LATENCY.labels(state=item.label).observe(max(0.0, item.latency))


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint rolled back. Its flush failed (the duplicate-submission path) or was
        # never observed; the outer transaction's observations stand until it ends.
        return
    session.info.pop(_PENDING_KEY, None)


def install_envelope_hooks() -> None:
    """Count envelope acceptances and outcomes at commit, in every process that changes them
    (hub, workers, CLI). Idempotent. A hook rather than calls in the envelope service: every
    path that changes an envelope (both faces, the push worker, operators) goes through an
    ORM session, so none can be forgotten."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("detached_to_persistent", _detached_to_persistent),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


# ---------------------------------------------------------------------------- state at scrape


@dataclass(frozen=True, kw_only=True)
class StateSnapshot:
    now: datetime
    destinations: list[str]
    waiting: Mapping[str, state.BoxWaiting]
    delivered_last_hour: Mapping[str, int]
    finished_last_day: Mapping[str, int]
    expiries: list[CertificateExpiry]
    outbox: state.OutboxBacklog
    push_schedule: Mapping[tuple[str, str], int]
    paused: Mapping[str, bool] = field(default_factory=dict)
    circuits: Mapping[str, str | None] = field(default_factory=dict)


async def read_snapshot(
    session: AsyncSession,
    *,
    now: datetime,
    controls: Mapping[str, DestinationControl] | None = None,
    hub_certificates: Mapping[str, x509.Certificate] | None = None,
) -> StateSnapshot:
    """`controls`: destination -> pause and circuit state, from the routing layer;
    `hub_certificates`: the hub's own certificates by kind ("hub-seal"), for their expiry."""
    waiting = await state.waiting_by_box(session)
    receivers = [n.code for n in await state.receiving_nppos(session)]
    destinations = sorted(set(receivers) | set(waiting))
    controls = controls or {}
    return StateSnapshot(
        now=now,
        destinations=destinations,
        waiting=waiting,
        delivered_last_hour=await state.finished_by_box_since(
            session, since=state.hour_before(now), states=state.DELIVERED_STATES
        ),
        finished_last_day=await state.finished_by_state_since(
            session, since=now - timedelta(days=1)
        ),
        expiries=await certificate_expiries(session, now=now, hub_certificates=hub_certificates),
        outbox=await state.outbox_backlog(session),
        push_schedule=await state.push_schedule(session),
        paused={code: c.paused for code, c in controls.items()},
        circuits={code: c.circuit for code, c in controls.items()},
    )


class SnapshotCollector(Collector):
    """Renders one snapshot; a new one per scrape, so concurrent scrapes share nothing."""

    def __init__(self, snapshot: StateSnapshot) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        s = self._snapshot
        waiting = GaugeMetricFamily(
            "ephyto_box_waiting_envelopes",
            "Envelopes waiting in a destination's box (PendingDelivery).",
            labels=["destination"],
        )
        oldest = GaugeMetricFamily(
            "ephyto_box_oldest_waiting_seconds",
            "Age of the oldest envelope waiting in a destination's box (0 when empty).",
            labels=["destination"],
        )
        delivered = GaugeMetricFamily(
            "ephyto_box_delivered_last_hour",
            "Envelopes a destination acknowledged (Delivered, DeliveredWithWarnings) in the "
            "last hour.",
            labels=["destination"],
        )
        for code in s.destinations:
            box = s.waiting.get(code)
            waiting.add_metric([code], box.waiting if box else 0)
            oldest.add_metric([code], box.oldest_age_seconds(s.now) if box else 0.0)
            delivered.add_metric([code], s.delivered_last_hour.get(code, 0))
        yield waiting
        yield oldest
        yield delivered

        finished = GaugeMetricFamily(
            "ephyto_envelopes_finished_last_day",
            "Envelopes that reached a final tracking state in the last 24 hours, by state.",
            labels=["state"],
        )
        for tracking in TrackingState:
            if tracking.is_final and tracking is not TrackingState.ENVELOPE_NOT_EXISTS:
                finished.add_metric([tracking.value], s.finished_last_day.get(tracking.value, 0))
        yield finished

        expiry = GaugeMetricFamily(
            "ephyto_certificate_expiry_days",
            "Whole days until a certificate expires (negative: expired): NPPO client and "
            "signing certificates (revoked ones left out) and the hub's own seal.",
            labels=["owner", "kind", "fingerprint"],
        )
        for item in s.expiries:
            expiry.add_metric([item.owner, item.kind, item.fingerprint[:16]], item.days_left)
        yield expiry

        outbox_size = GaugeMetricFamily(
            "ephyto_outbox_pending",
            "Envelopes accepted but not yet recorded in their box (transactional outbox rows).",
        )
        outbox_size.add_metric([], s.outbox.size)
        yield outbox_size
        outbox_lag = GaugeMetricFamily(
            "ephyto_outbox_lag_seconds",
            "Age of the oldest outbox row: how far routing lags behind acceptance (0 when empty).",
        )
        outbox_lag.add_metric([], s.outbox.lag_seconds(s.now))
        yield outbox_lag

        schedule = GaugeMetricFamily(
            "ephyto_push_deliveries",
            "Push deliveries by destination and state (due: waiting or retrying; done; failed).",
            labels=["destination", "state"],
        )
        for (box_code, push_state), count in sorted(s.push_schedule.items()):
            schedule.add_metric([box_code, push_state], count)
        yield schedule

        circuit = GaugeMetricFamily(
            "ephyto_push_circuit_open",
            "1 while the push circuit breaker for a destination is open.",
            labels=["destination"],
        )
        paused = GaugeMetricFamily(
            "ephyto_destination_paused",
            "1 while operators have paused deliveries to a destination.",
            labels=["destination"],
        )
        for code in s.destinations:
            circuit.add_metric([code], 1 if s.circuits.get(code) == "open" else 0)
            paused.add_metric([code], 1 if s.paused.get(code) else 0)
        yield circuit
        yield paused


class _Events(Collector):
    def collect(self) -> Iterable[Metric]:
        return EVENTS.collect()


def render(snapshot: StateSnapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Events())
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry)


def serve_worker_metrics(port: int, *, host: str = "0.0.0.0") -> None:  # noqa: S104
    """A worker process's own counters on http://host:port/metrics (a daemon thread).

    Gauges come from the hub's /metrics (they are read from the shared database); a worker
    exports only what happened in it, such as its push attempts.
    """
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=EVENTS)
