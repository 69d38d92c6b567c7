"""Development PKI: a private CA and the certificates a hub deployment needs.

What it issues, and why each profile looks the way it does:

- **CA**: self-signed, ``BasicConstraints(ca, pathlen 0)`` and ``KeyUsage(keyCertSign, cRLSign)``
  both critical, SKI and AKI. It signs leaves only (no intermediates), hence path length 0.
- **Hub TLS server**: ``serverAuth``; SAN ``DNS:localhost`` + ``IP:127.0.0.1`` + the names asked
  for (each one an IP SAN when it parses as an address, else a DNS SAN).
- **Hub seal**: what the hub signs accepted envelopes and receipts with. ``digitalSignature`` and
  ``nonRepudiation`` (``contentCommitment``), and the EKU ``documentSigning`` (RFC 9336) only:
  a certificate without any EKU would be good for every purpose, TLS included; this one is not.
- **NPPO client**: ``clientAuth``; subject ``CN=NPPO AA client, O=<name>, C=AA`` (``C`` only when
  the code is a two-letter country code; channels have longer codes) and the NPPO code in the
  subject ``serialNumber`` attribute, readable back with :func:`nppo_code_of`.
- **NPPO content signing**: like the seal, for an NPPO signing its certificates' XML. XMLDSig
  verifiers (signxml, xmlsec1, .NET ``SignedXml``, Java) do not ask for a particular EKU, so
  ``documentSigning`` restricts TLS use without hurting signature checks.

Every leaf carries ``BasicConstraints(ca=False)``, SKI and an AKI that names the CA's key, so the
chains pass strict checkers (OpenSSL's ``X509_STRICT``, ``cryptography``'s WebPKI verifier, which
is also what signxml uses). Signatures are SHA-256; nothing here uses SHA-1, not even for key
identifiers (RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the public key).

Keys are ECDSA P-256 by default; RSA 3072 is the choice for signing certificates that must be
checked by XMLDSig stacks without ECDSA (.NET's ``SignedXml`` is the common one).

Validity is always explicit in the API (``not_before`` / ``not_after`` or ``days``), so tests can
make not-yet-valid and expired certificates through the same code path as real ones.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ephyto_core._errors import EphytoError

__all__ = [
    "DEFAULT_CA_DAYS",
    "DEFAULT_LEAF_DAYS",
    "DOCUMENT_SIGNING",
    "CertificateFormatError",
    "IssuedCertificate",
    "KeyAlgorithm",
    "PrivateKey",
    "certificate_days_left",
    "create_ca",
    "fingerprint_sha256",
    "issue_client_certificate",
    "issue_seal_certificate",
    "issue_server_certificate",
    "issue_signing_certificate",
    "load_certificate",
    "load_issued",
    "load_private_key",
    "nppo_code_of",
    "write_pem",
]

KeyAlgorithm = Literal["ec-p256", "rsa-3072"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# id-kp-documentSigning, RFC 9336 (no constant in cryptography yet).
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")

# Backdate the default start a little: a peer whose clock runs a few minutes behind ours would
# otherwise refuse a certificate issued "just now" as not yet valid.
_CLOCK_SKEW = timedelta(minutes=5)

DEFAULT_CA_DAYS = 3650
# 397 days is the longest lifetime public CAs may give a TLS certificate (CA/B Forum, 2020);
# keeping to it means the same profile would pass a public-CA-minded checker.
DEFAULT_LEAF_DAYS = 397


class CertificateFormatError(EphytoError):
    """Bytes that are neither a PEM nor a DER certificate (or key)."""

    code = "certificate_format"


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate with its private key and, once saved, where both live on disk."""

    certificate: x509.Certificate
    private_key: PrivateKey
    cert_path: Path | None = None
    key_path: Path | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint_sha256(self.certificate)

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return _private_key_pem(self.private_key)

    def save(self, directory: Path, stem: str) -> IssuedCertificate:
        """Write ``<stem>.pem`` and ``<stem>.key`` (mode 0600) and return a copy that knows them."""
        cert_path = write_pem(directory / f"{stem}.pem", self.certificate)
        key_path = write_pem(directory / f"{stem}.key", self.private_key)
        return replace(self, cert_path=cert_path, key_path=key_path)


# --- issuing ---------------------------------------------------------------------------------


def create_ca(
    *,
    common_name: str = "ePhyto development CA",
    organization: str = "ePhyto hub (development)",
    key_algorithm: KeyAlgorithm = "ec-p256",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = DEFAULT_CA_DAYS,
) -> IssuedCertificate:
    """A self-signed root that may sign leaf certificates only (path length 0)."""
    key = _generate_key(key_algorithm)
    start, end = _validity(not_before, not_after, days)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )
    ski = _subject_key_identifier(key)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True, digital_signature=True), critical=True
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier(ski.digest, None, None),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return IssuedCertificate(certificate=certificate, private_key=key)


def issue_server_certificate(
    ca: IssuedCertificate,
    *,
    names: Sequence[str] = (),
    common_name: str | None = None,
    organization: str = "ePhyto hub",
    key_algorithm: KeyAlgorithm = "ec-p256",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = DEFAULT_LEAF_DAYS,
) -> IssuedCertificate:
    """The hub's TLS server certificate: ``localhost``, ``127.0.0.1`` and ``names`` in the SAN.

    Clients match the host against the SAN only (RFC 6125); the CN is informational and defaults
    to the first configured name.
    """
    sans = _subject_alt_names(["localhost", "127.0.0.1", *names])
    cn = common_name or (names[0] if names else "localhost")
    key = _generate_key(key_algorithm)
    return _issue_leaf(
        ca,
        key=key,
        subject=_name(common_name=cn, organization=organization),
        key_usage=_key_usage(
            digital_signature=True,
            # RSA keys may still be used for RSA key transport by TLS 1.2 clients without ECDHE.
            key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        ),
        extended_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH],
        subject_alt_names=sans,
        validity=_validity(not_before, not_after, days),
    )


def issue_seal_certificate(
    ca: IssuedCertificate,
    *,
    common_name: str = "ePhyto hub seal",
    organization: str = "ePhyto hub",
    key_algorithm: KeyAlgorithm = "rsa-3072",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = DEFAULT_LEAF_DAYS,
) -> IssuedCertificate:
    """The hub's seal: signs accepted envelopes and delivery receipts (XMLDSig), never TLS."""
    return _issue_leaf(
        ca,
        key=_generate_key(key_algorithm),
        subject=_name(common_name=common_name, organization=organization),
        key_usage=_key_usage(digital_signature=True, content_commitment=True),
        extended_key_usage=[DOCUMENT_SIGNING],
        subject_alt_names=None,
        validity=_validity(not_before, not_after, days),
    )


def issue_client_certificate(
    ca: IssuedCertificate,
    *,
    nppo_code: str,
    nppo_name: str | None = None,
    key_algorithm: KeyAlgorithm = "ec-p256",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = DEFAULT_LEAF_DAYS,
) -> IssuedCertificate:
    """An NPPO's (or channel's) TLS client certificate, the identity it calls the hub with."""
    code = _checked_code(nppo_code)
    return _issue_leaf(
        ca,
        key=_generate_key(key_algorithm),
        subject=_nppo_name(code, nppo_name, role="client"),
        key_usage=_key_usage(digital_signature=True),
        extended_key_usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
        subject_alt_names=None,
        validity=_validity(not_before, not_after, days),
    )


def issue_signing_certificate(
    ca: IssuedCertificate,
    *,
    nppo_code: str,
    nppo_name: str | None = None,
    key_algorithm: KeyAlgorithm = "rsa-3072",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = DEFAULT_LEAF_DAYS,
) -> IssuedCertificate:
    """An NPPO's content-signing certificate (XMLDSig on its phytosanitary certificates)."""
    code = _checked_code(nppo_code)
    return _issue_leaf(
        ca,
        key=_generate_key(key_algorithm),
        subject=_nppo_name(code, nppo_name, role="signing"),
        key_usage=_key_usage(digital_signature=True, content_commitment=True),
        extended_key_usage=[DOCUMENT_SIGNING],
        subject_alt_names=None,
        validity=_validity(not_before, not_after, days),
    )


# --- reading, fingerprints, files --------------------------------------------------------------


def load_certificate(data: bytes | str) -> x509.Certificate:
    """One certificate from PEM (text or bytes; the first block of a bundle) or DER bytes."""
    raw = data.encode("ascii", errors="replace") if isinstance(data, str) else data
    try:
        if b"-----BEGIN" in raw:
            return x509.load_pem_x509_certificates(raw)[0]
        return x509.load_der_x509_certificate(raw)
    except ValueError as exc:
        raise CertificateFormatError(f"not a PEM or DER X.509 certificate: {exc}") from exc


def load_private_key(data: bytes) -> PrivateKey:
    """An unencrypted PEM or DER private key (ECDSA or RSA)."""
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateFormatError(f"not an unencrypted private key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise CertificateFormatError(f"unsupported key type {type(key).__name__}")
    return key


def load_issued(cert_path: Path, key_path: Path) -> IssuedCertificate:
    """Read a certificate and its key back from disk, refusing a key that does not match."""
    certificate = load_certificate(cert_path.read_bytes())
    key = load_private_key(key_path.read_bytes())
    if _public_der(key.public_key()) != _public_der(certificate.public_key()):
        raise CertificateFormatError(f"{key_path} is not the key of {cert_path}")
    return IssuedCertificate(
        certificate=certificate, private_key=key, cert_path=cert_path, key_path=key_path
    )


def fingerprint_sha256(certificate: x509.Certificate | bytes) -> str:
    """Lower-case hex SHA-256 of the DER encoding; ``bytes`` are taken to be DER already."""
    der = (
        certificate
        if isinstance(certificate, bytes)
        else certificate.public_bytes(serialization.Encoding.DER)
    )
    return hashlib.sha256(der).hexdigest()


def certificate_days_left(certificate: x509.Certificate, now: datetime) -> int:
    """Whole days until ``not_after``, rounded down; negative once expired (-1 = expired today)."""
    remaining = certificate.not_valid_after_utc - _aware(now, "now")
    return math.floor(remaining / timedelta(days=1))


def nppo_code_of(certificate: x509.Certificate) -> str | None:
    """The NPPO code our profiles put in the subject ``serialNumber``; None on others."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode()


def write_pem(path: Path, item: x509.Certificate | PrivateKey) -> Path:
    """Write a certificate (mode 0644) or a private key (mode 0600) as PEM, atomically.

    The file is created under a temporary name with its final mode and then renamed, so a key is
    never readable by others, not even for a moment, and a crash never leaves half a file.
    """
    if isinstance(item, x509.Certificate):
        data, mode = item.public_bytes(serialization.Encoding.PEM), 0o644
    else:
        data, mode = _private_key_pem(item), 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


# --- internals -------------------------------------------------------------------------------


def _issue_leaf(
    ca: IssuedCertificate,
    *,
    key: PrivateKey,
    subject: x509.Name,
    key_usage: x509.KeyUsage,
    extended_key_usage: list[x509.ObjectIdentifier],
    subject_alt_names: x509.SubjectAlternativeName | None,
    validity: tuple[datetime, datetime],
) -> IssuedCertificate:
    start, end = validity
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(_subject_key_identifier(key), critical=False)
        .add_extension(_authority_key_identifier(ca.certificate), critical=False)
        .add_extension(x509.ExtendedKeyUsage(extended_key_usage), critical=False)
    )
    if subject_alt_names is not None:
        builder = builder.add_extension(subject_alt_names, critical=False)
    certificate = builder.sign(ca.private_key, hashes.SHA256())
    return IssuedCertificate(certificate=certificate, private_key=key)


def _generate_key(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"unknown key algorithm {algorithm!r} (ec-p256 or rsa-3072)")


def _validity(
    not_before: datetime | None, not_after: datetime | None, days: int
) -> tuple[datetime, datetime]:
    start = (
        _aware(not_before, "not_before")
        if not_before is not None
        else datetime.now(UTC) - _CLOCK_SKEW
    )
    end = _aware(not_after, "not_after") if not_after is not None else start + timedelta(days=days)
    if end <= start:
        raise ValueError(f"not_after {end.isoformat()} is not after not_before {start.isoformat()}")
    return start, end


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must carry a time zone (got naive {moment.isoformat()})")
    return moment.astimezone(UTC)


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _subject_key_identifier(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    # RFC 7093 §2 method 1; cryptography's from_public_key() would use SHA-1 (RFC 5280 §4.2.1.2).
    digest = hashlib.sha256(_subject_public_key_bits(key)).digest()[:20]
    return x509.SubjectKeyIdentifier(digest)


def _authority_key_identifier(ca_certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _subject_public_key_bits(key: PrivateKey) -> bytes:
    # The BIT STRING contents of subjectPublicKey: the uncompressed point for EC, the PKCS#1
    # RSAPublicKey for RSA (what RFC 5280 and 7093 hash).
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        return public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)


def _public_der(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise CertificateFormatError(f"unsupported public key type {type(public_key).__name__}")
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _subject_alt_names(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):  # de-duplicated, in order
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _name(*, common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _nppo_name(code: str, nppo_name: str | None, *, role: str) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COMMON_NAME, f"NPPO {code} {role}"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, nppo_name or f"NPPO {code}"),
    ]
    if _is_country_code(code):
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, code))
    attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, code))
    return x509.Name(attributes)


def _checked_code(code: str) -> str:
    # Participant codes are ISO 3166-1 alpha-2 for countries and short upper-case tokens for
    # channels (e.g. TRACES); they go into PrintableString attributes, so keep to [A-Z0-9-].
    cleaned = code.strip().upper()
    if (
        not cleaned
        or len(cleaned) > 32
        or not all(c.isascii() and (c.isalnum() or c == "-") for c in cleaned)
    ):
        raise ValueError(f"not an NPPO/channel code: {code!r}")
    return cleaned


def _is_country_code(code: str) -> bool:
    # Shape only: we ship no ISO 3166 list here, and user-assigned codes (AA, QM-QZ, XA-XZ, ZZ)
    # are what test deployments use. Longer codes are channels and get no C attribute.
    return len(code) == 2 and code.isascii() and code.isalpha()
