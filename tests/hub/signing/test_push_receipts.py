"""Push delivery: the receiver's answer to the hub's push is its acknowledgement, and the
exporter gets a signed receipt for it; the hub giving up proves nothing and issues none."""

import pytest

from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader, TrackingState
from hub.envelopes.service import HUB_ACTOR
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime
from hub.signing.receipts import verify_receipt
from tests.hub.rest.payloads import certificate_xml
from tests.hub.signing.conftest import SigningPki


async def pushed(runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], number: str) -> str:
    async with unit_of_work(runtime.sessionmaker) as session:
        sent = await runtime.envelopes.deliver(
            session,
            caller=nppos["AA"],
            header=EnvelopeHeader(
                from_code="AA",
                to_code="BB",
                certificate_type=851,
                certificate_status=70,
                nppo_certificate_number=number,
            ),
            content=certificate_xml(number),
            validate_first=False,
        )
    assert sent.header.hub_delivery_number is not None
    return sent.header.hub_delivery_number


@pytest.mark.parametrize("state", [TrackingState.DELIVERED, TrackingState.DELIVERED_WITH_WARNINGS])
async def test_a_push_receivers_answer_gives_the_exporter_a_receipt(
    runtime: HubRuntime,
    nppos: dict[str, AuthenticatedNppo],
    signing_pki: SigningPki,
    state: TrackingState,
) -> None:
    number = await pushed(runtime, nppos, "AA-2026-0500")
    message = None if state is TrackingState.DELIVERED else "late"
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.envelopes.record_push_outcome(
            session, delivery_number=number, state=state, message=message, actor="BB"
        )
    async with runtime.sessionmaker() as session:
        receipt = await runtime.signing.receipt_for(session, caller=nppos["AA"], number=number)
    facts = verify_receipt(receipt, certificates=[signing_pki.seal.certificate])
    assert (facts.tracking_info, facts.acknowledged_by, facts.message) == (
        state.value,
        "BB",
        message,
    )


async def test_the_hub_giving_up_on_a_push_issues_no_receipt(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]
) -> None:
    number = await pushed(runtime, nppos, "AA-2026-0501")
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.envelopes.record_push_outcome(
            session,
            delivery_number=number,
            state=TrackingState.FAILED_DELIVERY,
            message="receiver unreachable for 24 h",
            actor=HUB_ACTOR,
        )
    async with runtime.sessionmaker() as session:
        assert await runtime.signing.receipt_if_any(session, number) is None
