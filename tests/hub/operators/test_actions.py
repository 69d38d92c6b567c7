"""Operator actions on deliveries, against the real services and the routing tables."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.envelopes.domain import TrackingState
from hub.envelopes.models import EnvelopeEvent, EnvelopeRecord
from hub.errors import Conflict, InvalidRequest
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import DeliveryMode
from hub.operators.actions import OperatorActions
from hub.operators.audit import Actor
from hub.operators.exceptions import ActionNotPending, ReasonRequired, SecondOperatorRequired
from hub.operators.routing_control import RoutingControl
from hub.routing import repository as routing_repository
from hub.routing.models import OutboxMessage, PushCircuit, PushDelivery
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import run, submit

ALICE = Actor(username="alice")
BOB = Actor(username="bob")

pytestmark = pytest.mark.usefixtures("operators")


@pytest.fixture
def actions() -> OperatorActions:
    return OperatorActions(control=RoutingControl())


async def _record(runtime: HubRuntime, number: str) -> EnvelopeRecord:
    async def work(session: AsyncSession) -> Any:
        result = await session.execute(
            select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number)
        )
        return result.scalar_one()

    return await run(runtime, work)


async def _events(runtime: HubRuntime, number: str) -> list[str]:
    async def work(session: AsyncSession) -> Any:
        record = (
            await session.execute(
                select(EnvelopeRecord).where(EnvelopeRecord.hub_delivery_number == number)
            )
        ).scalar_one()
        rows = await session.execute(
            select(EnvelopeEvent.event)
            .where(EnvelopeEvent.envelope_id == record.id)
            .order_by(EnvelopeEvent.id)
        )
        return list(rows.scalars())

    return await run(runtime, work)


async def _register_push(runtime: HubRuntime, code: str) -> None:
    await run(
        runtime,
        lambda s: runtime.nppos.register(
            s,
            code=code,
            name=f"Push NPPO {code}",
            delivery_mode=DeliveryMode.PUSH,
            push_url="https://127.0.0.1:9/ephyto/DeliveryService",
        ),
    )


async def _route(runtime: HubRuntime, number: str) -> None:
    """What a box consumer does when the envelope's message arrives."""
    await run(runtime, lambda s: routing_repository.route(s, [number], utcnow()))


async def test_mark_failed_waits_for_a_second_operator(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-MF-1")
    pending = await run(
        runtime,
        lambda s: actions.request_mark_failed(
            s, actor=ALICE, number=number, reason="importer says it will never read it"
        ),
    )
    assert (await _record(runtime, number)).tracking_state == "PendingDelivery"
    assert [p.id for p in await run(runtime, actions.list_pending)] == [pending.id]

    with pytest.raises(SecondOperatorRequired):
        await run(
            runtime,
            lambda s: actions.confirm(s, actor=ALICE, action_id=pending.id, reason="sure"),
        )
    assert (await _record(runtime, number)).tracking_state == "PendingDelivery"

    await run(
        runtime,
        lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="checked with BB"),
    )
    record = await _record(runtime, number)
    assert record.tracking_state == TrackingState.FAILED_DELIVERY.value
    assert record.error_message is not None
    assert "importer says it will never read it" in record.error_message
    assert record.finished_at is not None
    assert (await _events(runtime, number))[-1] == "operator_marked_failed"
    assert await run(runtime, actions.list_pending) == []


async def test_a_confirmed_action_cannot_be_confirmed_again(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-MF-2")
    pending = await run(
        runtime, lambda s: actions.request_mark_failed(s, actor=ALICE, number=number, reason="x")
    )
    await run(runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="y"))
    with pytest.raises(ActionNotPending):
        await run(
            runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="y")
        )


async def test_a_cancelled_action_changes_nothing(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-MF-3")
    pending = await run(
        runtime, lambda s: actions.request_mark_failed(s, actor=ALICE, number=number, reason="x")
    )
    await run(runtime, lambda s: actions.cancel(s, actor=ALICE, action_id=pending.id, reason="no"))
    with pytest.raises(ActionNotPending):
        await run(
            runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="y")
        )
    assert (await _record(runtime, number)).tracking_state == "PendingDelivery"


async def test_a_finished_envelope_cannot_be_acted_on(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-DONE-1")
    await run(
        runtime,
        lambda s: runtime.envelopes.acknowledge(s, caller=nppos["BB"], delivery_number=number),
    )
    with pytest.raises(Conflict, match="Delivered"):
        await run(
            runtime,
            lambda s: actions.request_mark_failed(s, actor=ALICE, number=number, reason="x"),
        )


async def test_an_envelope_acknowledged_before_confirmation_stays_delivered(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-RACE-1")
    pending = await run(
        runtime, lambda s: actions.request_mark_failed(s, actor=ALICE, number=number, reason="x")
    )
    await run(
        runtime,
        lambda s: runtime.envelopes.acknowledge(s, caller=nppos["BB"], delivery_number=number),
    )
    with pytest.raises(Conflict):
        await run(
            runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="y")
        )
    assert (await _record(runtime, number)).tracking_state == "Delivered"


@pytest.mark.parametrize("reason", ["", "   "])
async def test_every_action_needs_a_reason(
    runtime: HubRuntime,
    nppos: dict[str, AuthenticatedNppo],
    actions: OperatorActions,
    reason: str,
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-REASON-1")
    attempts = [
        lambda s: actions.retry_now(s, actor=ALICE, number=number, reason=reason),
        lambda s: actions.pause(s, actor=ALICE, destination="BB", reason=reason),
        lambda s: actions.resume(s, actor=ALICE, destination="BB", reason=reason),
        lambda s: actions.request_mark_failed(s, actor=ALICE, number=number, reason=reason),
        lambda s: actions.request_reroute(
            s, actor=ALICE, number=number, delegate="XCH", reason=reason
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ReasonRequired):
            await run(runtime, attempt)
    assert await run(runtime, actions.list_pending) == []


async def test_reroute_moves_the_envelope_to_the_delegates_box(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-RR-1")
    await _route(runtime, number)
    pending = await run(
        runtime,
        lambda s: actions.request_reroute(
            s, actor=ALICE, number=number, delegate="xch", reason="BB's system is down for a week"
        ),
    )
    assert pending.argument == "XCH"
    before = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
    )
    assert [h.hub_delivery_number for h in before] == [number]

    await run(runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="ok"))

    record = await _record(runtime, number)
    assert (record.box_code, record.to_code, record.routed_at) == ("XCH", "BB", None)
    in_bb = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["BB"], country_code=None),
    )
    in_xch = await run(
        runtime,
        lambda s: runtime.envelopes.waiting_headers(s, caller=nppos["XCH"], country_code=None),
    )
    assert in_bb == []
    assert [h.hub_delivery_number for h in in_xch] == [number]
    # The routing layer routes it again, now to the delegate's box.
    outbox = await run(
        runtime,
        lambda s: s.execute(
            select(OutboxMessage.box_code).where(OutboxMessage.hub_delivery_number == number)
        ),
    )
    assert list(outbox.scalars()) == ["XCH"]
    assert (await _events(runtime, number))[-1] == "operator_rerouted"


@pytest.mark.parametrize(("target", "message"), [("AA", "not a delegate"), ("ZZ", "not a reg")])
async def test_reroute_refuses_what_is_not_a_receiving_delegate(
    runtime: HubRuntime,
    nppos: dict[str, AuthenticatedNppo],
    actions: OperatorActions,
    target: str,
    message: str,
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-RR-2")
    with pytest.raises(InvalidRequest, match=message):
        await run(
            runtime,
            lambda s: actions.request_reroute(
                s, actor=ALICE, number=number, delegate=target, reason="x"
            ),
        )


async def test_reroute_drops_the_old_boxs_push_schedule(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    await _register_push(runtime, "PP")
    number = await submit(runtime, nppos["AA"], "PP", "OPS-RR-3")
    await _route(runtime, number)
    pushes = select(PushDelivery.box_code).where(PushDelivery.hub_delivery_number == number)
    assert list((await run(runtime, lambda s: s.execute(pushes))).scalars()) == ["PP"]
    pending = await run(
        runtime,
        lambda s: actions.request_reroute(
            s, actor=ALICE, number=number, delegate="XCH", reason="x"
        ),
    )
    await run(runtime, lambda s: actions.confirm(s, actor=BOB, action_id=pending.id, reason="y"))
    # PP's lane must not push it to PP's receiver any more; XCH pulls, so no new schedule.
    await _route(runtime, number)
    assert list((await run(runtime, lambda s: s.execute(pushes))).scalars()) == []


async def test_retry_of_a_pull_box_is_refused_with_the_reason(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-RT-1")
    await _route(runtime, number)
    with pytest.raises(Conflict, match="pulls its box"):
        await run(runtime, lambda s: actions.retry_now(s, actor=ALICE, number=number, reason="x"))


async def test_retry_of_an_unrouted_envelope_publishes_it_again(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    number = await submit(runtime, nppos["AA"], "BB", "OPS-RT-2")
    published_once = (
        update(OutboxMessage)
        .where(OutboxMessage.hub_delivery_number == number)
        .values(published_at=utcnow())
    )
    await run(runtime, lambda s: s.execute(published_once))

    await run(runtime, lambda s: actions.retry_now(s, actor=ALICE, number=number, reason="lost"))

    published = await run(
        runtime,
        lambda s: s.execute(
            select(OutboxMessage.published_at).where(OutboxMessage.hub_delivery_number == number)
        ),
    )
    assert list(published.scalars()) == [None]


async def test_retry_makes_a_failing_push_due_now_and_lets_the_circuit_probe(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    await _register_push(runtime, "PP")
    number = await submit(runtime, nppos["AA"], "PP", "OPS-RT-3")
    await _route(runtime, number)
    later = utcnow() + timedelta(minutes=14)

    async def failing(session: AsyncSession) -> Any:
        push = (
            await session.execute(
                select(PushDelivery).where(PushDelivery.hub_delivery_number == number)
            )
        ).scalar_one()
        push.attempts, push.due_at, push.last_error = 7, later, "HTTP 503"
        session.add(
            PushCircuit(
                box_code="PP",
                consecutive_failures=7,
                opened_until=later,
                times_opened=2,
                last_error="HTTP 503",
                updated_at=utcnow(),
            )
        )

    await run(runtime, failing)
    states = await run(runtime, RoutingControl().states)
    assert states["PP"].circuit == "open"

    await run(runtime, lambda s: actions.retry_now(s, actor=ALICE, number=number, reason="fixed"))

    now = utcnow()
    push = (
        await run(
            runtime,
            lambda s: s.execute(
                select(PushDelivery).where(PushDelivery.hub_delivery_number == number)
            ),
        )
    ).scalar_one()
    assert push.due_at <= now
    assert (await run(runtime, RoutingControl().states))["PP"].circuit == "half_open"
    assert (await _events(runtime, number))[-1] == "operator_retry"


async def test_pause_takes_the_destination_out_of_push_delivery_until_resumed(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    await _register_push(runtime, "PP")
    assert "PP" in await run(runtime, routing_repository.push_destinations)

    await run(runtime, lambda s: actions.pause(s, actor=ALICE, destination="pp", reason="x"))
    assert "PP" not in await run(runtime, routing_repository.push_destinations)
    assert (await run(runtime, RoutingControl().states))["PP"].paused
    with pytest.raises(Conflict, match="already paused"):
        await run(runtime, lambda s: actions.pause(s, actor=BOB, destination="PP", reason="x"))

    await run(runtime, lambda s: actions.resume(s, actor=BOB, destination="PP", reason="y"))
    assert "PP" in await run(runtime, routing_repository.push_destinations)
    assert not (await run(runtime, RoutingControl().states))["PP"].paused


async def test_pausing_a_pull_destination_is_refused(
    runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo], actions: OperatorActions
) -> None:
    with pytest.raises(Conflict, match="pulls its box"):
        await run(runtime, lambda s: actions.pause(s, actor=ALICE, destination="BB", reason="x"))
