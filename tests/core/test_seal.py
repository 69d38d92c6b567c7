"""`ephyto_core.seal`: a receiver checks the hub's seals with no hub code — against seals the hub's
own signer makes (`hub.signing.seal`), so the two halves of the contract cannot drift apart."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from ephyto_core._pki import IssuedCertificate, create_ca, issue_seal_certificate
from ephyto_core.seal import (
    SignatureInvalid,
    seal_differences,
    verify_enveloped,
    verify_seal,
    verify_sealed_envelope,
)
from hub.signing.seal import SealFacts, make_seal

CONTENT = b"<rsm:SPSCertificate xmlns:rsm='urn:x'/>"


@pytest.fixture(scope="module")
def signer() -> IssuedCertificate:
    return issue_seal_certificate(create_ca())


def a_seal(signer: IssuedCertificate, **overrides: object) -> bytes:
    facts = {
        "hub_delivery_number": "6f1c2d3e-0000-4000-8000-000000000001",
        "kind": "certificate",
        "from_code": "AA",
        "to_code": "BB",
        "box_code": "BB",
        "certificate_type": 851,
        "certificate_status": 70,
        "nppo_certificate_number": "AA-2026-000001",
        "accepted_at": datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        "content_sha256": hashlib.sha256(CONTENT).hexdigest(),
        **overrides,
    }
    return make_seal(SealFacts(**facts), signer)  # type: ignore[arg-type]


def test_a_hub_seal_verifies_and_states_what_the_hub_accepted(signer: IssuedCertificate) -> None:
    facts = verify_sealed_envelope(
        a_seal(signer),
        content=CONTENT,
        certificates=[signer.certificate],
        hub_delivery_number="6f1c2d3e-0000-4000-8000-000000000001",
        from_code="AA",
        to_code="BB",
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number="AA-2026-000001",
    )
    assert facts.accepted_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert facts.kind == "certificate" and facts.content_signed_by is None


def test_other_bytes_or_another_header_are_named_as_differences(
    signer: IssuedCertificate,
) -> None:
    facts = verify_seal(a_seal(signer), certificates=[signer.certificate])
    assert seal_differences(facts, content=CONTENT) == []
    found = seal_differences(facts, content=CONTENT + b" ", from_code="ZZ")
    assert len(found) == 2
    assert found[0].startswith("content SHA-256") and "From is 'ZZ'" in found[1]
    with pytest.raises(SignatureInvalid, match="not what the hub sealed"):
        verify_sealed_envelope(
            a_seal(signer), content=b"<other/>", certificates=[signer.certificate]
        )


def test_a_seal_by_another_key_or_a_changed_fact_is_refused(signer: IssuedCertificate) -> None:
    stranger = issue_seal_certificate(create_ca())
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify_seal(a_seal(stranger), certificates=[signer.certificate])
    changed = a_seal(signer).replace(b"AA-2026-000001", b"AA-2026-000002")
    with pytest.raises(SignatureInvalid):
        verify_seal(changed, certificates=[signer.certificate])
    with pytest.raises(SignatureInvalid, match="no certificate is trusted"):
        verify_seal(a_seal(signer), certificates=[])


def test_a_seal_is_checked_at_the_time_given(signer: IssuedCertificate) -> None:
    too_late = datetime.now(UTC) + timedelta(days=20 * 365)
    with pytest.raises(SignatureInvalid):
        verify_seal(a_seal(signer), certificates=[signer.certificate], now=too_late)


def test_only_one_enveloped_signature_over_the_whole_document_is_accepted(
    signer: IssuedCertificate,
) -> None:
    root = etree.fromstring(a_seal(signer))
    with pytest.raises(SignatureInvalid, match="holds 0 ds:Signature"):
        verify_enveloped(etree.fromstring(b"<a/>"), certificates=[signer.certificate])
    wrapper = etree.Element("wrapper")
    wrapper.append(root)
    with pytest.raises(SignatureInvalid, match="direct child"):
        verify_enveloped(wrapper, certificates=[signer.certificate])
