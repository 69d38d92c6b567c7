"""The envelope lifecycle, against the real databases (PostgreSQL and the embedded SQLite)."""

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core.certificate import build_certificate_xml, withdrawal_of
from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader, Forwarding, TrackingState
from hub.envelopes.models import EnvelopeContent, EnvelopeEvent, EnvelopeRecord
from hub.errors import Conflict, DeliveryRefused, Forbidden, NotFound
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import Direction, RuleType
from hub.runtime import HubRuntime
from tests.conftest import REPO_ROOT
from tests.core.factories import make_certificate

T = TypeVar("T")
Nppos = dict[str, AuthenticatedNppo]


async def run(runtime: HubRuntime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await work(session)


def certificate_xml(number: str = "AA-2026-0001", **overrides: object) -> bytes:
    cert = make_certificate(
        exporter="NZ",
        importer="FR",
        certificate_number=number,
        **overrides,  # type: ignore[arg-type]
    )
    return build_certificate_xml(cert)


def header(
    *,
    sender: str = "AA",
    to: str = "BB",
    number: str = "AA-2026-0001",
    status: int = 70,
    **kw: object,
) -> EnvelopeHeader:
    return EnvelopeHeader(
        from_code=sender,
        to_code=to,
        certificate_type=851,
        certificate_status=status,
        nppo_certificate_number=number,
        **kw,  # type: ignore[arg-type]
    )


async def deliver(
    runtime: HubRuntime,
    caller: AuthenticatedNppo,
    *,
    head: EnvelopeHeader | None = None,
    content: str | bytes | None = None,
    validate_first: bool = False,
) -> EnvelopeHeader:
    submission = await run(
        runtime,
        lambda s: runtime.envelopes.deliver(
            s,
            caller=caller,
            header=head or header(),
            content=certificate_xml() if content is None else content,
            validate_first=validate_first,
        ),
    )
    return submission.header


async def count_rows(runtime: HubRuntime) -> tuple[int, int, int]:
    async def work(s: AsyncSession) -> tuple[int, int, int]:
        return (
            (await s.execute(select(func.count()).select_from(EnvelopeRecord))).scalar_one(),
            (await s.execute(select(func.count()).select_from(EnvelopeContent))).scalar_one(),
            (await s.execute(select(func.count()).select_from(EnvelopeEvent))).scalar_one(),
        )

    return await run(runtime, work)


async def test_exchange_from_submit_to_delivered(runtime: HubRuntime, nppos: Nppos) -> None:
    aa, bb = nppos["AA"], nppos["BB"]
    accepted = await deliver(runtime, aa, validate_first=True)
    assert accepted.tracking_info is TrackingState.PENDING_DELIVERY
    number = accepted.hub_delivery_number
    assert number

    waiting = await run(
        runtime, lambda s: runtime.envelopes.waiting_headers(s, caller=bb, country_code=None)
    )
    assert [h.hub_delivery_number for h in waiting] == [number]
    pulled = await run(
        runtime, lambda s: runtime.envelopes.pull_one(s, caller=bb, delivery_number=number)
    )
    assert pulled.content == certificate_xml()
    assert (await run(runtime, lambda s: runtime.envelopes.under_delivery(s, caller=aa)))[
        0
    ].hub_delivery_number == number

    done = await run(
        runtime, lambda s: runtime.envelopes.acknowledge(s, caller=bb, delivery_number=number)
    )
    assert done.tracking_info is TrackingState.DELIVERED
    tracked = await run(
        runtime, lambda s: runtime.envelopes.tracking_info(s, caller=aa, delivery_number=number)
    )
    assert tracked.tracking_info is TrackingState.DELIVERED
    assert (
        await run(
            runtime, lambda s: runtime.envelopes.waiting_headers(s, caller=bb, country_code=None)
        )
        == []
    )
    assert await run(runtime, lambda s: runtime.envelopes.under_delivery(s, caller=aa)) == []

    history = await run(
        runtime, lambda s: runtime.envelopes.history(s, caller=aa, delivery_number=number)
    )
    assert [e.event for e in history] == ["accepted", "pulled", "acknowledged_ok"]
    assert history[-1].tracking_state is TrackingState.DELIVERED


@pytest.mark.parametrize(
    ("acknowledge", "expected"),
    [
        ("acknowledge_with_warnings", TrackingState.DELIVERED_WITH_WARNINGS),
        ("acknowledge_failed", TrackingState.DELIVERED_NOT_READABLE),
    ],
)
async def test_acknowledgement_kinds_set_their_state_and_message(
    runtime: HubRuntime, nppos: Nppos, acknowledge: str, expected: TrackingState
) -> None:
    number = (await deliver(runtime, nppos["AA"])).hub_delivery_number
    assert number
    method = getattr(runtime.envelopes, acknowledge)
    keyword = "warning" if acknowledge == "acknowledge_with_warnings" else "reason"
    await run(
        runtime,
        lambda s: method(
            s, caller=nppos["BB"], delivery_number=number, **{keyword: "treatment date missing"}
        ),
    )
    tracked = await run(
        runtime,
        lambda s: runtime.envelopes.tracking_info(s, caller=nppos["AA"], delivery_number=number),
    )
    assert tracked.tracking_info is expected
    assert tracked.error_message == "treatment date missing"


async def test_a_final_state_cannot_be_changed_but_a_replayed_ack_is_harmless(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    number = (await deliver(runtime, nppos["AA"])).hub_delivery_number
    assert number
    bb = nppos["BB"]
    await run(
        runtime, lambda s: runtime.envelopes.acknowledge(s, caller=bb, delivery_number=number)
    )
    again = await run(
        runtime, lambda s: runtime.envelopes.acknowledge(s, caller=bb, delivery_number=number)
    )
    assert again.tracking_info is TrackingState.DELIVERED
    with pytest.raises(Conflict, match="already Delivered"):
        await run(
            runtime,
            lambda s: runtime.envelopes.acknowledge_failed(
                s, caller=bb, delivery_number=number, reason="late"
            ),
        )


async def test_duplicate_submission_returns_the_original_and_is_delivered_once(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    first = await deliver(runtime, nppos["AA"])
    again = await run(
        runtime,
        lambda s: runtime.envelopes.deliver(
            s, caller=nppos["AA"], header=header(), content=certificate_xml(), validate_first=False
        ),
    )
    assert not again.created
    second = again.header
    assert second.hub_delivery_number == first.hub_delivery_number
    waiting = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
    )
    assert len(waiting) == 1
    assert (await count_rows(runtime))[:2] == (1, 1)


async def test_same_number_with_changed_content_is_a_new_submission(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    first = await deliver(runtime, nppos["AA"])
    changed = certificate_xml(n_lines=1)
    second = await deliver(runtime, nppos["AA"], content=changed)
    assert second.hub_delivery_number != first.hub_delivery_number


async def test_nppos_see_only_their_own_boxes_and_envelopes(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    aa, bb, cc = nppos["AA"], nppos["BB"], nppos["CC"]
    number = (await deliver(runtime, aa)).hub_delivery_number
    assert number
    assert (
        await run(
            runtime, lambda s: runtime.envelopes.waiting_headers(s, caller=cc, country_code=None)
        )
        == []
    )
    assert (
        await run(
            runtime, lambda s: runtime.envelopes.waiting_headers(s, caller=aa, country_code=None)
        )
        == []
    )
    for attempt in (
        lambda s: runtime.envelopes.pull_one(s, caller=cc, delivery_number=number),
        lambda s: runtime.envelopes.acknowledge(s, caller=cc, delivery_number=number),
        lambda s: runtime.envelopes.acknowledge(s, caller=aa, delivery_number=number),
    ):
        with pytest.raises(NotFound):
            await run(runtime, attempt)
    foreign = await run(
        runtime, lambda s: runtime.envelopes.tracking_info(s, caller=cc, delivery_number=number)
    )
    assert foreign.tracking_info is TrackingState.ENVELOPE_NOT_EXISTS
    assert await run(runtime, lambda s: runtime.envelopes.under_delivery(s, caller=bb)) == []


async def test_sending_as_another_nppo_is_forbidden(runtime: HubRuntime, nppos: Nppos) -> None:
    with pytest.raises(Forbidden, match="belongs to CC"):
        await deliver(runtime, nppos["CC"])
    assert await count_rows(runtime) == (0, 0, 0)


@pytest.mark.parametrize(
    ("head", "content", "field", "reason"),
    [
        (header(to="ZZ"), None, "To", "not registered"),
        (header(to="AA"), None, "To", "same NPPO"),
        (header(number=" "), None, "NPPOCertificateNumber", "required"),
        (header(status=99), None, "CertificateStatus", "not accepted"),
        (
            header(number="OTHER-1"),
            None,
            "NPPOCertificateNumber",
            "differs from the certificate's ID",
        ),
        (header(), "not xml and not base64!", "Content", "base64"),
        (header(), '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "Content", "DOCTYPE"),
        (header(), "<rsm:Wrong xmlns:rsm='urn:x'/>", "Content", "SPSCertificate"),
        (header(forwardings=(Forwarding(code="QQ"),)), None, "Forwardings", "QQ"),
        (header(status=40), None, "NPPOCertificateNumber", "nothing to withdraw"),
    ],
)
async def test_refused_submissions_name_the_field_and_store_nothing(
    runtime: HubRuntime,
    nppos: Nppos,
    head: EnvelopeHeader,
    content: str | None,
    field: str,
    reason: str,
) -> None:
    if head.certificate_status == 40 and content is None:
        content_bytes: str | bytes = build_certificate_xml(
            withdrawal_of(
                make_certificate(exporter="NZ", importer="FR", certificate_number="AA-2026-0001")
            )
        )
    else:
        content_bytes = certificate_xml() if content is None else content
    with pytest.raises(DeliveryRefused, match=reason) as refusal:
        await deliver(runtime, nppos["AA"], head=head, content=content_bytes)
    assert refusal.value.field == field
    assert await count_rows(runtime) == (0, 0, 0)


async def test_validate_and_deliver_refuses_severe_findings(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    broken = certificate_xml().replace(b"ram:ScientificName", b"ram:ScientificNameX")
    with pytest.raises(DeliveryRefused, match="SEVERE"):
        await deliver(runtime, nppos["AA"], content=broken, validate_first=True)
    assert await count_rows(runtime) == (0, 0, 0)


async def test_withdrawal_follows_an_issued_certificate(runtime: HubRuntime, nppos: Nppos) -> None:
    cert = make_certificate(exporter="NZ", importer="FR", certificate_number="AA-2026-0001")
    await deliver(runtime, nppos["AA"], content=build_certificate_xml(cert))
    withdrawn = await deliver(
        runtime,
        nppos["AA"],
        head=header(status=40),
        content=build_certificate_xml(withdrawal_of(cert)),
    )
    assert withdrawn.tracking_info is TrackingState.PENDING_DELIVERY
    waiting = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
    )
    assert sorted(h.certificate_status for h in waiting) == [40, 70]


async def test_forwardings_get_their_own_numbers_and_boxes(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    accepted = await deliver(
        runtime, nppos["AA"], head=header(forwardings=(Forwarding(code="CC"),))
    )
    assert [f.code for f in accepted.forwardings] == ["CC"]
    copy_number = accepted.forwardings[0].hub_delivery_number
    assert copy_number and copy_number != accepted.hub_delivery_number
    in_cc = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["CC"], country_code=None),
    )
    assert [h.hub_delivery_number for h in in_cc] == [copy_number]
    # Each copy is tracked on its own: the cc target's acknowledgement does not finish the original.
    await run(
        runtime,
        lambda s: runtime.envelopes.acknowledge(s, caller=nppos["CC"], delivery_number=copy_number),
    )
    original = await run(
        runtime,
        lambda s: runtime.envelopes.tracking_info(
            s, caller=nppos["AA"], delivery_number=accepted.hub_delivery_number or ""
        ),
    )
    assert original.tracking_info is TrackingState.PENDING_DELIVERY
    assert (await count_rows(runtime))[:2] == (2, 1)  # two deliveries, one stored content


async def test_delegate_channel_receives_for_the_country(runtime: HubRuntime, nppos: Nppos) -> None:
    await run(
        runtime,
        lambda s: runtime.nppos.add_channel_rule(
            s,
            channel_code="XCH",
            rule_type=RuleType.DELEGATE,
            country_code="BB",
            direction=Direction.INC,
            certificate_type=851,
            certificate_status=70,
        ),
    )
    accepted = await deliver(runtime, nppos["AA"])
    assert accepted.to_code == "BB"
    in_channel = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["XCH"], country_code="BB"),
    )
    assert [h.hub_delivery_number for h in in_channel] == [accepted.hub_delivery_number]
    assert (
        await run(
            runtime,
            lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
        )
        == []
    )


async def test_forward_rule_sends_a_copy_to_the_channel(runtime: HubRuntime, nppos: Nppos) -> None:
    await run(
        runtime,
        lambda s: runtime.nppos.add_channel_rule(
            s,
            channel_code="XCH",
            rule_type=RuleType.FORWARD,
            country_code="AA",
            direction=Direction.OUT,
            certificate_type=851,
            certificate_status=70,
        ),
    )
    await deliver(runtime, nppos["AA"])
    in_channel = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["XCH"], country_code=None),
    )
    in_bb = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
    )
    assert len(in_channel) == 1 and len(in_bb) == 1
    assert in_channel[0].hub_delivery_number != in_bb[0].hub_delivery_number


ACKNOWLEDGEMENT = (REPO_ROOT / "tests/core/data/acknowledgements/acknowledgement.xml").read_bytes()


async def test_country_response_travels_back_to_the_exporter(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    await deliver(runtime, nppos["AA"])
    submission = await run(
        runtime,
        lambda s: runtime.envelopes.deliver_country_response(
            s,
            caller=nppos["BB"],
            header=header(sender="BB", to="AA"),
            acknowledgement=ACKNOWLEDGEMENT,
        ),
    )
    assert submission.created
    response = submission.header
    assert response.tracking_info is TrackingState.PENDING_DELIVERY
    in_aa = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["AA"], country_code=None),
    )
    assert [h.hub_delivery_number for h in in_aa] == [response.hub_delivery_number]
    pulled = await run(
        runtime,
        lambda s: runtime.envelopes.pull_one(
            s, caller=nppos["AA"], delivery_number=response.hub_delivery_number or ""
        ),
    )
    assert pulled.content == ACKNOWLEDGEMENT


async def test_country_response_must_answer_a_sent_certificate(
    runtime: HubRuntime, nppos: Nppos
) -> None:
    with pytest.raises(DeliveryRefused, match="must answer one"):
        await run(
            runtime,
            lambda s: runtime.envelopes.deliver_country_response(
                s,
                caller=nppos["BB"],
                header=header(sender="BB", to="AA"),
                acknowledgement=ACKNOWLEDGEMENT,
            ),
        )
