"""The evidence chain: every envelope event is in it, it verifies after a busy run, and any
edit, deletion, rewrite or forgery is found and located, by `verify_chain` and by the CLI."""

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader, Forwarding
from hub.envelopes.models import EnvelopeEvent
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime, build_runtime
from hub.signing.evidence import GENESIS, EvidenceChainer, checkpoint_now, link_hash
from hub.signing.evidence_check import ChainReport, verify_chain
from hub.signing.models import EvidenceCheckpoint, EvidenceEntry
from tests.hub.rest.payloads import certificate_xml
from tests.hub.signing.conftest import SigningPki, sealed_settings

CHECKPOINT_EVERY = 25


@pytest.fixture
async def runtime(
    database_url: str, tmp_path: Path, signing_pki: SigningPki
) -> AsyncIterator[HubRuntime]:
    settings = sealed_settings(
        database_url, tmp_path, signing_pki, checkpoint_every=CHECKPOINT_EVERY
    )
    runtime = build_runtime(settings)
    yield runtime
    await runtime.close()


def header(number: str, *, forwardings: tuple[str, ...] = ()) -> EnvelopeHeader:
    return EnvelopeHeader(
        from_code="AA",
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number=number,
        forwardings=tuple(Forwarding(code=code) for code in forwardings),
    )


async def busy_run(runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], count: int) -> None:
    """Deliveries (some with a copy), pulls, and all three kinds of acknowledgement."""
    envelopes = runtime.envelopes
    for n in range(count):
        number = f"AA-2026-{n:04d}"
        async with unit_of_work(runtime.sessionmaker) as session:
            sent = await envelopes.deliver(
                session,
                caller=nppos["AA"],
                header=header(number, forwardings=("CC",) if n % 10 == 0 else ()),
                content=certificate_xml(number),
                validate_first=False,
            )
        delivery = sent.header.hub_delivery_number
        assert delivery is not None
        if n % 3 == 0:
            async with unit_of_work(runtime.sessionmaker) as session:
                await envelopes.pull_one(session, caller=nppos["BB"], delivery_number=delivery)
                if n % 2 == 0:
                    await envelopes.acknowledge(
                        session, caller=nppos["BB"], delivery_number=delivery
                    )
                else:
                    await envelopes.acknowledge_with_warnings(
                        session, caller=nppos["BB"], delivery_number=delivery, warning="late"
                    )
        elif n % 7 == 0:
            async with unit_of_work(runtime.sessionmaker) as session:
                await envelopes.acknowledge_failed(
                    session, caller=nppos["BB"], delivery_number=delivery, reason="unreadable"
                )
        if n % 40 == 39:
            await chain_everything(runtime)  # now and then, as the workers would
    await chain_everything(runtime)


async def chain_everything(runtime: HubRuntime) -> int:
    """What the routing workers' chainer does every half second."""
    return await runtime.evidence.append_all()


async def check(runtime: HubRuntime, signing_pki: SigningPki) -> ChainReport:
    async with runtime.sessionmaker() as session:
        return await verify_chain(session, seal_certificates=[signing_pki.seal.certificate])


async def count(runtime: HubRuntime, table: type) -> int:
    async with runtime.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table))).scalar_one()


async def link(runtime: HubRuntime, seq: int) -> EvidenceEntry:
    async with runtime.sessionmaker() as session:
        entry = await session.get(EvidenceEntry, seq)
        assert entry is not None
        return entry


def run_cli(runtime: HubRuntime, signing_pki: SigningPki, *arguments: str) -> tuple[int, str]:
    """`ephyto evidence ...` in its own process, configured by the environment."""
    settings = runtime.settings
    env = {
        **os.environ,
        "EPHYTO_DATABASE_URL": settings.sqlalchemy_url,
        "EPHYTO_DATA_DIR": str(settings.data_dir),
        "EPHYTO_SEAL_CERT": str(signing_pki.seal.cert_path),
        "EPHYTO_SEAL_KEY": str(signing_pki.seal.key_path),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ephyto"), "evidence", *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


async def test_the_chain_verifies_after_a_busy_run_and_an_edited_row_is_located(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 150)

    report = await check(runtime, signing_pki)
    events = await count(runtime, EnvelopeEvent)
    assert report.ok, report.describe()
    assert report.entries == report.head_seq == events > 250
    assert report.checkpoints == report.checkpoints_verified >= events // CHECKPOINT_EVERY - 1
    code, output = await asyncio.to_thread(run_cli, runtime, signing_pki, "verify")
    assert code == 0, output
    assert "chain OK" in output

    # Someone with database access softens an acknowledgement after the fact.
    victim = await link(runtime, events // 2)
    async with runtime.engine.begin() as connection:
        await connection.execute(
            update(EnvelopeEvent)
            .where(EnvelopeEvent.id == victim.event_id)
            .values(detail="all fine")
        )

    report = await check(runtime, signing_pki)
    assert not report.ok
    problem = report.first_break
    assert problem is not None
    assert (problem.seq, problem.event_id) == (victim.seq, victim.event_id)
    assert problem.reason == "the event row differs from what was chained"
    chained_detail = json.loads(victim.payload)["detail"]
    assert problem.differences == (f"detail: chained {chained_detail!r}, now 'all fine'",)
    code, output = await asyncio.to_thread(run_cli, runtime, signing_pki, "verify")
    assert code == 1, output
    assert f"seq {victim.seq}, event row id {victim.event_id}" in output
    assert "detail: chained" in output


async def test_an_edited_link_is_found(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 10)
    async with runtime.engine.begin() as connection:
        await connection.execute(
            update(EvidenceEntry)
            .where(EvidenceEntry.seq == 5)
            .values(payload=EvidenceEntry.payload + " ")
        )
    report = await check(runtime, signing_pki)
    assert report.first_break is not None
    assert report.first_break.seq == 5
    assert "does not match its payload" in report.first_break.reason


async def test_a_deleted_link_is_found(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 10)
    async with runtime.engine.begin() as connection:
        await connection.execute(text("DELETE FROM evidence_entries WHERE seq = 7"))
    report = await check(runtime, signing_pki)
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.reason) == (
        7,
        "link 7 is missing (the next one is 8)",
    )


async def test_history_rewritten_consistently_is_caught_by_the_signed_checkpoints(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    """An insider edits an event and recomputes every later link: each link then checks out,
    but the hub's signed checkpoints still hold the old head hashes."""
    await busy_run(runtime, nppos, 30)
    target = 10
    async with runtime.sessionmaker() as session:
        links = (
            (
                await session.execute(
                    select(EvidenceEntry)
                    .where(EvidenceEntry.seq >= target)
                    .order_by(EvidenceEntry.seq)
                )
            )
            .scalars()
            .all()
        )
        event = await session.get(EnvelopeEvent, links[0].event_id)
        assert event is not None
        event.detail = "rewritten"
        prev = links[0].prev_hash
        for entry in links:
            payload = json.loads(entry.payload)
            if entry.seq == target:
                payload["detail"] = "rewritten"
            entry.payload = json.dumps(
                payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            entry.prev_hash = prev
            entry.hash = prev = link_hash(prev, entry.payload)
        await session.commit()

    report = await check(runtime, signing_pki)
    assert report.first_break is not None
    assert "history was rewritten" in report.first_break.reason
    assert report.first_break.seq is not None and report.first_break.seq >= target


async def test_a_forged_checkpoint_is_refused(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 20)
    async with runtime.sessionmaker() as session:
        checkpoint = (
            (await session.execute(select(EvidenceCheckpoint).order_by(EvidenceCheckpoint.id)))
            .scalars()
            .first()
        )
        assert checkpoint is not None
        checkpoint.document = checkpoint.document.replace(
            checkpoint.head_hash.encode(), GENESIS.encode()
        )
        await session.commit()
    report = await check(runtime, signing_pki)
    assert report.first_break is not None
    assert "signature does not verify" in report.first_break.reason


async def test_committed_events_wait_for_the_chainer_and_are_counted_until_appended(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 3)
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.envelopes.deliver(
            session,
            caller=nppos["AA"],
            header=header("AA-2026-0800"),
            content=certificate_xml("AA-2026-0800"),
            validate_first=False,
        )
    waiting = await check(runtime, signing_pki)
    assert waiting.ok, waiting.describe()
    assert waiting.unchained_events == 1
    assert "events waiting to be chained: 1" in waiting.describe()

    assert await chain_everything(runtime) == 1
    chained = await check(runtime, signing_pki)
    assert chained.ok and chained.unchained_events == 0
    assert chained.entries == waiting.entries + 1 == await count(runtime, EnvelopeEvent)


async def test_a_cut_off_end_of_the_chain_is_found(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    await busy_run(runtime, nppos, 10)
    async with runtime.engine.begin() as connection:
        last = (await connection.execute(select(func.max(EvidenceEntry.seq)))).scalar_one()
        await connection.execute(delete(EvidenceEntry).where(EvidenceEntry.seq > last - 2))
    report = await check(runtime, signing_pki)
    assert report.first_break is not None
    assert report.first_break.seq == last - 1
    assert "the end of the chain was cut off" in report.first_break.reason


async def test_a_rolled_back_transaction_leaves_no_trace_in_the_chain(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):
        async with unit_of_work(runtime.sessionmaker) as session:
            await runtime.envelopes.deliver(
                session,
                caller=nppos["AA"],
                header=header("AA-2026-0900"),
                content=certificate_xml("AA-2026-0900"),
                validate_first=False,
            )
            await session.flush()
            raise Abandon
    await busy_run(runtime, nppos, 2)
    report = await check(runtime, signing_pki)
    assert report.ok, report.describe()
    assert report.entries == await count(runtime, EnvelopeEvent)


async def test_concurrent_chainers_never_fork_the_chain(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    """Every hub and worker process runs a chainer: several append at once, in small batches,
    while submissions commit."""

    async def deliver(n: int) -> None:
        number = f"AA-2026-1{n:03d}"
        async with unit_of_work(runtime.sessionmaker) as session:
            await runtime.envelopes.deliver(
                session,
                caller=nppos["AA"],
                header=header(number),
                content=certificate_xml(number),
                validate_first=False,
            )

    chainers = [EvidenceChainer(runtime.sessionmaker, checkpointer=None, batch=3) for _ in range(4)]

    async def keep_chaining(chainer: EvidenceChainer) -> None:
        for _ in range(10):
            with contextlib.suppress(IntegrityError, OperationalError):
                await chainer.append_once()  # a lost race on SQLite's lock or the seq key
            await asyncio.sleep(0)

    await asyncio.gather(*(deliver(n) for n in range(40)), *(keep_chaining(c) for c in chainers))
    await chain_everything(runtime)

    report = await check(runtime, signing_pki)
    assert report.ok, report.describe()
    assert report.entries == await count(runtime, EnvelopeEvent) == 40


async def test_a_checkpoint_can_be_signed_on_demand(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], signing_pki: SigningPki
) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        assert await checkpoint_now(session, signer=runtime.signing.seal_key) is None  # empty
    await busy_run(runtime, nppos, 4)
    async with unit_of_work(runtime.sessionmaker) as session:
        written = await checkpoint_now(session, signer=runtime.signing.seal_key)
    assert written is not None
    code, output = await asyncio.to_thread(run_cli, runtime, signing_pki, "checkpoint")
    assert code == 0, output
    assert f"checkpoint signed at seq {written.seq}" in output
    report = await check(runtime, signing_pki)
    assert report.ok and report.checkpoints == report.checkpoints_verified == 2
