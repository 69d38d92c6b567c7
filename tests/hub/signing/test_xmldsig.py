"""The XMLDSig profile: what the hub signs verifies anywhere; what is outside the profile, or
wrapped, or signed by someone else, is refused, and only the signed tree comes back."""

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from ephyto_core._namespaces import RSM, XMLDSIG
from ephyto_core._pki import (
    IssuedCertificate,
    create_ca,
    issue_seal_certificate,
    issue_signing_certificate,
)
from ephyto_core._safexml import parse_untrusted
from hub.signing.content import without_root_signature
from hub.signing.xmldsig import (
    SignatureInvalid,
    sign_enveloped,
    signature_algorithm_for,
    verify_enveloped,
)
from tests.hub.rest.payloads import certificate_xml
from tests.hub.signing.conftest import SigningPki, xmlsec1_verify
from tests.hub.signing.dsig import (
    DS,
    INCLUSIVE_C14N,
    digest_of_document,
    nppo_sign,
    parse,
    resign,
    set_algorithm,
    signature_of,
)

CERTIFICATE = certificate_xml("AA-2026-0100").encode()


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> IssuedCertificate:
    """Someone with a perfectly good certificate of their own, from their own CA."""
    return issue_signing_certificate(create_ca(), nppo_code="AA")


def verify(data: bytes, signer: IssuedCertificate, **kwargs: object) -> etree._Element:
    root = parse_untrusted(data)
    return verify_enveloped(root, certificates=[signer.certificate], **kwargs).document  # type: ignore[arg-type]


# --- what the hub signs ------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["rsa-3072", "ec-p256"])
def test_a_hub_signature_verifies_with_signxml_and_xmlsec1(
    algorithm: str, signing_pki: SigningPki, tmp_path: Path
) -> None:
    seal = issue_seal_certificate(signing_pki.ca, key_algorithm=algorithm)  # type: ignore[arg-type]
    # A comment (outside what exclusive C14N signs), a second namespace and an attribute.
    document = etree.fromstring(
        b"<s:Statement xmlns:s='urn:test' xmlns:t='urn:other' Version='1'><!-- note -->"
        b"<s:A>1 &amp; 2</s:A><t:B t:kind='x'>\xc3\xa9</t:B></s:Statement>"
    )
    unchanged = etree.tostring(document)

    signed = sign_enveloped(document, seal)

    assert etree.tostring(document) == unchanged
    assert verify(signed, seal).findtext("{urn:test}A") == "1 & 2"
    assert verify(signed, seal).findtext("{urn:other}B") == "\u00e9"
    assert signing_pki.ca.cert_path is not None
    ok, output = xmlsec1_verify(signed, trusted_pem=signing_pki.ca.cert_path, directory=tmp_path)
    assert ok, output
    info = signature_of(parse(signed))
    assert info.find("ds:SignedInfo/ds:Reference", DS).get("URI") == ""  # type: ignore[union-attr]
    assert "sha1" not in signed.decode().lower()


def test_the_verified_tree_is_the_document_without_its_signature(signing_pki: SigningPki) -> None:
    signed = nppo_sign(CERTIFICATE, signing_pki.signers["AA"])

    document = verify(signed, signing_pki.signers["AA"])

    assert document.tag == f"{{{RSM}}}SPSCertificate"
    assert document.find(f".//{{{XMLDSIG}}}Signature") is None
    expected = etree.tostring(parse(CERTIFICATE), method="c14n", exclusive=True)
    assert etree.tostring(document, method="c14n", exclusive=True) == expected


def test_inclusive_canonicalisation_as_dotnet_signs_is_accepted(signing_pki: SigningPki) -> None:
    signed = nppo_sign(CERTIFICATE, signing_pki.signers["AA"], c14n=INCLUSIVE_C14N)
    assert verify(signed, signing_pki.signers["AA"]).tag == f"{{{RSM}}}SPSCertificate"


def test_weak_keys_cannot_sign() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    with pytest.raises(ValueError, match="2048"):
        signature_algorithm_for(weak)


# --- refusals ----------------------------------------------------------------------------------


def test_an_unsigned_document_is_refused(signing_pki: SigningPki) -> None:
    with pytest.raises(SignatureInvalid, match="not signed"):
        verify(CERTIFICATE, signing_pki.signers["AA"])


def test_a_signature_by_an_untrusted_key_is_refused(
    signing_pki: SigningPki, stranger: IssuedCertificate
) -> None:
    # The stranger's own certificate is in KeyInfo: it must count for nothing.
    signed = nppo_sign(CERTIFICATE, stranger)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(signed, signing_pki.signers["AA"])


def test_a_certificate_outside_its_validity_is_refused(signing_pki: SigningPki) -> None:
    now = datetime.now(UTC)
    old = issue_signing_certificate(
        signing_pki.ca, nppo_code="AA", not_before=now - timedelta(days=30), days=10
    )
    signed = nppo_sign(CERTIFICATE, old)
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(signed, old)
    # The same signature was good while the certificate was.
    assert verify(signed, old, now=now - timedelta(days=25)).tag == f"{{{RSM}}}SPSCertificate"


def test_one_changed_character_in_the_signed_content_is_refused(signing_pki: SigningPki) -> None:
    signed = nppo_sign(CERTIFICATE, signing_pki.signers["AA"])
    tampered = signed.replace(b"AA-2026-0100", b"AA-2026-0101", 1)
    assert tampered != signed
    with pytest.raises(SignatureInvalid, match="Digest mismatch"):
        verify(tampered, signing_pki.signers["AA"])


def test_resigning_makes_signatures_that_verify(signing_pki: SigningPki) -> None:
    """The control for the tests below: their signatures are refused for what they changed."""
    signer = signing_pki.signers["AA"]
    signed = resign(nppo_sign(CERTIFICATE, signer), signer, lambda _root, _info: None)
    assert verify(signed, signer).tag == f"{{{RSM}}}SPSCertificate"


def test_a_valid_sha1_signature_is_refused(signing_pki: SigningPki) -> None:
    signer = signing_pki.signers["AA"]  # RSA

    def to_rsa_sha1(_root: etree._Element, signed_info: etree._Element) -> None:
        set_algorithm(
            signed_info, "ds:SignatureMethod", "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        )

    signed = resign(
        nppo_sign(CERTIFICATE, signer),
        signer,
        to_rsa_sha1,
        hash_algorithm=hashes.SHA1(),  # noqa: S303 - the point
    )
    with pytest.raises(SignatureInvalid, match="RSA_SHA1 forbidden"):
        verify(signed, signer)


def test_a_valid_sha1_digest_is_refused(signing_pki: SigningPki) -> None:
    signer = signing_pki.signers["AA"]

    def to_sha1_digest(root: etree._Element, signed_info: etree._Element) -> None:
        set_algorithm(
            signed_info, "ds:Reference/ds:DigestMethod", "http://www.w3.org/2000/09/xmldsig#sha1"
        )
        value = signed_info.find("ds:Reference/ds:DigestValue", DS)
        assert value is not None
        value.text = digest_of_document(root, "sha1")

    signed = resign(nppo_sign(CERTIFICATE, signer), signer, to_sha1_digest)
    with pytest.raises(SignatureInvalid, match="SHA1 forbidden"):
        verify(signed, signer)


# --- signature wrapping: the verified subtree must be the whole document ------------------------


def test_a_reference_to_an_element_id_is_refused_even_when_it_verifies(
    signing_pki: SigningPki,
) -> None:
    root = parse(CERTIFICATE)
    root.set("Id", "certificate")
    signed = nppo_sign(root, signing_pki.signers["AA"], reference_uri="#certificate")
    with pytest.raises(SignatureInvalid, match='URI=""'):
        verify(signed, signing_pki.signers["AA"])


def test_a_second_reference_is_refused(signing_pki: SigningPki) -> None:
    signer = signing_pki.signers["AA"]

    def add_reference(_root: etree._Element, signed_info: etree._Element) -> None:
        reference = signed_info.find("ds:Reference", DS)
        assert reference is not None
        extra = etree.fromstring(etree.tostring(reference))
        extra.set("URI", "#elsewhere")
        signed_info.append(extra)

    signed = resign(nppo_sign(CERTIFICATE, signer), signer, add_reference)
    with pytest.raises(SignatureInvalid, match="2 references"):
        verify(signed, signer)


def test_an_xpath_filter_that_leaves_content_unsigned_is_refused(signing_pki: SigningPki) -> None:
    signer = signing_pki.signers["AA"]
    xpath = "http://www.w3.org/TR/1999/REC-xpath-19991116"

    def add_xpath_transform(_root: etree._Element, signed_info: etree._Element) -> None:
        transforms = signed_info.find("ds:Reference/ds:Transforms", DS)
        assert transforms is not None
        transform = etree.SubElement(transforms, f"{{{XMLDSIG}}}Transform", Algorithm=xpath)
        etree.SubElement(transform, f"{{{XMLDSIG}}}XPath").text = "not(ancestor-or-self::*)"

    signed = resign(nppo_sign(CERTIFICATE, signer), signer, add_xpath_transform)
    with pytest.raises(SignatureInvalid, match="transform"):
        verify(signed, signer)


def test_a_signature_moved_below_the_root_is_refused(signing_pki: SigningPki) -> None:
    root = parse(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    signature = signature_of(root)
    root[0].append(signature)  # into SPSExchangedDocument
    with pytest.raises(SignatureInvalid, match="direct child"):
        verify(etree.tostring(root), signing_pki.signers["AA"])


def test_a_signed_document_wrapped_inside_a_forged_one_is_refused(signing_pki: SigningPki) -> None:
    """The classic wrap: a forged certificate carries the genuine signature at its root and the
    genuine signed content tucked away inside; a verifier that followed the reference into the
    wrapper would vouch for the forgery."""
    genuine = parse(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    forged = parse(certificate_xml("AA-2026-EVIL").encode())
    signature = signature_of(genuine)
    genuine.remove(signature)
    forged.append(signature)
    forged[0].append(genuine)  # inside SPSExchangedDocument
    with pytest.raises(SignatureInvalid, match="Digest mismatch"):
        verify(etree.tostring(forged), signing_pki.signers["AA"])


def test_a_second_signature_is_refused(
    signing_pki: SigningPki, stranger: IssuedCertificate
) -> None:
    genuine = parse(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    genuine.append(signature_of(parse(nppo_sign(CERTIFICATE, stranger))))
    with pytest.raises(SignatureInvalid, match="2 ds:Signature"):
        verify(etree.tostring(genuine), signing_pki.signers["AA"])


def test_a_keyinfo_swapped_for_another_certificate_is_refused(
    signing_pki: SigningPki, stranger: IssuedCertificate
) -> None:
    """KeyInfo is outside the signed data; swapping it must not pass silently either."""
    root = parse(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    named = root.find("ds:Signature/ds:KeyInfo/ds:X509Data/ds:X509Certificate", DS)
    assert named is not None
    named.text = base64.b64encode(stranger.certificate.public_bytes(Encoding.DER)).decode("ascii")
    with pytest.raises(SignatureInvalid, match="KeyInfo"):
        verify(etree.tostring(root), signing_pki.signers["AA"])


def test_an_object_smuggled_into_the_signature_is_refused(signing_pki: SigningPki) -> None:
    root = parse(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    etree.SubElement(signature_of(root), f"{{{XMLDSIG}}}Object").text = "payload"
    with pytest.raises(SignatureInvalid, match="Object"):
        verify(etree.tostring(root), signing_pki.signers["AA"])


# --- the unsigned view for validation ----------------------------------------------------------


def test_validation_sees_the_document_without_the_root_signature(signing_pki: SigningPki) -> None:
    root = parse_untrusted(nppo_sign(CERTIFICATE, signing_pki.signers["AA"]))
    unsigned = without_root_signature(root)
    assert unsigned.find("ds:Signature", DS) is None
    assert root.find("ds:Signature", DS) is not None  # the original is left alone
    unsigned_root = parse(CERTIFICATE)
    assert without_root_signature(unsigned_root) is unsigned_root
