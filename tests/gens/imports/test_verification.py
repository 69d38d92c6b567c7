"""What GeNS checks on a pulled envelope besides the hub's seal: the sender's own signature."""

from cryptography.hazmat.primitives.serialization import Encoding

from ephyto_core._pki import create_ca, issue_signing_certificate
from ephyto_core.certificate import build_certificate_xml
from generic_national_system.imports.verification import check_content_signature
from generic_national_system.signing import sign_content
from tests.core.factories import make_certificate


def test_a_content_signature_is_valid_invalid_unchecked_or_absent() -> None:
    ca = create_ca()
    signer = issue_signing_certificate(ca, nppo_code="KE")
    other = issue_signing_certificate(ca, nppo_code="KE")
    xml = build_certificate_xml(make_certificate(seed=7, exporter="KE", importer="NL"))
    signed = sign_content(xml, signer.key_pem(), signer.cert_pem())
    der = signer.certificate.public_bytes(Encoding.DER)

    valid = check_content_signature(signed, signing_certificate=der)
    assert valid.outcome == "valid" and "KE" in (valid.detail or "")
    assert check_content_signature(xml, signing_certificate=der).outcome == "none"
    assert check_content_signature(signed, signing_certificate=None).outcome == "unchecked"
    by_another = check_content_signature(
        signed, signing_certificate=other.certificate.public_bytes(Encoding.DER)
    )
    assert by_another.outcome == "invalid"
    tampered = signed.replace(b"<ram:Name>", b"<ram:Name>Forged ", 1)
    assert tampered != signed
    assert check_content_signature(tampered, signing_certificate=der).outcome == "invalid"
