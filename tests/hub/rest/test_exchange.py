"""A certificate exchange over REST, as two national systems would run it."""

import base64

from tests.hub.rest.conftest import ClientFactory
from tests.hub.rest.payloads import acknowledgement_xml, certificate_xml, submission


async def test_submit_answers_201_with_number_location_and_forwarding_copies(
    client_as: ClientFactory,
) -> None:
    aa = client_as("AA")
    response = await aa.post("/envelopes", json=submission(forwardings=["CC"]))

    assert response.status_code == 201, response.text
    header = response.json()
    number = header["hub_delivery_number"]
    assert header["from"] == "AA" and header["to"] == "BB"
    assert header["tracking_info"] == "PendingDelivery"
    assert header["nppo_certificate_number"] == "AA-2026-0001"
    [copy] = header["forwardings"]
    assert copy["code"] == "CC" and copy["hub_delivery_number"] not in (None, number)
    assert response.headers["location"] == f"http://hub.test/api/v1/envelopes/{number}/tracking"
    tracked = await aa.get(response.headers["location"])
    assert tracked.status_code == 200 and tracked.json()["hub_delivery_number"] == number
    cc_box = (await client_as("CC").get("/boxes/mine/envelopes")).json()
    assert [h["hub_delivery_number"] for h in cc_box] == [copy["hub_delivery_number"]]


async def test_submitting_the_same_envelope_again_answers_200_with_the_original(
    client_as: ClientFactory,
) -> None:
    aa = client_as("AA")
    body = submission(forwardings=["CC"])
    first = await aa.post("/envelopes", json=body)
    again = await aa.post("/envelopes", json=body)

    assert first.status_code == 201
    assert again.status_code == 200
    assert "location" not in again.headers
    assert again.json() == first.json()
    box = (await client_as("BB").get("/boxes/mine/envelopes")).json()
    assert len(box) == 1


async def test_content_may_be_sent_base64_encoded(client_as: ClientFactory) -> None:
    xml = certificate_xml("AA-2026-0064")
    body = submission("AA-2026-0064", content=None)
    del body["content"]
    body["content_base64"] = base64.encodebytes(xml.encode()).decode()  # MIME line breaks

    response = await client_as("AA").post("/envelopes", json=body)

    assert response.status_code == 201, response.text
    pulled = await client_as("BB").get(f"/envelopes/{response.json()['hub_delivery_number']}")
    assert pulled.json()["content"] == xml


async def test_full_exchange_between_two_nppos(client_as: ClientFactory) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    numbers = []
    for i in range(1, 5):
        created = await aa.post("/envelopes", json=submission(f"AA-2026-000{i}"))
        assert created.status_code == 201, created.text
        numbers.append(created.json()["hub_delivery_number"])
    ok, warned, failed, untouched = numbers

    # BB lists what waits for it, oldest first, and can narrow by destination country.
    listed = await bb.get("/boxes/mine/envelopes")
    assert listed.status_code == 200
    assert [h["hub_delivery_number"] for h in listed.json()] == numbers
    assert (await bb.get("/boxes/mine/envelopes", params={"country_code": "CC"})).json() == []
    assert len((await bb.get("/boxes/mine/envelopes", params={"country_code": "bb"})).json()) == 4

    # Pull one as JSON, and the same one as the XML document itself.
    one = await bb.get(f"/envelopes/{ok}")
    assert one.status_code == 200
    envelope = one.json()
    assert envelope["kind"] == "certificate" and envelope["content_encoding"] == "text"
    assert envelope["content"] == certificate_xml("AA-2026-0001")
    assert envelope["header"]["hub_delivery_number"] == ok
    as_xml = await bb.get(f"/envelopes/{ok}", headers={"Accept": "application/xml"})
    assert as_xml.headers["content-type"] == "application/xml"
    assert as_xml.text == certificate_xml("AA-2026-0001")
    assert as_xml.headers["hub-delivery-number"] == ok
    assert as_xml.headers["hub-from"] == "AA"

    # Pull all: every waiting envelope, pulled or not.
    everything = await bb.post("/boxes/mine/pull")
    assert everything.status_code == 200
    assert [e["header"]["hub_delivery_number"] for e in everything.json()] == numbers

    # Acknowledge three of them, one of each kind.
    answers = {
        ok: {"kind": "ok"},
        warned: {"kind": "with_warnings", "message": "treatment date unreadable"},
        failed: {"kind": "failed", "message": "signature does not verify"},
    }
    for number, answer in answers.items():
        acked = await bb.post(f"/envelopes/{number}/acknowledgement", json=answer)
        assert acked.status_code == 200, acked.text
    assert [h["hub_delivery_number"] for h in (await bb.get("/boxes/mine/envelopes")).json()] == [
        untouched
    ]

    # AA sees what became of each, and what is still unfinished.
    states = {n: (await aa.get(f"/envelopes/{n}/tracking")).json() for n in numbers}
    assert states[ok]["tracking_info"] == "Delivered"
    assert states[warned]["tracking_info"] == "DeliveredWithWarnings"
    assert states[warned]["error_message"] == "treatment date unreadable"
    assert states[failed]["tracking_info"] == "DeliveredNotReadable"
    assert states[failed]["error_message"] == "signature does not verify"
    assert states[untouched]["tracking_info"] == "PendingDelivery"
    sent = await aa.get("/sent", params={"state": "pending"})
    assert [h["hub_delivery_number"] for h in sent.json()] == [untouched]

    # Both ends can read an envelope's history.
    for side in (aa, bb):
        history = await side.get(f"/envelopes/{warned}/history")
        assert history.status_code == 200
        events = [entry["event"] for entry in history.json()]
        assert events[0] == "accepted" and events[-1] == "acknowledged_with_warnings"
        assert "pulled" in events

    # BB answers the certificate with a country response; it waits in AA's box.
    response = await bb.post(
        "/envelopes/country-responses",
        json={
            "from": "BB",
            "to": "AA",
            "certificate_type": 851,
            "certificate_status": 70,
            "nppo_certificate_number": "AA-2026-0001",
            "acknowledgement": acknowledgement_xml(),
        },
    )
    assert response.status_code == 201, response.text
    answer_number = response.json()["hub_delivery_number"]
    aa_box = (await aa.get("/boxes/mine/envelopes")).json()
    assert [h["hub_delivery_number"] for h in aa_box] == [answer_number]
    answer = (await aa.get(f"/envelopes/{answer_number}")).json()
    assert answer["kind"] == "country_response"
    assert "Consignment accepted" in answer["content"]


async def test_repeating_an_acknowledgement_is_harmless(client_as: ClientFactory) -> None:
    number = (await client_as("AA").post("/envelopes", json=submission())).json()[
        "hub_delivery_number"
    ]
    bb = client_as("BB")
    answer = {"kind": "with_warnings", "message": "late"}
    first = await bb.post(f"/envelopes/{number}/acknowledgement", json=answer)
    again = await bb.post(f"/envelopes/{number}/acknowledgement", json=answer)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()


async def test_validation_lists_findings_for_xml_and_json_bodies(client_as: ClientFactory) -> None:
    aa = client_as("AA")
    valid = certificate_xml("AA-2026-0100")
    broken = valid.replace("<ram:TypeCode>851</ram:TypeCode>", "<ram:TypeCode>x</ram:TypeCode>")
    assert broken != valid

    clean = await aa.post(
        "/validation", content=valid.encode(), headers={"Content-Type": "application/xml"}
    )
    assert clean.status_code == 200 and clean.json() == []

    for response in (
        await aa.post(
            "/validation", content=broken.encode(), headers={"Content-Type": "application/xml"}
        ),
        await aa.post("/validation", json={"xml": broken}),
    ):
        assert response.status_code == 200, response.text
        findings = response.json()
        assert findings and all(set(f) == {"area", "level", "field", "msg"} for f in findings)
        assert any(f["level"] == "SEVERE" and "TypeCode" in f["field"] for f in findings)


async def test_registry_and_code_lists_are_readable(client_as: ClientFactory) -> None:
    aa = client_as("AA")
    me = (await aa.get("/nppos/me")).json()
    assert me["code"] == "AA" and me["can_send"] and me["can_receive"]
    assert any(
        (d["certificate_type"], d["certificate_status"]) == (851, 70)
        for d in me["allowed_documents"]
    )
    assert [n["code"] for n in (await aa.get("/nppos")).json()] == ["AA", "BB", "CC", "XCH"]
    assert [c["code"] for c in (await aa.get("/channels")).json()] == ["XCH"]

    lists = (await aa.get("/codelists")).json()
    names = [entry["name"] for entry in lists]
    assert "treatment_types" in names and "units" in names
    rows = await aa.get("/codelists/units", params={"lang": "en"})
    assert rows.status_code == 200 and rows.json()
    assert all(row["lang"] == "en" for row in rows.json())


async def test_health_needs_no_certificate(client_as: ClientFactory) -> None:
    response = await client_as(None).get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_sending_the_same_country_response_again_answers_200_with_the_original(
    client_as: ClientFactory,
) -> None:
    assert (await client_as("AA").post("/envelopes", json=submission())).status_code == 201
    body = {
        "from": "BB",
        "to": "AA",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": "AA-2026-0001",
        "acknowledgement": acknowledgement_xml(),
    }
    bb = client_as("BB")
    first = await bb.post("/envelopes/country-responses", json=body)
    again = await bb.post("/envelopes/country-responses", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["hub_delivery_number"] == first.json()["hub_delivery_number"]
