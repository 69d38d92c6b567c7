"""`ephyto certs ...`: a development CA and the certificates a hub deployment needs.

A CA directory holds ``ca.pem`` and ``ca.key``. Every issuing command writes ``<stem>.pem`` and
``<stem>.key`` (mode 0600) into ``--out`` and prints the SHA-256 fingerprint, which is what the
hub's NPPO registry stores. Existing files are never overwritten without ``--force``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ephyto_core import _pki
from ephyto_core._errors import EphytoError

F = TypeVar("F", bound=Callable[..., Any])

_KEY_TYPES = click.Choice(["ec-p256", "rsa-3072"])
# RFC 4514 has no short name for serialNumber; spell it out instead of printing "2.5.4.5".
_NAME_LABELS = {NameOID.SERIAL_NUMBER: "serialNumber"}
_EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    _pki.DOCUMENT_SIGNING: "documentSigning",
}


@click.group()
def certs() -> None:
    """Create a development CA and issue hub and NPPO certificates."""


def _validity_options(default_days: int) -> Callable[[F], F]:
    def decorate(command: F) -> F:
        command = click.option(
            "--days", type=int, default=default_days, show_default=True, help="Lifetime in days."
        )(command)
        command = click.option(
            "--not-before",
            "not_before",
            default=None,
            metavar="ISO-8601",
            help="Start of validity (default: now minus 5 minutes). No offset means UTC.",
        )(command)
        return command

    return decorate


def _output_options(command: F) -> F:
    command = click.option(
        "--force", is_flag=True, help="Overwrite existing certificate and key files."
    )(command)
    command = click.option(
        "--out",
        "out_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Directory to write <stem>.pem and <stem>.key into.",
    )(command)
    command = click.option(
        "--ca-dir",
        required=True,
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        help="Directory holding ca.pem and ca.key (from `init-ca`).",
    )(command)
    return command


@certs.command("init-ca")
@click.option(
    "--dir",
    "ca_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to create ca.pem and ca.key in.",
)
@click.option("--name", "common_name", default="ePhyto development CA", show_default=True)
@click.option("--key-type", type=_KEY_TYPES, default="ec-p256", show_default=True)
@_validity_options(_pki.DEFAULT_CA_DAYS)
@click.option("--force", is_flag=True, help="Replace an existing CA (invalidates what it issued).")
def init_ca(
    ca_dir: Path,
    common_name: str,
    key_type: _pki.KeyAlgorithm,
    days: int,
    not_before: str | None,
    force: bool,
) -> None:
    """Create a self-signed development CA."""
    _refuse_overwrite(ca_dir, "ca", force)
    with _as_click_errors():
        ca = _pki.create_ca(
            common_name=common_name,
            key_algorithm=key_type,
            not_before=_parse_moment(not_before),
            days=days,
        ).save(ca_dir, "ca")
    _report(ca)


@certs.command("issue-server")
@_output_options
@click.option(
    "--name",
    "names",
    multiple=True,
    help="DNS name or IP address for the SAN (repeat). localhost and 127.0.0.1 are always in.",
)
@click.option("--key-type", type=_KEY_TYPES, default="ec-p256", show_default=True)
@_validity_options(_pki.DEFAULT_LEAF_DAYS)
def issue_server(
    ca_dir: Path,
    out_dir: Path,
    force: bool,
    names: tuple[str, ...],
    key_type: _pki.KeyAlgorithm,
    days: int,
    not_before: str | None,
) -> None:
    """Issue the hub's TLS server certificate (hub-tls.pem / hub-tls.key)."""
    _refuse_overwrite(out_dir, "hub-tls", force)
    ca = _load_ca(ca_dir)
    with _as_click_errors():
        issued = _pki.issue_server_certificate(
            ca,
            names=names,
            key_algorithm=key_type,
            not_before=_parse_moment(not_before),
            days=days,
        ).save(out_dir, "hub-tls")
    _report(issued)


@certs.command("issue-seal")
@_output_options
@click.option("--organization", default="ePhyto hub", show_default=True)
@click.option("--key-type", type=_KEY_TYPES, default="rsa-3072", show_default=True)
@_validity_options(_pki.DEFAULT_LEAF_DAYS)
def issue_seal(
    ca_dir: Path,
    out_dir: Path,
    force: bool,
    organization: str,
    key_type: _pki.KeyAlgorithm,
    days: int,
    not_before: str | None,
) -> None:
    """Issue the hub's seal (XML signing) certificate (hub-seal.pem / hub-seal.key)."""
    _refuse_overwrite(out_dir, "hub-seal", force)
    ca = _load_ca(ca_dir)
    with _as_click_errors():
        issued = _pki.issue_seal_certificate(
            ca,
            organization=organization,
            key_algorithm=key_type,
            not_before=_parse_moment(not_before),
            days=days,
        ).save(out_dir, "hub-seal")
    _report(issued)


@certs.command("issue-client")
@_output_options
@click.option("--nppo", "nppo_code", required=True, help="NPPO or channel code, e.g. AA.")
@click.option("--nppo-name", default=None, help="Organisation name (default: NPPO <code>).")
@click.option("--key-type", type=_KEY_TYPES, default="ec-p256", show_default=True)
@_validity_options(_pki.DEFAULT_LEAF_DAYS)
def issue_client(
    ca_dir: Path,
    out_dir: Path,
    force: bool,
    nppo_code: str,
    nppo_name: str | None,
    key_type: _pki.KeyAlgorithm,
    days: int,
    not_before: str | None,
) -> None:
    """Issue an NPPO's TLS client certificate (<CODE>-client.pem / .key)."""
    stem = f"{nppo_code.strip().upper()}-client"
    _refuse_overwrite(out_dir, stem, force)
    ca = _load_ca(ca_dir)
    with _as_click_errors():
        issued = _pki.issue_client_certificate(
            ca,
            nppo_code=nppo_code,
            nppo_name=nppo_name,
            key_algorithm=key_type,
            not_before=_parse_moment(not_before),
            days=days,
        ).save(out_dir, stem)
    _report(issued)


@certs.command("issue-signing")
@_output_options
@click.option("--nppo", "nppo_code", required=True, help="NPPO or channel code, e.g. AA.")
@click.option("--nppo-name", default=None, help="Organisation name (default: NPPO <code>).")
@click.option("--key-type", type=_KEY_TYPES, default="rsa-3072", show_default=True)
@_validity_options(_pki.DEFAULT_LEAF_DAYS)
def issue_signing(
    ca_dir: Path,
    out_dir: Path,
    force: bool,
    nppo_code: str,
    nppo_name: str | None,
    key_type: _pki.KeyAlgorithm,
    days: int,
    not_before: str | None,
) -> None:
    """Issue an NPPO's content-signing certificate (<CODE>-signing.pem / .key)."""
    stem = f"{nppo_code.strip().upper()}-signing"
    _refuse_overwrite(out_dir, stem, force)
    ca = _load_ca(ca_dir)
    with _as_click_errors():
        issued = _pki.issue_signing_certificate(
            ca,
            nppo_code=nppo_code,
            nppo_name=nppo_name,
            key_algorithm=key_type,
            not_before=_parse_moment(not_before),
            days=days,
        ).save(out_dir, stem)
    _report(issued)


@certs.command("show")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def show(file: Path) -> None:
    """Describe the certificate(s) in a PEM or DER file."""
    data = file.read_bytes()
    with _as_click_errors():
        if b"-----BEGIN" in data:
            try:
                certificates = x509.load_pem_x509_certificates(data)
            except ValueError as exc:
                raise _pki.CertificateFormatError(f"{file}: no PEM certificate: {exc}") from exc
        else:
            certificates = [_pki.load_certificate(data)]
    now = datetime.now(UTC)
    for index, certificate in enumerate(certificates):
        if index:
            click.echo("")
        for label, value in _describe(certificate, now):
            click.echo(f"{label + ':':<16}{value}")


# --- helpers ---------------------------------------------------------------------------------


def _describe(certificate: x509.Certificate, now: datetime) -> list[tuple[str, str]]:
    days_left = _pki.certificate_days_left(certificate, now)
    if certificate.not_valid_before_utc > now:
        state = "not yet valid"
    elif days_left < 0:
        state = "EXPIRED"
    else:
        state = "valid"
    rows = [
        ("subject", certificate.subject.rfc4514_string(_NAME_LABELS)),
        ("issuer", certificate.issuer.rfc4514_string(_NAME_LABELS)),
        ("serial", f"{certificate.serial_number:x}"),
        ("not before", certificate.not_valid_before_utc.isoformat()),
        ("not after", certificate.not_valid_after_utc.isoformat()),
        ("days left", f"{days_left} ({state})"),
        ("sha256", _pki.fingerprint_sha256(certificate)),
        ("key", _key_description(certificate)),
    ]
    extensions = certificate.extensions
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
        rows.append(("key usage", ", ".join(_key_usage_names(usage))))
    except x509.ExtensionNotFound:
        pass
    try:
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        rows.append(
            ("ext. key usage", ", ".join(_EKU_NAMES.get(oid, oid.dotted_string) for oid in eku))
        )
    except x509.ExtensionNotFound:
        pass
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        rows.append(("alt. names", ", ".join(_general_name(name) for name in san)))
    except x509.ExtensionNotFound:
        pass
    code = _pki.nppo_code_of(certificate)
    if code is not None:
        rows.append(("NPPO code", code))
    return rows


def _key_description(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    return type(key).__name__


def _key_usage_names(usage: x509.KeyUsage) -> list[str]:
    names = [
        ("digitalSignature", usage.digital_signature),
        ("nonRepudiation", usage.content_commitment),
        ("keyEncipherment", usage.key_encipherment),
        ("dataEncipherment", usage.data_encipherment),
        ("keyAgreement", usage.key_agreement),
        ("keyCertSign", usage.key_cert_sign),
        ("cRLSign", usage.crl_sign),
    ]
    return [name for name, present in names if present]


def _general_name(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DNSName):
        return f"DNS:{name.value}"
    if isinstance(name, x509.IPAddress):
        return f"IP:{name.value}"
    if isinstance(name, x509.UniformResourceIdentifier):
        return f"URI:{name.value}"
    return str(name.value)


def _load_ca(ca_dir: Path) -> _pki.IssuedCertificate:
    cert_path, key_path = ca_dir / "ca.pem", ca_dir / "ca.key"
    if not (cert_path.is_file() and key_path.is_file()):
        raise click.ClickException(
            f"no CA in {ca_dir} (create one with `ephyto certs init-ca --dir {ca_dir}`)"
        )
    with _as_click_errors():
        ca = _pki.load_issued(cert_path, key_path)
    constraints = ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    if not constraints.value.ca:
        raise click.ClickException(f"{cert_path} is not a CA certificate")
    return ca


def _refuse_overwrite(directory: Path, stem: str, force: bool) -> None:
    existing = [p for p in (directory / f"{stem}.pem", directory / f"{stem}.key") if p.exists()]
    if existing and not force:
        names = " and ".join(str(p) for p in existing)
        raise click.ClickException(f"{names} already exist(s); pass --force to replace")


def _parse_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO-8601 date or date-time", param_hint="--not-before"
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _report(issued: _pki.IssuedCertificate) -> None:
    certificate = issued.certificate
    click.echo(f"certificate: {issued.cert_path}")
    click.echo(f"private key: {issued.key_path} (mode 0600)")
    click.echo(f"subject:     {certificate.subject.rfc4514_string(_NAME_LABELS)}")
    click.echo(
        f"valid:       {certificate.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
        f" to {certificate.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}"
    )
    click.echo(f"sha256:      {issued.fingerprint}")


@contextmanager
def _as_click_errors() -> Iterator[None]:
    """Turn expected failures (bad input, unreadable files) into clean CLI errors."""
    try:
        yield
    except (EphytoError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
