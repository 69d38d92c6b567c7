"""`sign_content`: an enveloped XMLDSig an independent verifier accepts."""

import pytest
from lxml import etree
from signxml import XMLVerifier  # type: ignore[attr-defined]
from signxml.exceptions import InvalidSignature

from ephyto_core._pki import create_ca, issue_signing_certificate
from ephyto_core.certificate import build_certificate_xml, read_certificate
from generic_national_system.signing import sign_content
from tests.core.factories import make_certificate

DS = "http://www.w3.org/2000/09/xmldsig#"


@pytest.mark.parametrize("algorithm", ["rsa-3072", "ec-p256"])
def test_signed_content_verifies_with_the_signers_certificate(algorithm: str) -> None:
    ca = create_ca()
    signer = issue_signing_certificate(ca, nppo_code="KE", key_algorithm=algorithm)  # type: ignore[arg-type]
    xml = build_certificate_xml(make_certificate(seed=5, exporter="KE", importer="NL"))

    signed = sign_content(xml, signer.key_pem(), signer.cert_pem())

    root = etree.fromstring(signed)
    assert root.find(f"{{{DS}}}Signature") is not None
    verified = XMLVerifier().verify(signed, x509_cert=signer.cert_pem().decode())
    # What was signed is the certificate itself, unchanged.
    assert read_certificate(etree.tostring(verified.signed_xml)) == read_certificate(xml)


def test_a_changed_certificate_no_longer_verifies() -> None:
    signer = issue_signing_certificate(create_ca(), nppo_code="KE")
    xml = build_certificate_xml(make_certificate(seed=5, exporter="KE", importer="NL"))
    signed = sign_content(xml, signer.key_pem(), signer.cert_pem())
    tampered = signed.replace(b"Persea", b"Perseb", 1) if b"Persea" in signed else None
    tampered = tampered or signed.replace(b"<ram:Name>", b"<ram:Name>X", 1)
    with pytest.raises(InvalidSignature):
        XMLVerifier().verify(tampered, x509_cert=signer.cert_pem().decode())
