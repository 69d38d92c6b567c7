"""Seals and receipts as national systems get them, over REST and SOAP, from the real hub on
PostgreSQL and SQLite, checked the way a third party would: xmlsec1 and the published
certificate, nothing of ours."""

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree

from ephyto_core._namespaces import SOAP_ENV
from ephyto_core._pki import load_certificate
from hub.envelopes.domain import EnvelopeHeader
from hub.signing.receipts import verify_receipt
from hub.signing.seal import verify_seal, verify_sealed_envelope
from hub.signing.xmldsig import SignatureInvalid
from hub.soap.endpoints import SOAP_PATH
from tests.hub.rest.conftest import ClientFactory
from tests.hub.rest.payloads import acknowledgement_xml, certificate_xml, submission
from tests.hub.signing.conftest import SigningPki, xmlsec1_verify, xmlsec1_verify_with_key
from tests.hub.soap.conftest import live_client  # noqa: F401  (fixture)
from tests.hub.soap.livewsdl import request_from, zeep_reads

HS = {"hs": "urn:ephyto:hub:signatures:1", "soap": SOAP_ENV}


async def published_certificate(client: httpx.AsyncClient, directory: Path) -> Path:
    """The hub's seal certificate as any NPPO fetches it, saved for xmlsec1."""
    response = await client.get("/seal-certificate")
    assert response.status_code == 200, response.text
    path = directory / "published-seal.pem"
    path.write_text(response.json()["pem"])
    return path


def header_of(envelope: dict[str, Any]) -> EnvelopeHeader:
    header = envelope["header"]
    return EnvelopeHeader(
        from_code=header["from"],
        to_code=header["to"],
        certificate_type=header["certificate_type"],
        certificate_status=header["certificate_status"],
        nppo_certificate_number=header["nppo_certificate_number"],
        hub_delivery_number=header["hub_delivery_number"],
    )


# --- REST --------------------------------------------------------------------------------------


async def test_a_seal_verifies_with_xmlsec1_and_only_the_published_certificate(
    client_as: ClientFactory, signing_pki: SigningPki, tmp_path: Path
) -> None:
    aa = client_as("AA")
    sent = await aa.post("/envelopes", json=submission("AA-2026-0001"))
    assert sent.status_code == 201, sent.text
    seal = sent.json()["seal"].encode()
    published = await published_certificate(aa, tmp_path)

    assert signing_pki.ca.cert_path is not None
    ok, output = xmlsec1_verify(seal, trusted_pem=signing_pki.ca.cert_path, directory=tmp_path)
    assert ok, output
    ok, output = xmlsec1_verify_with_key(seal, certificate_pem=published, directory=tmp_path)
    assert ok, output
    facts = verify_seal(seal, certificates=[load_certificate(published.read_bytes())])
    assert (facts.hub_delivery_number, facts.from_code, facts.to_code, facts.box_code) == (
        sent.json()["hub_delivery_number"],
        "AA",
        "BB",
        "BB",
    )
    assert (facts.certificate_type, facts.certificate_status) == (851, 70)
    assert facts.nppo_certificate_number == "AA-2026-0001"
    expected = hashlib.sha256(certificate_xml("AA-2026-0001").encode()).hexdigest()
    assert facts.content_sha256 == expected
    assert facts.content_signed_by is None


async def test_the_receiver_checks_the_pulled_envelope_against_its_seal(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    number = (await aa.post("/envelopes", json=submission("AA-2026-0002"))).json()[
        "hub_delivery_number"
    ]

    pulled = (await bb.get(f"/envelopes/{number}")).json()
    content = pulled["content"].encode()
    seal = pulled["seal"].encode()
    header = header_of(pulled)

    certificates = [signing_pki.seal.certificate]
    assert verify_sealed_envelope(seal, header=header, content=content, certificates=certificates)
    flipped = bytearray(content)
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(SignatureInvalid, match="content SHA-256"):
        verify_sealed_envelope(
            seal, header=header, content=bytes(flipped), certificates=certificates
        )
    with pytest.raises(SignatureInvalid, match="From is 'CC'"):
        verify_sealed_envelope(
            seal,
            header=dataclasses.replace(header, from_code="CC"),
            content=content,
            certificates=certificates,
        )
    # The XML pull points at the same seal.
    xml = await bb.get(f"/envelopes/{number}", headers={"Accept": "application/xml"})
    assert xml.headers["Link"].endswith(f'/envelopes/{number}/seal>; rel="seal"')
    alone = await bb.get(f"/envelopes/{number}/seal", headers={"Accept": "application/xml"})
    assert alone.content == seal


@pytest.mark.parametrize(
    ("kind", "message", "state"),
    [
        ("ok", None, "Delivered"),
        ("with_warnings", "treatment date missing", "DeliveredWithWarnings"),
        ("failed", "cannot read the attachment", "DeliveredNotReadable"),
    ],
)
async def test_an_acknowledgement_gives_the_exporter_a_signed_receipt(
    client_as: ClientFactory,
    signing_pki: SigningPki,
    tmp_path: Path,
    kind: str,
    message: str | None,
    state: str,
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    sent = (await aa.post("/envelopes", json=submission("AA-2026-0003"))).json()
    number = sent["hub_delivery_number"]
    assert (await aa.get(f"/envelopes/{number}/receipt")).status_code == 404  # not yet

    body: dict[str, Any] = {"kind": kind} | ({"message": message} if message else {})
    assert (await bb.post(f"/envelopes/{number}/acknowledgement", json=body)).status_code == 200

    answer = await aa.get(f"/envelopes/{number}/receipt", headers={"Accept": "application/xml"})
    assert answer.status_code == 200
    receipt = answer.content
    assert signing_pki.ca.cert_path is not None
    ok, output = xmlsec1_verify(receipt, trusted_pem=signing_pki.ca.cert_path, directory=tmp_path)
    assert ok, output
    published = await published_certificate(aa, tmp_path)
    ok, output = xmlsec1_verify_with_key(receipt, certificate_pem=published, directory=tmp_path)
    assert ok, output
    facts = verify_receipt(receipt, certificates=[signing_pki.seal.certificate])
    assert (facts.hub_delivery_number, facts.acknowledged_by, facts.tracking_info) == (
        number,
        "BB",
        state,
    )
    assert facts.message == message
    assert facts.seal_sha256 == hashlib.sha256(sent["seal"].encode()).hexdigest()
    assert facts.acknowledged_at >= facts.accepted_at


async def test_seals_and_receipts_are_for_the_sender_and_the_receiver_only(
    client_as: ClientFactory,
) -> None:
    aa, bb, cc = client_as("AA"), client_as("BB"), client_as("CC")
    number = (await aa.post("/envelopes", json=submission("AA-2026-0004"))).json()[
        "hub_delivery_number"
    ]
    await bb.post(f"/envelopes/{number}/acknowledgement", json={"kind": "ok"})

    for who, status in ((aa, 200), (bb, 200), (cc, 404)):
        assert (await who.get(f"/envelopes/{number}/seal")).status_code == status
        assert (await who.get(f"/envelopes/{number}/receipt")).status_code == status


async def test_a_repeated_submission_answers_with_the_original_seal(
    client_as: ClientFactory,
) -> None:
    aa = client_as("AA")
    first = await aa.post("/envelopes", json=submission("AA-2026-0005"))
    again = await aa.post("/envelopes", json=submission("AA-2026-0005"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["seal"] == first.json()["seal"]


async def test_each_copy_has_its_own_seal_naming_its_box(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    aa, cc = client_as("AA"), client_as("CC")
    sent = (await aa.post("/envelopes", json=submission("AA-2026-0006", forwardings=["CC"]))).json()
    [copy] = sent["forwardings"]

    pulled = (await cc.get(f"/envelopes/{copy['hub_delivery_number']}")).json()
    facts = verify_sealed_envelope(
        pulled["seal"].encode(),
        header=header_of(pulled),
        content=pulled["content"].encode(),
        certificates=[signing_pki.seal.certificate],
    )
    assert (facts.to_code, facts.box_code) == ("BB", "CC")
    assert facts.hub_delivery_number != sent["hub_delivery_number"]


async def test_pull_all_carries_every_seal(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    for n in range(3):
        await aa.post("/envelopes", json=submission(f"AA-2026-01{n}"))
    pulled = (await bb.post("/boxes/mine/pull")).json()
    assert len(pulled) == 3
    for envelope in pulled:
        verify_sealed_envelope(
            envelope["seal"].encode(),
            header=header_of(envelope),
            content=envelope["content"].encode(),
            certificates=[signing_pki.seal.certificate],
        )


# --- SOAP --------------------------------------------------------------------------------------


async def soap(
    client: httpx.AsyncClient, live: zeep.Client, operation: str, **arguments: Any
) -> tuple[Any, etree._Element]:
    """Call as a live-WSDL national system; what zeep reads, and the raw answer."""
    response = await client.post(
        f"http://hub.test{SOAP_PATH}",
        content=request_from(live, operation, **arguments),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
    )
    value = zeep_reads(live, operation, response.content, status=response.status_code)
    return value, etree.fromstring(response.content)


def header_blocks(answer: etree._Element, path: str) -> list[etree._Element]:
    return answer.findall(f"soap:Header/{path}", HS)


def standalone(element: etree._Element) -> bytes:
    """What a client does with a header block: take it out as its own document."""
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def envelope_args(number: str) -> dict[str, Any]:
    return {
        "From": "AA",
        "To": "BB",
        "CertificateType": 851,
        "CertificateStatus": 70,
        "NPPOCertificateNumber": number,
        "Content": certificate_xml(number),
        "Forwardings": {"EnvelopeForwarding": [{"Code": "CC"}]},
    }


async def test_soap_clients_get_seals_and_receipts_in_header_blocks_they_can_ignore(
    client_as: ClientFactory,
    live_client: zeep.Client,  # noqa: F811
    signing_pki: SigningPki,
    tmp_path: Path,
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    assert signing_pki.ca.cert_path is not None

    sent, answer = await soap(aa, live_client, "DeliverEnvelope", env=envelope_args("AA-2026-0010"))
    # zeep, generated from the live WSDL, reads the answer as always...
    assert sent.HUBTrackingInfo == "PendingDelivery"
    # ...and the sender's seals (original and its copy) ride in the header.
    seals = header_blocks(answer, "hs:EnvelopeSeals/hs:EnvelopeSeal")
    numbers = {s.findtext("hs:HubDeliveryNumber", namespaces=HS) for s in seals}
    assert numbers == {
        sent.hubDeliveryNumber,
        sent.Forwardings.EnvelopeForwarding[0].HubDeliveryNumber,
    }
    for seal in seals:
        ok, output = xmlsec1_verify(
            standalone(seal), trusted_pem=signing_pki.ca.cert_path, directory=tmp_path
        )
        assert ok, output

    number = sent.hubDeliveryNumber
    pulled, answer = await soap(
        bb, live_client, "PULLSingleImportEnvelope", hubTrackingNumber=number
    )
    [seal] = header_blocks(answer, "hs:EnvelopeSeals/hs:EnvelopeSeal")
    facts = verify_seal(standalone(seal), certificates=[signing_pki.seal.certificate])
    assert facts.content_sha256 == hashlib.sha256(pulled.Content.encode()).hexdigest()
    _, answer = await soap(bb, live_client, "PULLImportEnvelope")
    assert len(header_blocks(answer, "hs:EnvelopeSeals/hs:EnvelopeSeal")) == 1

    tracked, answer = await soap(
        aa, live_client, "GetEnvelopeTrackingInfo", hubTrackingNumber=number
    )
    assert tracked.HUBTrackingInfo == "PendingDelivery"
    assert header_blocks(answer, "hs:DeliveryReceipts") == []  # nothing to prove yet

    await soap(bb, live_client, "AcknowledgeEnvelopeReceipt", hubTrackingNumber=number)
    tracked, answer = await soap(
        aa, live_client, "GetEnvelopeTrackingInfo", hubTrackingNumber=number
    )
    assert tracked.HUBTrackingInfo == "Delivered"
    [receipt] = header_blocks(answer, "hs:DeliveryReceipts/hs:DeliveryReceipt")
    ok, output = xmlsec1_verify(
        standalone(receipt), trusted_pem=signing_pki.ca.cert_path, directory=tmp_path
    )
    assert ok, output
    assert (
        verify_receipt(
            standalone(receipt), certificates=[signing_pki.seal.certificate]
        ).tracking_info
        == "Delivered"
    )


async def test_a_country_response_is_sealed_too(
    client_as: ClientFactory,
    live_client: zeep.Client,  # noqa: F811
    signing_pki: SigningPki,
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    await aa.post("/envelopes", json=submission("AA-2026-0011"))
    response = await bb.post(
        "/envelopes/country-responses",
        json={
            "from": "BB",
            "to": "AA",
            "certificate_type": 851,
            "certificate_status": 70,
            "nppo_certificate_number": "AA-2026-0011",
            "acknowledgement": acknowledgement_xml(),
        },
    )
    assert response.status_code == 201, response.text
    number = response.json()["hub_delivery_number"]
    seal = await aa.get(f"/envelopes/{number}/seal", headers={"Accept": "application/xml"})
    facts = verify_seal(seal.content, certificates=[signing_pki.seal.certificate])
    assert (facts.kind, facts.from_code, facts.box_code) == ("country_response", "BB", "AA")
