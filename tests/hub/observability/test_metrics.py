"""/metrics, scraped while the hub routes and pushes, checked against the database."""

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.envelopes.models import EnvelopeRecord
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import DeliveryMode
from hub.nppos.models import ClientCertificate
from hub.routing.models import OutboxMessage
from hub.routing.workers import RoutingWorkers
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from tests.hub.operators.helpers import client, console_app, run, submit

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: httpx.AsyncClient) -> Samples:
    answer = await http.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
async def busy_runtime(
    database_url: str, tmp_path: Path, test_pki: object
) -> AsyncIterator[HubRuntime]:
    """A hub whose push destination PP refuses connections, so its pushes keep failing."""
    runtime = build_runtime(
        HubSettings(
            database_url=database_url,
            data_dir=tmp_path,
            trusted_proxies=["127.0.0.1/32"],
            push_timeout_seconds=1.0,
            push_backoff_base_seconds=0.05,
            push_backoff_max_seconds=0.2,
            # Keep attempting (never open the circuit, never give up): the test counts attempts.
            push_circuit_threshold=10_000,
            push_max_attempts=10_000,
        )
    )

    async def register(session: AsyncSession) -> None:
        for code in ("AA", "BB", "CC"):
            await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
        await runtime.nppos.register(
            session,
            code="PP",
            name="NPPO PP",
            delivery_mode=DeliveryMode.PUSH,
            push_url="https://127.0.0.1:9/ephyto/DeliveryService",  # nothing listens there
        )

    await run(runtime, register)
    yield runtime
    await runtime.close()


async def waiting_in_database(runtime: HubRuntime) -> dict[str, tuple[int, datetime]]:
    async def work(session: AsyncSession) -> dict[str, tuple[int, datetime]]:
        rows = await session.execute(
            select(EnvelopeRecord.box_code, func.count(), func.min(EnvelopeRecord.created_at))
            .where(EnvelopeRecord.tracking_state == "PendingDelivery")
            .group_by(EnvelopeRecord.box_code)
        )
        return {box: (count, oldest) for box, count, oldest in rows}

    return await run(runtime, work)


async def outbox_in_database(runtime: HubRuntime) -> int:
    return await run(
        runtime,
        lambda s: _scalar(s, select(func.count()).select_from(OutboxMessage)),
    )


async def _scalar(session: AsyncSession, query: object) -> int:
    return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]


async def test_per_destination_values_match_the_database_during_a_run(
    busy_runtime: HubRuntime,
) -> None:
    runtime = busy_runtime
    aa = AuthenticatedNppo(code="AA", certificate_fingerprint="0" * 64)
    bb = AuthenticatedNppo(code="BB", certificate_fingerprint="1" * 64)
    sent = {"BB": 3, "CC": 1, "PP": 2}
    numbers: dict[str, list[str]] = {}
    for box, count in sent.items():
        numbers[box] = [await submit(runtime, aa, box, f"RUN-{box}-{i}") for i in range(count)]
    workers = RoutingWorkers(runtime, refresh_seconds=0.2)
    async with client(console_app(runtime)) as http:
        before = await scrape(http)
        await workers.start()
        try:
            for _ in range(5):  # while the relay routes and PP's pushes fail and retry
                outbox_before = await outbox_in_database(runtime)
                samples = await scrape(http)
                outbox_after = await outbox_in_database(runtime)
                database = await waiting_in_database(runtime)
                now = datetime.now(UTC)
                for box in ("AA", "BB", "CC", "PP"):
                    count, oldest = database.get(box, (0, now))
                    assert value(samples, "ephyto_box_waiting_envelopes", destination=box) == count
                    age = value(samples, "ephyto_box_oldest_waiting_seconds", destination=box)
                    assert (
                        (now - oldest).total_seconds() - 2
                        <= age
                        <= (now - oldest).total_seconds() + 0.01
                    )
                assert outbox_after <= value(samples, "ephyto_outbox_pending") <= outbox_before
                await asyncio.sleep(0.3)

            # An acknowledgement: one delivery in the last hour, one outcome, one latency.
            await run(
                runtime,
                lambda s: runtime.envelopes.acknowledge(
                    s, caller=bb, delivery_number=numbers["BB"][0]
                ),
            )
            await asyncio.sleep(1.0)
            after = await scrape(http)
        finally:
            await workers.stop()

    assert value(after, "ephyto_box_waiting_envelopes", destination="BB") == 2
    assert value(after, "ephyto_box_delivered_last_hour", destination="BB") == 1
    assert value(after, "ephyto_envelopes_finished_last_day", state="Delivered") == 1
    assert value(after, "ephyto_envelopes_finished_last_day", state="FailedDelivery") == 0
    waiting = sum(value(after, "ephyto_box_waiting_envelopes", destination=box) for box in sent)
    assert waiting == 5
    delta = value(
        after, "ephyto_envelope_outcomes_total", state="Delivered", destination="BB"
    ) - value(before, "ephyto_envelope_outcomes_total", state="Delivered", destination="BB")
    assert delta == 1
    latencies = value(after, "ephyto_delivery_latency_seconds_count", state="Delivered") - value(
        before, "ephyto_delivery_latency_seconds_count", state="Delivered"
    )
    assert latencies == 1
    accepted = value(
        after, "ephyto_envelopes_accepted_total", kind="certificate", destination="PP"
    ) - value(before, "ephyto_envelopes_accepted_total", kind="certificate", destination="PP")
    assert accepted == 0  # accepted before the first scrape: counted then, not again
    failed_pushes = value(
        after, "ephyto_push_attempts_total", destination="PP", result="retry"
    ) - value(before, "ephyto_push_attempts_total", destination="PP", result="retry")
    assert failed_pushes >= 2
    assert value(after, "ephyto_push_deliveries", destination="PP", state="due") == 2
    assert value(after, "ephyto_outbox_pending") == 0
    assert value(after, "ephyto_outbox_lag_seconds") == 0


async def test_acceptances_are_counted_at_commit_only(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    async with client(console_app(runtime)) as http:
        before = await scrape(http)
        await submit(runtime, nppos["AA"], "BB", "COUNT-1")

        async def rolled_back(session: AsyncSession) -> None:
            await submit_in(session, runtime, nppos["AA"], "COUNT-2")
            await session.rollback()

        await run(runtime, rolled_back)
        after = await scrape(http)
    labels = {"kind": "certificate", "destination": "BB"}
    assert (
        value(after, "ephyto_envelopes_accepted_total", **labels)
        - value(before, "ephyto_envelopes_accepted_total", **labels)
        == 1
    )


async def submit_in(
    session: AsyncSession, runtime: HubRuntime, sender: AuthenticatedNppo, number: str
) -> None:
    from hub.envelopes.domain import EnvelopeHeader
    from tests.hub.operators.helpers import certificate

    header = EnvelopeHeader(
        from_code=sender.code,
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number=number,
    )
    await runtime.envelopes.deliver(
        session, caller=sender, header=header, content=certificate(number), validate_first=False
    )


async def test_outbox_lag_is_the_age_of_the_oldest_unrouted_envelope(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    await submit(runtime, nppos["AA"], "BB", "LAG-1")
    async with client(console_app(runtime)) as http:
        await asyncio.sleep(1.2)  # no workers run here: the envelope stays in the outbox
        oldest = await run(
            runtime,
            lambda s: s.execute(select(func.min(OutboxMessage.created_at))),
        )
        created = oldest.scalar_one()
        samples = await scrape(http)
        age = (utcnow() - created).total_seconds()
    assert value(samples, "ephyto_outbox_pending") == 1
    assert age - 1 <= value(samples, "ephyto_outbox_lag_seconds") <= age
    assert value(samples, "ephyto_outbox_lag_seconds") >= 1.0


async def test_certificate_expiry_days_match_the_registry(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    async with client(console_app(runtime)) as http:
        samples = await scrape(http)
    certificates = await run(
        runtime,
        lambda s: s.execute(
            select(ClientCertificate.fingerprint_sha256, ClientCertificate.not_after)
        ),
    )
    now = utcnow()
    rows = list(certificates)
    assert len(rows) == 4
    for fingerprint, not_after in rows:
        owner = next(code for code, n in nppos.items() if n.certificate_fingerprint == fingerprint)
        days = value(
            samples,
            "ephyto_certificate_expiry_days",
            owner=owner,
            kind="client",
            fingerprint=fingerprint[:16],
        )
        assert days == math.floor((not_after - now) / timedelta(days=1))
    seal = [
        k
        for k in samples
        if k[0] == "ephyto_certificate_expiry_days" and ("kind", "hub-seal") in k[1]
    ]
    assert len(seal) == 1


async def test_validation_findings_are_counted_by_area_and_level(runtime: HubRuntime) -> None:
    from tests.hub.operators.helpers import certificate

    broken = certificate("VAL-1").replace(
        b"<ram:TypeCode>851</ram:TypeCode>", b"<ram:TypeCode>999</ram:TypeCode>", 1
    )
    assert broken != certificate("VAL-1")
    async with client(console_app(runtime)) as http:
        before = await scrape(http)
        findings = runtime.validator.validate(broken)
        after = await scrape(http)
    assert findings
    for finding in findings:
        labels = {"area": str(finding.area), "level": str(finding.level)}
        expected = sum(
            1 for f in findings if (str(f.area), str(f.level)) == (labels["area"], labels["level"])
        )
        assert (
            value(after, "ephyto_validation_results_total", **labels)
            - value(before, "ephyto_validation_results_total", **labels)
            == expected
        )
    verdict = "severe" if any(str(f.level) == "SEVERE" for f in findings) else "warnings"
    assert (
        value(after, "ephyto_validations_total", verdict=verdict)
        - value(before, "ephyto_validations_total", verdict=verdict)
        == 1
    )


async def test_every_metric_is_named_ephyto(runtime: HubRuntime) -> None:
    async with client(console_app(runtime)) as http:
        answer = await http.get("/metrics")
    names = {f.name for f in text_string_to_metric_families(answer.text)}
    assert names
    assert all(name.startswith("ephyto_") for name in names), sorted(names)
