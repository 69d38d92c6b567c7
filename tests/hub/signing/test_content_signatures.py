"""NPPO content signatures: checked against the sender's registered signing certificates, per
its policy, without changing what validation says about the certificate itself."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import zeep
from lxml import etree

from ephyto_core._pki import issue_signing_certificate, load_certificate
from ephyto_core._safexml import parse_untrusted
from ephyto_core._validation import Level
from hub.database import unit_of_work
from hub.errors import DeliveryRefused
from hub.identity.domain import AuthenticatedNppo
from hub.nppos import repository as nppo_repository
from hub.nppos.domain import ContentSignaturePolicy
from hub.runtime import HubRuntime
from hub.signing.content import check_content_signature
from hub.signing.seal import verify_seal
from hub.signing.xmldsig import verify_enveloped
from hub.soap.endpoints import SOAP_PATH
from tests.hub.rest.conftest import ClientFactory, assert_problem
from tests.hub.rest.payloads import certificate_xml, submission
from tests.hub.signing.conftest import SigningPki
from tests.hub.signing.dsig import nppo_sign, parse, signature_of
from tests.hub.soap.conftest import live_client  # noqa: F401  (fixture)
from tests.hub.soap.livewsdl import zeep_reads
from tests.hub.soap.soapxml import header_xml, soap_request


@pytest.fixture
async def registered_signers(
    runtime: HubRuntime, signing_pki: SigningPki, nppos: dict[str, AuthenticatedNppo]
) -> None:
    """AA and BB have their signing certificates on the hub; CC has none."""
    async with unit_of_work(runtime.sessionmaker) as session:
        for code in ("AA", "BB"):
            await runtime.nppos.add_signing_certificate(
                session, code=code, certificate=signing_pki.signers[code].cert_pem()
            )


async def set_policy(runtime: HubRuntime, code: str, policy: ContentSignaturePolicy) -> None:
    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.nppos.set_content_signature_policy(session, code=code, policy=policy)


def signed_submission(number: str, signed: bytes, **overrides: Any) -> dict[str, Any]:
    return submission(number, content=signed.decode("utf-8"), **overrides)


def severe(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["level"] == "SEVERE"]


@pytest.mark.usefixtures("registered_signers")
async def test_a_signed_certificate_is_accepted_checked_and_passed_on_as_signed(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    aa, bb = client_as("AA"), client_as("BB")
    signed = nppo_sign(certificate_xml("AA-2026-0200").encode(), signing_pki.signers["AA"])

    sent = await aa.post(
        "/envelopes", json=signed_submission("AA-2026-0200", signed, validate_first=True)
    )

    assert sent.status_code == 201, sent.text
    facts = verify_seal(sent.json()["seal"].encode(), certificates=[signing_pki.seal.certificate])
    assert facts.content_signed_by == signing_pki.signers["AA"].fingerprint
    # The importer gets the bytes as signed and checks them with the certificate the hub
    # publishes for AA (GetActiveNppos / GET /nppos).
    pulled = (await bb.get(f"/envelopes/{sent.json()['hub_delivery_number']}")).json()
    received = pulled["content"].encode()
    assert parse(received).find("{http://www.w3.org/2000/09/xmldsig#}Signature") is not None
    [profile] = [p for p in (await bb.get("/nppos")).json() if p["code"] == "AA"]
    published = load_certificate(base64.b64decode(profile["signature"]["certificate"]))
    verified = verify_enveloped(parse_untrusted(received), certificates=[published])
    assert verified.signer_fingerprint == signing_pki.signers["AA"].fingerprint


@pytest.mark.usefixtures("registered_signers")
async def test_a_signed_valid_certificate_has_no_severe_finding(
    client_as: ClientFactory, runtime: HubRuntime, signing_pki: SigningPki
) -> None:
    unsigned = certificate_xml("AA-2026-0201").encode()
    signed = nppo_sign(unsigned, signing_pki.signers["AA"])
    # The profile schema has no ds:Signature: validated as it is, the document has a SEVERE.
    raw = runtime.validator.validate(signed)
    assert [r.level for r in raw] == [Level.SEVERE], raw

    aa = client_as("AA")
    as_xml = await aa.post(
        "/validation", content=signed, headers={"Content-Type": "application/xml"}
    )
    assert as_xml.status_code == 200
    assert severe(as_xml.json()) == []
    reference = await aa.post(
        "/validation", content=unsigned, headers={"Content-Type": "application/xml"}
    )
    assert as_xml.json() == reference.json()  # the signature changes nothing validation says
    assert runtime.envelopes.validate_xml(signed) == runtime.envelopes.validate_xml(unsigned)


@pytest.mark.usefixtures("registered_signers")
async def test_required_policy_refuses_unsigned_content(
    client_as: ClientFactory, runtime: HubRuntime
) -> None:
    await set_policy(runtime, "AA", ContentSignaturePolicy.REQUIRED)
    answer = await client_as("AA").post("/envelopes", json=submission("AA-2026-0202"))
    problem = assert_problem(answer, 422, "delivery_refused", field="content")
    assert "content signature policy: required" in str(problem["detail"])


@pytest.mark.usefixtures("registered_signers")
async def test_optional_policy_accepts_unsigned_content(client_as: ClientFactory) -> None:
    answer = await client_as("AA").post("/envelopes", json=submission("AA-2026-0203"))
    assert answer.status_code == 201, answer.text


@pytest.mark.usefixtures("registered_signers")
@pytest.mark.parametrize(
    "policy", [ContentSignaturePolicy.OPTIONAL, ContentSignaturePolicy.REQUIRED]
)
async def test_content_changed_after_signing_is_refused_naming_the_reason(
    client_as: ClientFactory,
    runtime: HubRuntime,
    signing_pki: SigningPki,
    policy: ContentSignaturePolicy,
) -> None:
    await set_policy(runtime, "AA", policy)
    signed = nppo_sign(certificate_xml("AA-2026-0204").encode(), signing_pki.signers["AA"])
    tampered = signed.replace(b"<ram:Name>", b"<ram:Name>Forged ", 1)
    assert tampered != signed

    answer = await client_as("AA").post(
        "/envelopes", json=signed_submission("AA-2026-0204", tampered)
    )

    problem = assert_problem(answer, 422, "delivery_refused", field="content")
    assert "content signature of AA is refused" in str(problem["detail"])
    assert "Digest mismatch" in str(problem["detail"])


@pytest.mark.usefixtures("registered_signers")
async def test_content_signed_with_another_nppos_key_is_refused(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    signed = nppo_sign(certificate_xml("AA-2026-0205").encode(), signing_pki.signers["BB"])
    answer = await client_as("AA").post(
        "/envelopes", json=signed_submission("AA-2026-0205", signed)
    )
    problem = assert_problem(answer, 422, "delivery_refused", field="content")
    assert "does not verify" in str(problem["detail"])


@pytest.mark.usefixtures("registered_signers")
async def test_signed_content_from_an_nppo_without_a_signing_certificate_is_refused(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    signed = nppo_sign(certificate_xml("CC-2026-0001").encode(), signing_pki.signers["AA"])
    answer = await client_as("CC").post(
        "/envelopes", json=signed_submission("CC-2026-0001", signed, sender="CC", to="BB")
    )
    problem = assert_problem(answer, 422, "delivery_refused", field="content")
    assert "CC has no signing certificate registered" in str(problem["detail"])


@pytest.mark.usefixtures("registered_signers")
async def test_policy_none_passes_a_signature_on_unchecked(
    client_as: ClientFactory, runtime: HubRuntime, signing_pki: SigningPki
) -> None:
    await set_policy(runtime, "AA", ContentSignaturePolicy.NONE)
    signed = nppo_sign(certificate_xml("AA-2026-0206").encode(), signing_pki.signers["BB"])

    answer = await client_as("AA").post(
        "/envelopes", json=signed_submission("AA-2026-0206", signed, validate_first=True)
    )

    assert answer.status_code == 201, answer.text
    seal = verify_seal(answer.json()["seal"].encode(), certificates=[signing_pki.seal.certificate])
    assert seal.content_signed_by is None  # the hub vouches for nothing it did not check


@pytest.mark.usefixtures("registered_signers")
async def test_wrapped_signatures_are_refused_at_the_hub(
    client_as: ClientFactory, signing_pki: SigningPki
) -> None:
    aa = client_as("AA")
    # A genuine signed certificate hidden inside a forged one that carries its signature.
    genuine = parse(nppo_sign(certificate_xml("AA-2026-0207").encode(), signing_pki.signers["AA"]))
    forged = parse(certificate_xml("AA-2026-0207").encode().replace(b"NZ", b"XX"))
    signature = signature_of(genuine)
    genuine.remove(signature)
    forged.append(signature)
    forged[0].append(genuine)
    # A signature over one element by Id, not the whole document.
    by_id = parse(certificate_xml("AA-2026-0208").encode())
    by_id[0].set("Id", "doc")
    partial = nppo_sign(by_id, signing_pki.signers["AA"], reference_uri="#doc")

    for number, document, reason in (
        ("AA-2026-0207", etree.tostring(forged), "Digest mismatch"),
        ("AA-2026-0208", partial, "direct child|URI"),
    ):
        answer = await aa.post("/envelopes", json=signed_submission(number, document))
        problem = assert_problem(answer, 422, "delivery_refused", field="content")
        assert any(part in str(problem["detail"]) for part in reason.split("|")), problem


async def test_signing_certificates_roll_over_without_a_gap(
    runtime: HubRuntime, signing_pki: SigningPki, nppos: dict[str, AuthenticatedNppo]
) -> None:
    """AA's old signing key is valid until T+1d, the new one from T: signatures by either are
    accepted while both are valid, and each only within its own validity."""
    t = datetime.now(UTC).replace(microsecond=0)
    old = issue_signing_certificate(
        signing_pki.ca,
        nppo_code="AA",
        not_before=t - timedelta(days=300),
        not_after=t + timedelta(days=1),
    )
    new = issue_signing_certificate(signing_pki.ca, nppo_code="AA", not_before=t, days=400)
    async with unit_of_work(runtime.sessionmaker) as session:
        for issued in (old, new):
            await runtime.nppos.add_signing_certificate(
                session, code="AA", certificate=issued.cert_pem()
            )
    xml = certificate_xml("AA-2026-0209").encode()
    by_old, by_new = nppo_sign(xml, old), nppo_sign(xml, new)

    async def accepted(document: bytes, now: datetime) -> str | None:
        async with runtime.sessionmaker() as session:
            sender = await nppo_repository.get_by_code(session, "AA")
            assert sender is not None
            try:
                check = await check_content_signature(
                    session, sender=sender, root=parse_untrusted(document), now=now
                )
            except DeliveryRefused:
                return None
            return check.signed_by

    before, overlap, after = t - timedelta(hours=1), t + timedelta(hours=12), t + timedelta(days=2)
    assert await accepted(by_old, before) == old.fingerprint
    assert await accepted(by_new, before) is None  # not valid yet
    assert await accepted(by_old, overlap) == old.fingerprint
    assert await accepted(by_new, overlap) == new.fingerprint
    assert await accepted(by_old, after) is None  # expired
    assert await accepted(by_new, after) == new.fingerprint


@pytest.mark.usefixtures("registered_signers")
async def test_a_signed_certificate_embedded_in_deliver_phyto_envelope_verifies(
    client_as: ClientFactory,
    live_client: zeep.Client,  # noqa: F811
    signing_pki: SigningPki,
) -> None:
    """Embedded in the SOAP body, the certificate picks up the envelope's namespace context;
    exclusive canonicalisation keeps the signature valid through that."""
    signed = parse(nppo_sign(certificate_xml("AA-2026-0210").encode(), signing_pki.signers["AA"]))
    request = soap_request(
        f"<hub:DeliverPhytoEnvelope><hub:ePhytoEnvelope>{header_xml(number='AA-2026-0210')}"
        f"{etree.tostring(signed).decode()}</hub:ePhytoEnvelope></hub:DeliverPhytoEnvelope>"
    )
    response = await client_as("AA").post(
        f"http://hub.test{SOAP_PATH}", content=request, headers={"Content-Type": "text/xml"}
    )
    sent = zeep_reads(live_client, "DeliverPhytoEnvelope", response.content)
    assert sent.HUBTrackingInfo == "PendingDelivery", sent.hubDeliveryErrorMessage
    [seal] = etree.fromstring(response.content).iterfind(
        ".//{urn:ephyto:hub:signatures:1}EnvelopeSeal"
    )
    facts = verify_seal(etree.tostring(seal), certificates=[signing_pki.seal.certificate])
    assert facts.content_signed_by == signing_pki.signers["AA"].fingerprint
