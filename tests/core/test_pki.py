"""The development PKI: profiles checked by independent verifiers, not only by reading fields back.

Three checkers that share no code with ours judge the chains: OpenSSL's ``verify`` in strict mode
with TLS purposes, cryptography's WebPKI verifier, and signxml (what XMLDSig users will run).
"""

from __future__ import annotations

import hashlib
import ipaddress
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree
from signxml.exceptions import InvalidCertificate
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from ephyto_core import _pki
from ephyto_core._pki import (
    CertificateFormatError,
    IssuedCertificate,
    certificate_days_left,
    create_ca,
    fingerprint_sha256,
    issue_client_certificate,
    issue_seal_certificate,
    issue_server_certificate,
    issue_signing_certificate,
    load_certificate,
    load_issued,
    nppo_code_of,
    write_pem,
)

NOW = datetime.now(UTC)
E = TypeVar("E", bound=x509.ExtensionType)


@pytest.fixture(scope="module")
def ca() -> IssuedCertificate:
    return create_ca()


@pytest.fixture(scope="module")
def saved_ca(ca: IssuedCertificate, tmp_path_factory: pytest.TempPathFactory) -> IssuedCertificate:
    return ca.save(tmp_path_factory.mktemp("ca"), "ca")


def _extension(certificate: x509.Certificate, kind: type[E]) -> x509.Extension[E]:
    return certificate.extensions.get_extension_for_class(kind)


def _openssl_verify(ca: IssuedCertificate, leaf: IssuedCertificate, tmp: Path, *args: str) -> str:
    """`openssl verify -x509_strict` of ``leaf`` against ``ca``; raises on refusal."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command-line tool is not installed")
    assert ca.cert_path is not None
    leaf_path = write_pem(tmp / "leaf.pem", leaf.certificate)
    done = subprocess.run(
        [openssl, "verify", "-x509_strict", "-CAfile", str(ca.cert_path), *args, str(leaf_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(done.stdout + done.stderr)
    return done.stdout


def _webpki_builder(ca: IssuedCertificate) -> verification.PolicyBuilder:
    return verification.PolicyBuilder().store(verification.Store([ca.certificate])).time(NOW)


# --- the CA -----------------------------------------------------------------------------------


def test_ca_may_sign_leaf_certificates_only(ca: IssuedCertificate) -> None:
    constraints = _extension(ca.certificate, x509.BasicConstraints)
    usage = _extension(ca.certificate, x509.KeyUsage)

    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert ca.certificate.issuer == ca.certificate.subject
    ski = _extension(ca.certificate, x509.SubjectKeyIdentifier).value
    assert (
        _extension(ca.certificate, x509.AuthorityKeyIdentifier).value.key_identifier == ski.digest
    )


def test_ca_key_is_p256_by_default_and_rsa_3072_on_request() -> None:
    assert isinstance(create_ca().private_key, ec.EllipticCurvePrivateKey)
    rsa_ca = create_ca(key_algorithm="rsa-3072")
    assert isinstance(rsa_ca.private_key, rsa.RSAPrivateKey)
    assert rsa_ca.private_key.key_size == 3072


# --- the hub's TLS server certificate ---------------------------------------------------------


def test_server_certificate_is_good_for_localhost_loopback_and_the_names_asked_for(
    saved_ca: IssuedCertificate, tmp_path: Path
) -> None:
    server = issue_server_certificate(saved_ca, names=["hub.example.org", "10.1.2.3"])
    builder = _webpki_builder(saved_ca)

    for subject in (
        x509.DNSName("localhost"),
        x509.DNSName("hub.example.org"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("10.1.2.3")),
    ):
        builder.build_server_verifier(subject).verify(server.certificate, [])
    with pytest.raises(verification.VerificationError):
        builder.build_server_verifier(x509.DNSName("other.example.org")).verify(
            server.certificate, []
        )
    assert "OK" in _openssl_verify(saved_ca, server, tmp_path, "-purpose", "sslserver")


def test_server_certificate_cannot_authenticate_a_client(
    saved_ca: IssuedCertificate, tmp_path: Path
) -> None:
    server = issue_server_certificate(saved_ca)

    with pytest.raises(AssertionError, match="unsuitable certificate purpose"):
        _openssl_verify(saved_ca, server, tmp_path, "-purpose", "sslclient")


# --- NPPO client certificates -----------------------------------------------------------------


def test_client_certificate_names_the_nppo(ca: IssuedCertificate) -> None:
    client = issue_client_certificate(ca, nppo_code="aa", nppo_name="Plant Protection Service AA")
    subject = client.certificate.subject

    def value(oid: x509.ObjectIdentifier) -> str | bytes:
        return subject.get_attributes_for_oid(oid)[0].value

    assert value(NameOID.COMMON_NAME) == "NPPO AA client"
    assert value(NameOID.ORGANIZATION_NAME) == "Plant Protection Service AA"
    assert value(NameOID.COUNTRY_NAME) == "AA"
    assert nppo_code_of(client.certificate) == "AA"


def test_channel_client_certificate_has_no_country(ca: IssuedCertificate) -> None:
    client = issue_client_certificate(ca, nppo_code="TRACES")

    assert client.certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME) == []
    assert nppo_code_of(client.certificate) == "TRACES"
    assert nppo_code_of(ca.certificate) is None


@pytest.mark.parametrize("code", ["", "A A", "ÄA", "X" * 33])
def test_client_certificate_refuses_codes_that_are_not_participant_codes(
    ca: IssuedCertificate, code: str
) -> None:
    with pytest.raises(ValueError, match="not an NPPO/channel code"):
        issue_client_certificate(ca, nppo_code=code)


def test_client_certificate_is_for_tls_clients_only(
    saved_ca: IssuedCertificate, tmp_path: Path
) -> None:
    client = issue_client_certificate(saved_ca, nppo_code="AA")
    # WebPKI wants a SAN on every leaf; TLS client certificates conventionally have none.
    ee_policy = verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
    )
    builder = _webpki_builder(saved_ca).extension_policies(
        ee_policy=ee_policy, ca_policy=verification.ExtensionPolicy.webpki_defaults_ca()
    )

    builder.build_client_verifier().verify(client.certificate, [])
    assert "OK" in _openssl_verify(saved_ca, client, tmp_path, "-purpose", "sslclient")
    with pytest.raises(AssertionError, match="unsuitable certificate purpose"):
        _openssl_verify(saved_ca, client, tmp_path, "-purpose", "sslserver")


# --- seal and content-signing certificates ----------------------------------------------------


@pytest.mark.parametrize("profile", ["seal", "signing"])
def test_signing_profiles_sign_and_commit_but_cannot_do_tls(
    saved_ca: IssuedCertificate, tmp_path: Path, profile: str
) -> None:
    issued = (
        issue_seal_certificate(saved_ca, key_algorithm="ec-p256")
        if profile == "seal"
        else issue_signing_certificate(saved_ca, nppo_code="AA", key_algorithm="ec-p256")
    )
    usage = _extension(issued.certificate, x509.KeyUsage).value
    eku = _extension(issued.certificate, x509.ExtendedKeyUsage).value

    assert usage.digital_signature and usage.content_commitment and not usage.key_encipherment
    assert list(eku) == [_pki.DOCUMENT_SIGNING]
    assert ExtendedKeyUsageOID.SERVER_AUTH not in eku
    for purpose in ("sslserver", "sslclient"):
        with pytest.raises(AssertionError, match="unsuitable certificate purpose"):
            _openssl_verify(saved_ca, issued, tmp_path, "-purpose", purpose)


def test_seal_signature_verifies_in_signxml_against_the_ca(saved_ca: IssuedCertificate) -> None:
    seal = issue_seal_certificate(saved_ca)  # RSA 3072, the default for XMLDSig interoperability
    document = etree.fromstring(b"<receipt><hubDeliveryNumber>AA-1</hubDeliveryNumber></receipt>")
    signed = XMLSigner().sign(document, key=seal.key_pem(), cert=[seal.cert_pem().decode()])

    verified = XMLVerifier().verify(signed, ca_pem_file=str(saved_ca.cert_path))

    assert not isinstance(verified, list)
    assert verified.signed_xml is not None
    assert verified.signed_xml.findtext("hubDeliveryNumber") == "AA-1"


def test_signing_certificate_from_another_ca_fails_signxml_verification(
    saved_ca: IssuedCertificate,
) -> None:
    stranger = issue_signing_certificate(create_ca(), nppo_code="AA", key_algorithm="ec-p256")
    document = etree.fromstring(b"<certificate>x</certificate>")
    signed = XMLSigner(signature_algorithm="ecdsa-sha256").sign(
        document, key=stranger.key_pem(), cert=[stranger.cert_pem().decode()]
    )

    # Both CAs share a subject name, so the verifier finds "our" CA and the signature on the
    # stranger's certificate does not check out.
    with pytest.raises(InvalidCertificate, match="signature does not match"):
        XMLVerifier().verify(signed, ca_pem_file=str(saved_ca.cert_path))


# --- no SHA-1 ---------------------------------------------------------------------------------


def test_no_sha1_in_signatures_or_key_identifiers(ca: IssuedCertificate) -> None:
    issued = [
        ca,
        issue_server_certificate(ca),
        issue_client_certificate(ca, nppo_code="AA"),
        issue_seal_certificate(ca, key_algorithm="ec-p256"),
        issue_signing_certificate(ca, nppo_code="AA", key_algorithm="rsa-3072"),
    ]
    for item in issued:
        certificate = item.certificate
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
        ski = _extension(certificate, x509.SubjectKeyIdentifier).value.digest
        sha1_ski = x509.SubjectKeyIdentifier.from_public_key(item.private_key.public_key()).digest
        assert ski != sha1_ski
        assert len(ski) == 20  # RFC 7093 method 1: leftmost 160 bits of SHA-256
        aki = _extension(certificate, x509.AuthorityKeyIdentifier).value.key_identifier
        assert aki == _extension(ca.certificate, x509.SubjectKeyIdentifier).value.digest


# --- validity ---------------------------------------------------------------------------------


def test_validity_is_exactly_what_was_asked(ca: IssuedCertificate) -> None:
    start = datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)
    end = datetime(2031, 3, 1, tzinfo=UTC)

    client = issue_client_certificate(ca, nppo_code="AA", not_before=start, not_after=end)

    assert client.certificate.not_valid_before_utc == start
    assert client.certificate.not_valid_after_utc == end


def test_default_validity_starts_a_little_in_the_past_and_lasts_the_given_days(
    ca: IssuedCertificate,
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    client = issue_client_certificate(ca, nppo_code="AA", days=30)
    certificate = client.certificate

    assert certificate.not_valid_before_utc < before
    assert certificate.not_valid_before_utc > before - timedelta(minutes=10)
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == timedelta(days=30)


def test_expired_and_not_yet_valid_certificates_are_refused_by_verifiers(
    saved_ca: IssuedCertificate, tmp_path: Path
) -> None:
    expired = issue_client_certificate(
        saved_ca, nppo_code="AA", not_before=NOW - timedelta(days=40), days=30
    )
    future = issue_client_certificate(saved_ca, nppo_code="AA", not_before=NOW + timedelta(days=1))

    with pytest.raises(AssertionError, match="certificate has expired"):
        _openssl_verify(saved_ca, expired, tmp_path)
    with pytest.raises(AssertionError, match="certificate is not yet valid"):
        _openssl_verify(saved_ca, future, tmp_path)


def test_naive_or_inverted_validity_is_refused(ca: IssuedCertificate) -> None:
    with pytest.raises(ValueError, match="time zone"):
        issue_client_certificate(ca, nppo_code="AA", not_before=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="is not after"):
        issue_client_certificate(
            ca, nppo_code="AA", not_before=NOW, not_after=NOW - timedelta(seconds=1)
        )


def test_days_left_rounds_down_and_goes_negative_once_expired(ca: IssuedCertificate) -> None:
    end = datetime(2030, 6, 10, 12, 0, tzinfo=UTC)
    client = issue_client_certificate(
        ca, nppo_code="AA", not_before=end - timedelta(days=100), not_after=end
    )
    certificate = client.certificate

    assert certificate_days_left(certificate, end - timedelta(days=3, hours=1)) == 3
    assert certificate_days_left(certificate, end - timedelta(hours=23)) == 0
    assert certificate_days_left(certificate, end + timedelta(hours=1)) == -1
    assert certificate_days_left(certificate, end + timedelta(days=5, hours=1)) == -6


# --- reading, fingerprints, files -------------------------------------------------------------


def test_load_certificate_reads_pem_text_pem_bytes_and_der(ca: IssuedCertificate) -> None:
    pem = ca.cert_pem()
    der = ca.certificate.public_bytes(serialization.Encoding.DER)

    assert load_certificate(pem) == ca.certificate
    assert load_certificate(pem.decode()) == ca.certificate
    assert load_certificate(der) == ca.certificate


@pytest.mark.parametrize(
    "data",
    [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"],
)
def test_load_certificate_refuses_what_is_not_a_certificate(data: bytes) -> None:
    with pytest.raises(CertificateFormatError):
        load_certificate(data)


def test_fingerprint_is_lowercase_hex_sha256_of_the_der(
    ca: IssuedCertificate, tmp_path: Path
) -> None:
    der = ca.certificate.public_bytes(serialization.Encoding.DER)
    fingerprint = fingerprint_sha256(ca.certificate)

    assert fingerprint == hashlib.sha256(der).hexdigest()
    assert fingerprint == fingerprint.lower() and len(fingerprint) == 64
    assert fingerprint_sha256(der) == fingerprint
    openssl = shutil.which("openssl")
    if openssl is not None:  # and the same as OpenSSL's, which prints it upper-case with colons
        path = write_pem(tmp_path / "ca.pem", ca.certificate)
        out = subprocess.run(
            [openssl, "x509", "-in", str(path), "-noout", "-fingerprint", "-sha256"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip().split("=", 1)[1].replace(":", "").lower() == fingerprint


def test_save_writes_a_private_key_only_its_owner_can_read(
    ca: IssuedCertificate, tmp_path: Path
) -> None:
    saved = issue_client_certificate(ca, nppo_code="AA").save(tmp_path / "out", "AA-client")

    assert saved.cert_path == tmp_path / "out" / "AA-client.pem"
    assert saved.key_path == tmp_path / "out" / "AA-client.key"
    assert stat.S_IMODE(saved.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.cert_path.stat().st_mode) == 0o644
    # No temporary files left behind by the atomic write.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "AA-client.key",
        "AA-client.pem",
    ]


def test_write_pem_tightens_a_key_file_that_was_world_readable(
    ca: IssuedCertificate, tmp_path: Path
) -> None:
    path = tmp_path / "old.key"
    path.write_bytes(b"old")
    path.chmod(0o644)

    write_pem(path, ca.private_key)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_load_issued_round_trips_and_refuses_a_key_that_does_not_match(
    ca: IssuedCertificate, tmp_path: Path
) -> None:
    saved = issue_client_certificate(ca, nppo_code="AA").save(tmp_path, "AA-client")
    other = issue_client_certificate(ca, nppo_code="BB").save(tmp_path, "BB-client")
    assert saved.cert_path and saved.key_path and other.key_path

    loaded = load_issued(saved.cert_path, saved.key_path)

    assert loaded.certificate == saved.certificate
    assert loaded.fingerprint == saved.fingerprint
    with pytest.raises(CertificateFormatError, match="is not the key of"):
        load_issued(saved.cert_path, other.key_path)
