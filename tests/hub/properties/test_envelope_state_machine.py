"""Property: any interleaving of submissions, pulls, acknowledgements and withdrawals keeps the
envelope lifecycle legal, on the real EnvelopeService over a real database.

Hypothesis drives a model of the boxes alongside the hub. After every step the hub must agree
with the model: every envelope in exactly one box, in the state the model says (one of the six
HUBTrackingInfo values), final states never changed, every box listing exactly its pending
envelopes once (no lost and no doubled delivery), duplicates answered with the original.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core.certificate import build_certificate_xml, withdrawal_of
from hub.database import Base, unit_of_work
from hub.envelopes import repository
from hub.envelopes.domain import EnvelopeHeader, Forwarding, TrackingState
from hub.errors import Conflict, DeliveryRefused, NotFound
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime, build_runtime
from tests.core.factories import make_certificate
from tests.hub import conftest as hub_fixtures

T = TypeVar("T")

SENDERS = ("AA", "BB")
NPPOS = ("AA", "BB", "CC")
NUMBERS = ("SM-1", "SM-2")
VARIANTS = (0, 1)  # two different documents per number and status
REGISTRY_TABLES = {
    "nppos",
    "allowed_documents",
    "channel_rules",
    "client_certificates",
    "signing_certificates",
}
ACK_STATES = {
    "ok": TrackingState.DELIVERED,
    "with_warnings": TrackingState.DELIVERED_WITH_WARNINGS,
    "failed": TrackingState.DELIVERED_NOT_READABLE,
}


def _documents() -> dict[tuple[str, int, int], bytes]:
    documents = {}
    for number in NUMBERS:
        for variant in VARIANTS:
            issued = make_certificate(
                seed=variant, certificate_number=number, exporter="NZ", importer="FR"
            )
            documents[(number, 70, variant)] = build_certificate_xml(issued)
            documents[(number, 40, variant)] = build_certificate_xml(withdrawal_of(issued))
    return documents


DOCUMENTS = _documents()


@dataclass
class Modelled:
    """What the model expects of one envelope."""

    box: str
    sender: str
    state: TrackingState = TrackingState.PENDING_DELIVERY
    message: str | None = None
    original: str | None = None  # for a copy: the envelope it copies


@dataclass
class Hub:
    """The real service, driven from the synchronous state machine through one event loop."""

    runner: asyncio.Runner
    runtime: HubRuntime
    callers: dict[str, AuthenticatedNppo] = field(default_factory=dict)

    def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def in_unit_of_work() -> T:
            async with unit_of_work(self.runtime.sessionmaker) as session:
                return await work(session)

        return self.runner.run(in_unit_of_work())

    def reset(self) -> None:
        async def empty() -> None:
            async with self.runtime.engine.begin() as connection:
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name not in REGISTRY_TABLES:
                        await connection.execute(table.delete())

        self.runner.run(empty())


class EnvelopeLifecycle(RuleBasedStateMachine):
    hub: Hub  # set by the test before the machine runs

    def __init__(self) -> None:
        super().__init__()
        self.hub.reset()
        self.envelopes: dict[str, Modelled] = {}
        #: (from, to, number, status, variant) -> the original's delivery number
        self.submissions: dict[tuple[str, str, str, int, int], str] = {}

    # ------------------------------------------------------------------------ rules

    @rule(
        sender=st.sampled_from(SENDERS),
        to=st.sampled_from(NPPOS),
        number=st.sampled_from(NUMBERS),
        status=st.sampled_from((70, 70, 40)),
        variant=st.sampled_from(VARIANTS),
        copy_to_cc=st.booleans(),
    )
    def submit(
        self, sender: str, to: str, number: str, status: int, variant: int, copy_to_cc: bool
    ) -> None:
        header = EnvelopeHeader(
            from_code=sender,
            to_code=to,
            certificate_type=851,
            certificate_status=status,
            nppo_certificate_number=number,
            forwardings=(Forwarding(code="CC"),) if copy_to_cc else (),
        )
        key = (sender, to, number, status, variant)
        issued_before = any(k[:3] == (sender, to, number) and k[3] == 70 for k in self.submissions)
        refused = sender == to or (status == 40 and not issued_before)
        try:
            submission = self.hub.run(
                lambda s: self.hub.runtime.envelopes.deliver(
                    s,
                    caller=self.hub.callers[sender],
                    header=header,
                    content=DOCUMENTS[(number, status, variant)],
                    validate_first=True,
                )
            )
        except DeliveryRefused:
            assert refused, f"refused {key}, which the model accepts"
            return
        assert not refused, f"accepted {key}, which the model refuses"
        number_given = submission.header.hub_delivery_number
        assert number_given is not None
        assert submission.header.tracking_info is TrackingState.PENDING_DELIVERY or (
            not submission.created
        )
        if key in self.submissions:
            assert not submission.created
            assert number_given == self.submissions[key], "a duplicate got a new number"
            return
        assert submission.created
        self.submissions[key] = number_given
        self.envelopes[number_given] = Modelled(box=to, sender=sender)
        copies = [f.hub_delivery_number for f in submission.header.forwardings]
        if copy_to_cc and to != "CC":
            (copy,) = copies
            assert copy is not None
            self.envelopes[copy] = Modelled(box="CC", sender=sender, original=number_given)
        else:
            assert copies == []

    @rule(data=st.data(), puller=st.sampled_from(NPPOS))
    def pull(self, data: st.DataObject, puller: str) -> None:
        number = self._pick(data)
        if number is None:
            return
        try:
            envelope = self.hub.run(
                lambda s: self.hub.runtime.envelopes.pull_one(
                    s, caller=self.hub.callers[puller], delivery_number=number
                )
            )
        except NotFound:
            assert self.envelopes[number].box != puller, "the box owner could not pull"
            return
        assert self.envelopes[number].box == puller, f"{puller} pulled from another box"
        assert envelope.header.hub_delivery_number == number
        assert envelope.header.tracking_info is self.envelopes[number].state

    @rule(
        data=st.data(),
        by=st.sampled_from(NPPOS),
        kind=st.sampled_from(tuple(ACK_STATES)),
        message=st.sampled_from(("date missing", "unreadable")),
    )
    def acknowledge(self, data: st.DataObject, by: str, kind: str, message: str) -> None:
        number = self._pick(data)
        if number is None:
            return
        service = self.hub.runtime.envelopes
        caller = self.hub.callers[by]
        calls: dict[str, Callable[[AsyncSession], Awaitable[EnvelopeHeader]]] = {
            "ok": lambda s: service.acknowledge(s, caller=caller, delivery_number=number),
            "with_warnings": lambda s: service.acknowledge_with_warnings(
                s, caller=caller, delivery_number=number, warning=message
            ),
            "failed": lambda s: service.acknowledge_failed(
                s, caller=caller, delivery_number=number, reason=message
            ),
        }
        modelled = self.envelopes[number]
        target = ACK_STATES[kind]
        text = None if kind == "ok" else message
        try:
            header = self.hub.run(calls[kind])
        except NotFound:
            assert modelled.box != by, "the box owner could not acknowledge"
            return
        except Conflict:
            assert modelled.box == by
            assert modelled.state.is_final, "a pending envelope refused an acknowledgement"
            assert (modelled.state, modelled.message) != (target, text), "a replay was refused"
            return
        assert modelled.box == by, f"{by} acknowledged an envelope in {modelled.box}'s box"
        if modelled.state.is_final:
            # Only the very same acknowledgement may come back, and it changes nothing.
            assert (modelled.state, modelled.message) == (target, text), "a final state changed"
        modelled.state, modelled.message = target, text
        assert header.tracking_info is target

    def _pick(self, data: st.DataObject) -> str | None:
        if not self.envelopes:
            return None
        return data.draw(st.sampled_from(sorted(self.envelopes)), label="envelope")

    # ------------------------------------------------------------------------ invariants

    @invariant()
    def every_envelope_is_where_and_as_the_model_says(self) -> None:
        async def records(session: AsyncSession) -> list[Any]:
            return [await repository.by_number(session, n) for n in self.envelopes]

        stored = self.hub.run(records)
        legal = {state.value for state in TrackingState}
        for number, record in zip(self.envelopes, stored, strict=True):
            modelled = self.envelopes[number]
            assert record is not None, f"{number} was lost"
            assert record.tracking_state in legal
            assert (record.box_code, record.tracking_state, record.error_message) == (
                modelled.box,
                modelled.state.value,
                modelled.message,
            ), number

    @invariant()
    def each_box_lists_its_pending_envelopes_once(self) -> None:
        service = self.hub.runtime.envelopes
        for code in NPPOS:
            caller = self.hub.callers[code]
            headers = self.hub.run(
                lambda s, caller=caller: service.waiting_headers(
                    s, caller=caller, country_code=None
                )
            )
            listed = [h.hub_delivery_number for h in headers]
            expected = {
                n
                for n, m in self.envelopes.items()
                if m.box == code and m.state is TrackingState.PENDING_DELIVERY
            }
            assert len(listed) == len(set(listed)), f"{code} lists an envelope twice"
            assert set(listed) == expected, code

    @invariant()
    def senders_track_their_originals(self) -> None:
        service = self.hub.runtime.envelopes
        for number, modelled in self.envelopes.items():
            if modelled.original is not None:
                continue
            caller = self.hub.callers[modelled.sender]
            header = self.hub.run(
                lambda s, caller=caller, number=number: service.tracking_info(
                    s, caller=caller, delivery_number=number
                )
            )
            assert header.tracking_info is modelled.state, number


async def _register(runtime: HubRuntime, pki: hub_fixtures.TestPki) -> dict[str, AuthenticatedNppo]:
    async with unit_of_work(runtime.sessionmaker) as session:
        for code in NPPOS:
            await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
    return {
        code: AuthenticatedNppo(code=code, certificate_fingerprint=pki.clients[code].fingerprint)
        for code in NPPOS
    }


def _run_machine(
    url: str, data_dir: Path, pki: hub_fixtures.TestPki, *, examples: int, steps: int
) -> None:
    with asyncio.Runner() as runner:
        runtime = build_runtime(hub_fixtures.hub_settings(url, data_dir))
        try:
            runner.run(hub_fixtures._empty(url))
            callers = runner.run(_register(runtime, pki))
            EnvelopeLifecycle.hub = Hub(runner=runner, runtime=runtime, callers=callers)
            run_state_machine_as_test(
                EnvelopeLifecycle,
                settings=settings(
                    max_examples=examples,
                    stateful_step_count=steps,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(runtime.close())
            runner.run(hub_fixtures._empty(url))


# Synchronous tests: the machine runs its own event loop, as a national system's client would.
def test_lifecycle_stays_legal_on_sqlite(
    sqlite_url: str, tmp_path: Path, test_pki: hub_fixtures.TestPki
) -> None:
    _run_machine(sqlite_url, tmp_path, test_pki, examples=12, steps=25)


@pytest.mark.postgres
def test_lifecycle_stays_legal_on_postgres(
    postgres_url: str, tmp_path: Path, test_pki: hub_fixtures.TestPki
) -> None:
    _run_machine(postgres_url, tmp_path, test_pki, examples=4, steps=20)
