"""Replayed and reordered acknowledgements, and a sender that claims to be someone else.

Each case is a short story on one hub: deliver, then the hostile step, checked for its outcome,
its cost and the rows it left, then the envelope's state as the sender tracks it.
"""

from collections.abc import Awaitable, Callable

import httpx

from tests.hub.hostile.checks import record
from tests.hub.hostile.harness import (
    HostileHub,
    Observed,
    assert_no_server_error,
    assert_nothing_leaks,
    measured,
    read_rest,
    read_soap,
    rows_change,
)
from tests.hub.rest.payloads import acknowledgement_xml, certificate_xml
from tests.hub.soap.soapxml import header_xml, soap_request

Send = Callable[[], Awaitable[httpx.Response]]


async def step(
    hub: HostileHub, *, case: str, face: str, expected: str, send: Send
) -> tuple[Observed, dict[str, int]]:
    before = await hub.rows()
    response, cost = await measured(send)
    observed = read_soap(response) if face == "soap" else read_rest(response)
    rows = rows_change(before, await hub.rows())
    record(
        suite="acknowledgement",
        case=case,
        carrier=face,
        expected=expected,
        observed=observed,
        cost=cost,
        rows=rows,
    )
    assert_no_server_error(observed)
    assert_nothing_leaks(observed)
    cost.assert_bounded()
    return observed, rows


async def deliver(hub: HostileHub, number: str, *, forwardings: tuple[str, ...] = ()) -> str:
    response = await hub.rest(
        "POST",
        "/envelopes",
        json_body={
            "from": "AA",
            "to": "BB",
            "certificate_type": 851,
            "certificate_status": 70,
            "nppo_certificate_number": number,
            "content": certificate_xml(number),
            "forwardings": list(forwardings),
        },
    )
    assert response.status_code == 201, response.text
    hub_number: str = response.json()["hub_delivery_number"]
    return hub_number


def rest_ack(
    hub: HostileHub, number: str, kind: str, *, by: str, message: str | None = None
) -> Send:
    body: dict[str, str] = {"kind": kind}
    if message is not None:
        body["message"] = message
    return lambda: hub.rest("POST", f"/envelopes/{number}/acknowledgement", code=by, json_body=body)


def soap_ack(hub: HostileHub, number: str, *, by: str, warning: str | None = None) -> Send:
    if warning is None:
        body = (
            "<hub:AcknowledgeEnvelopeReceipt>"
            f"<hub:hubTrackingNumber>{number}</hub:hubTrackingNumber>"
            "</hub:AcknowledgeEnvelopeReceipt>"
        )
    else:
        body = (
            "<hub:AdvancedAcknowledgeEnvelopeReceipt>"
            f"<hub:hubTrackingNumber>{number}</hub:hubTrackingNumber>"
            f"<hub:warningMessage>{warning}</hub:warningMessage>"
            "</hub:AdvancedAcknowledgeEnvelopeReceipt>"
        )
    return lambda: hub.soap(soap_request(body), code=by)


async def state_of(hub: HostileHub, number: str) -> tuple[str, str | None]:
    tracked = (await hub.client("rest", "AA").get(f"/envelopes/{number}/tracking")).json()
    return tracked["tracking_info"], tracked["error_message"]


async def test_acknowledgement_before_any_pull_is_taken(hostile_hub: HostileHub) -> None:
    # The contract does not make a pull come first, and a push receiver never pulls: what the
    # hub must guarantee is that only the box owner acknowledges, once.
    number = await deliver(hostile_hub, "ACK-BEFORE-PULL")
    observed, _ = await step(
        hostile_hub,
        case="ack-before-pull",
        face="soap",
        expected="accepted (no pull required)",
        send=soap_ack(hostile_hub, number, by="BB"),
    )
    assert observed.kind == "ok", observed
    assert await state_of(hostile_hub, number) == ("Delivered", None)


async def test_the_same_acknowledgement_twice_changes_nothing(hostile_hub: HostileHub) -> None:
    number = await deliver(hostile_hub, "ACK-TWICE")
    await rest_ack(hostile_hub, number, "with_warnings", by="BB", message="date missing")()
    for face, send in (
        ("rest", rest_ack(hostile_hub, number, "with_warnings", by="BB", message="date missing")),
        ("soap", soap_ack(hostile_hub, number, by="BB", warning="date missing")),
    ):
        observed, rows = await step(
            hostile_hub,
            case="same-ack-twice",
            face=face,
            expected="200, nothing stored",
            send=send,
        )
        assert observed.status == 200 and rows == {}, (observed, rows)
    assert await state_of(hostile_hub, number) == ("DeliveredWithWarnings", "date missing")


async def test_a_different_acknowledgement_cannot_change_a_final_state(
    hostile_hub: HostileHub,
) -> None:
    number = await deliver(hostile_hub, "ACK-CHANGE")
    await rest_ack(hostile_hub, number, "ok", by="BB")()
    for case, face, send in (
        (
            "warnings-after-ok",
            "rest",
            rest_ack(hostile_hub, number, "with_warnings", by="BB", message="late"),
        ),
        (
            "failed-after-ok",
            "rest",
            rest_ack(hostile_hub, number, "failed", by="BB", message="late"),
        ),
        ("warnings-after-ok", "soap", soap_ack(hostile_hub, number, by="BB", warning="late")),
    ):
        observed, rows = await step(
            hostile_hub, case=case, face=face, expected="409 / fault, nothing stored", send=send
        )
        assert rows == {}, rows
        assert (observed.kind, observed.code) in (("problem", "conflict"), ("fault", "Client"))
        assert "already Delivered" in observed.message, observed
    assert await state_of(hostile_hub, number) == ("Delivered", None)


async def test_only_the_box_owner_may_acknowledge(hostile_hub: HostileHub) -> None:
    number = await deliver(hostile_hub, "ACK-OWNER", forwardings=("CC",))
    tracked = (await hostile_hub.client("rest", "AA").get(f"/envelopes/{number}/tracking")).json()
    (copy,) = [f["hub_delivery_number"] for f in tracked["forwardings"]]
    for case, face, send in (
        ("ack-by-the-sender", "rest", rest_ack(hostile_hub, number, "ok", by="AA")),
        ("ack-by-the-sender", "soap", soap_ack(hostile_hub, number, by="AA")),
        ("ack-by-a-bystander", "soap", soap_ack(hostile_hub, number, by="XCH")),
        ("ack-of-the-copy-by-the-receiver", "rest", rest_ack(hostile_hub, copy, "ok", by="BB")),
        ("ack-of-the-original-by-the-cc", "soap", soap_ack(hostile_hub, number, by="CC")),
    ):
        observed, rows = await step(
            hostile_hub, case=case, face=face, expected="404 / fault, nothing stored", send=send
        )
        assert rows == {}, rows
        assert (observed.kind, observed.code) in (("problem", "not_found"), ("fault", "Client"))
    # The cc acknowledges its own copy: that finishes the copy, not the original.
    observed, _ = await step(
        hostile_hub,
        case="ack-of-the-copy-by-the-cc",
        face="rest",
        expected="200",
        send=rest_ack(hostile_hub, copy, "ok", by="CC"),
    )
    assert observed.status == 200, observed
    assert await state_of(hostile_hub, number) == ("PendingDelivery", None)


async def test_the_sender_cannot_report_its_own_envelope_delivered(
    hostile_hub: HostileHub,
) -> None:
    number = await deliver(hostile_hub, "ACK-SELF-REPORT")
    body = soap_request(
        "<hub:SetTrackingInfoUpdate><hub:header>"
        f"{header_xml(number='ACK-SELF-REPORT')}<ent:hubDeliveryNumber>{number}"
        "</ent:hubDeliveryNumber><ent:HUBTrackingInfo>Delivered</ent:HUBTrackingInfo>"
        "</hub:header></hub:SetTrackingInfoUpdate>"
    )
    observed, rows = await step(
        hostile_hub,
        case="sender-reports-delivered",
        face="soap",
        expected="fault, nothing stored",
        send=lambda: hostile_hub.soap(body, code="AA"),
    )
    assert observed.kind == "fault" and rows == {}, (observed, rows)
    assert await state_of(hostile_hub, number) == ("PendingDelivery", None)


async def test_a_sender_cannot_send_as_another_nppo(hostile_hub: HostileHub) -> None:
    certificate = certificate_xml("FORGED-1")
    for case, sender in (("from-another-country", "BB"), ("from-a-channel", "XCH")):
        soap_body = soap_request(
            f"<hub:DeliverEnvelope><hub:env>{header_xml(sender=sender, number='FORGED-1')}"
            f"<ent:Content><![CDATA[{certificate}]]></ent:Content></hub:env></hub:DeliverEnvelope>"
        )
        rest_body = {
            "from": sender,
            "to": "CC",
            "certificate_type": 851,
            "certificate_status": 70,
            "nppo_certificate_number": "FORGED-1",
            "content": certificate,
        }
        for face, send in (
            ("soap", lambda soap_body=soap_body: hostile_hub.soap(soap_body, code="AA")),
            (
                "rest",
                lambda rest_body=rest_body: hostile_hub.rest(
                    "POST", "/envelopes", code="AA", json_body=rest_body
                ),
            ),
        ):
            observed, rows = await step(
                hostile_hub, case=case, face=face, expected="403 / fault", send=send
            )
            assert rows == {}, rows
            assert (observed.kind, observed.code) in (("problem", "forbidden"), ("fault", "Client"))
            assert f"From is {sender} but the client certificate belongs to AA" in observed.message


async def test_a_country_response_cannot_be_forged_or_invented(hostile_hub: HostileHub) -> None:
    await deliver(hostile_hub, "RESPONSE-1")
    acknowledgement = acknowledgement_xml()
    for case, sender, number, expected in (
        ("response-from-a-forged-importer", "CC", "RESPONSE-1", "fault"),
        ("response-to-a-certificate-never-sent", "BB", "NEVER-SENT", "failed-delivery"),
    ):
        body = soap_request(
            "<hub:DeliverCountryResponseEnvelope><hub:CountryResponseEnvelope>"
            f"{header_xml(sender=sender, to='AA', number=number)}{acknowledgement}"
            "</hub:CountryResponseEnvelope></hub:DeliverCountryResponseEnvelope>"
        )
        observed, rows = await step(
            hostile_hub,
            case=case,
            face="soap",
            expected=expected,
            send=lambda body=body: hostile_hub.soap(body, code="BB"),
        )
        assert observed.kind == expected and rows == {}, (observed, rows)
