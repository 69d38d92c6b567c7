"""Push policy and answer reading: pure rules, no clock, no network."""

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from lxml import etree

from hub.envelopes.domain import Envelope, EnvelopeHeader, TrackingState
from hub.routing.broker import RoutingMessage
from hub.routing.policy import PushPolicy
from hub.routing.push_client import (
    PushAnswered,
    PushFailed,
    deliver_envelope_request,
    read_answer,
)
from hub.soap.codec import NSMAP, hub, read_envelope, soap_envelope, write_header
from hub.soap.faults import SoapFault, render_fault
from hub.soap.request import operation_element

POLICY = PushPolicy(backoff_base_seconds=2, backoff_max_seconds=60, circuit_open_seconds=30)


def test_retry_delay_doubles_per_failure_with_jitter_between_half_and_all_of_it() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 2), (2, 4), (3, 8), (4, 16), (5, 32), (6, 60), (12, 60)):
        for _ in range(50):
            delay = POLICY.retry_delay(attempt, rng).total_seconds()
            assert ceiling / 2 <= delay <= ceiling


def test_retry_delays_of_envelopes_that_failed_together_spread_out() -> None:
    rng = random.Random(1)
    delays = {round(POLICY.retry_delay(3, rng).total_seconds(), 3) for _ in range(100)}
    assert len(delays) > 90


def test_circuit_stays_open_twice_as_long_each_time_up_to_the_cap() -> None:
    assert [POLICY.circuit_open_for(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 60, 60]


def test_a_lease_outlives_the_call_it_covers() -> None:
    assert POLICY.lease > timedelta(seconds=POLICY.timeout_seconds)


def test_routing_message_round_trip_and_poison_refused() -> None:
    message = RoutingMessage(hub_delivery_number="n-1", box_code="BB")
    assert RoutingMessage.decode(message.encode()) == message
    assert len(message.encode()) < 100
    for poison in (b"", b"{}", b"[1]", b'{"n": 1, "box": "BB"}', b"\xff"):
        with pytest.raises(ValueError, match="not a routing message"):
            RoutingMessage.decode(poison)


HEADER = EnvelopeHeader(
    from_code="AA",
    to_code="PP",
    certificate_type=851,
    certificate_status=70,
    nppo_certificate_number="AA-1",
    hub_delivery_number="n-1",
    tracking_info=TrackingState.PENDING_DELIVERY,
)


def answer(header: EnvelopeHeader) -> bytes:
    response = etree.Element(hub("DeliverEnvelopeResponse"), nsmap=NSMAP)
    write_header(response, hub("DeliverEnvelopeResult"), header)
    return soap_envelope(response)


def test_the_push_request_is_a_deliver_envelope_call_carrying_header_and_content() -> None:
    content = b"<rsm:SPSCertificate xmlns:rsm='urn:x'>caf\xc3\xa9</rsm:SPSCertificate>"
    request = deliver_envelope_request(Envelope(header=HEADER, content=content))
    element = operation_element(request)
    assert element.tag == "{http://ephyto.ippc.int/}DeliverEnvelope"
    submitted = read_envelope(element[0], path="env")
    assert submitted.header == HEADER
    assert submitted.content == content.decode()


@pytest.mark.parametrize(
    ("state", "message", "expected"),
    [
        (None, None, PushAnswered(state=TrackingState.DELIVERED, message=None)),
        # A receiver echoing our own header back took it.
        (
            TrackingState.PENDING_DELIVERY,
            None,
            PushAnswered(state=TrackingState.DELIVERED, message=None),
        ),
        (
            TrackingState.DELIVERED_WITH_WARNINGS,
            "odd unit",
            PushAnswered(state=TrackingState.DELIVERED_WITH_WARNINGS, message="odd unit"),
        ),
        (
            TrackingState.FAILED_DELIVERY,
            "unknown consignee",
            PushAnswered(state=TrackingState.FAILED_DELIVERY, message="unknown consignee"),
        ),
    ],
)
def test_an_answer_header_is_delivered_unless_it_says_otherwise(
    state: TrackingState | None, message: str | None, expected: PushAnswered
) -> None:
    body = answer(replace(HEADER, tracking_info=state, error_message=message))
    assert read_answer(200, body, expected_number="n-1") == expected


def test_faults_errors_and_foreign_answers_are_failures_to_retry() -> None:
    fault = read_answer(500, render_fault(SoapFault("disk full")), expected_number="n-1")
    assert isinstance(fault, PushFailed) and "disk full" in fault.reason
    busy = read_answer(503, b"busy", expected_number="n-1")
    assert isinstance(busy, PushFailed) and busy.reason.startswith("HTTP 503")
    empty = read_answer(502, answer(HEADER), expected_number="n-1")
    assert empty == PushFailed(reason="HTTP 502")
    other = read_answer(
        200, answer(replace(HEADER, hub_delivery_number="n-2")), expected_number="n-1"
    )
    assert isinstance(other, PushFailed) and "n-2" in other.reason
