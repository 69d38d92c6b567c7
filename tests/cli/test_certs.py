"""`ephyto certs ...` used the way an operator sets up a development hub."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification

from ephyto_cli.certs import certs
from ephyto_core._pki import fingerprint_sha256, load_certificate


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(certs, [str(a) for a in args], catch_exceptions=False)


def ok(*args: str | Path) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def ca_dir(tmp_path: Path) -> Path:
    ok("init-ca", "--dir", tmp_path / "ca")
    return tmp_path / "ca"


def test_init_ca_writes_a_ca_and_a_private_key(tmp_path: Path) -> None:
    result = ok("init-ca", "--dir", tmp_path / "ca", "--name", "Test CA")

    certificate = load_certificate((tmp_path / "ca" / "ca.pem").read_bytes())
    assert certificate.subject.rfc4514_string().endswith("CN=Test CA")
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE((tmp_path / "ca" / "ca.key").stat().st_mode) == 0o600
    assert fingerprint_sha256(certificate) in result.output


def test_init_ca_will_not_replace_an_existing_ca_without_force(ca_dir: Path) -> None:
    before = (ca_dir / "ca.pem").read_bytes()

    refused = run("init-ca", "--dir", ca_dir)
    assert refused.exit_code == 1
    assert "--force" in refused.output
    assert (ca_dir / "ca.pem").read_bytes() == before

    ok("init-ca", "--dir", ca_dir, "--force")
    assert (ca_dir / "ca.pem").read_bytes() != before


def test_issued_hub_and_nppo_certificates_chain_to_the_ca(ca_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    ok("issue-server", "--ca-dir", ca_dir, "--out", out, "--name", "hub.example.org")
    ok("issue-seal", "--ca-dir", ca_dir, "--out", out)
    ok("issue-client", "--ca-dir", ca_dir, "--out", out, "--nppo", "aa", "--days", "30")
    ok("issue-signing", "--ca-dir", ca_dir, "--out", out, "--nppo", "AA")

    assert sorted(p.name for p in out.iterdir()) == [
        "AA-client.key",
        "AA-client.pem",
        "AA-signing.key",
        "AA-signing.pem",
        "hub-seal.key",
        "hub-seal.pem",
        "hub-tls.key",
        "hub-tls.pem",
    ]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.glob("*.key"))
    ca = load_certificate((ca_dir / "ca.pem").read_bytes())
    server = load_certificate((out / "hub-tls.pem").read_bytes())
    verification.PolicyBuilder().store(verification.Store([ca])).build_server_verifier(
        x509.DNSName("hub.example.org")
    ).verify(server, [])
    for name in ("AA-client.pem", "AA-signing.pem", "hub-seal.pem"):
        leaf = load_certificate((out / name).read_bytes())
        leaf.verify_directly_issued_by(ca)


def test_show_describes_a_client_certificate(ca_dir: Path, tmp_path: Path) -> None:
    ok("issue-client", "--ca-dir", ca_dir, "--out", tmp_path, "--nppo", "AA", "--days", "30")
    certificate = load_certificate((tmp_path / "AA-client.pem").read_bytes())

    output = ok("show", tmp_path / "AA-client.pem").output

    assert "subject:        serialNumber=AA,C=AA,O=NPPO AA,CN=NPPO AA client" in output
    assert "issuer:         O=ePhyto hub (development),CN=ePhyto development CA" in output
    assert f"sha256:         {fingerprint_sha256(certificate)}" in output
    assert "days left:      29 (valid)" in output
    assert "ext. key usage: clientAuth" in output
    assert "NPPO code:      AA" in output


def test_client_certificate_can_be_made_already_expired(ca_dir: Path, tmp_path: Path) -> None:
    ok(
        "issue-client",
        "--ca-dir",
        ca_dir,
        "--out",
        tmp_path,
        "--nppo",
        "AA",
        "--not-before",
        "2020-01-01",
        "--days",
        "30",
    )
    certificate = load_certificate((tmp_path / "AA-client.pem").read_bytes())

    assert certificate.not_valid_before_utc == datetime(2020, 1, 1, tzinfo=UTC)
    assert certificate.not_valid_after_utc == datetime(2020, 1, 31, tzinfo=UTC)
    assert "(EXPIRED)" in ok("show", tmp_path / "AA-client.pem").output


def test_show_reads_der_and_every_certificate_of_a_bundle(ca_dir: Path, tmp_path: Path) -> None:
    ok("issue-client", "--ca-dir", ca_dir, "--out", tmp_path, "--nppo", "BB")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes((tmp_path / "BB-client.pem").read_bytes() + (ca_dir / "ca.pem").read_bytes())
    der = tmp_path / "ca.der"
    ca = load_certificate((ca_dir / "ca.pem").read_bytes())
    der.write_bytes(ca.public_bytes(serialization.Encoding.DER))

    assert ok("show", bundle).output.count("sha256:") == 2
    assert "key usage:      digitalSignature, keyCertSign, cRLSign" in ok("show", der).output


def test_issuing_without_a_ca_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()

    result = run("issue-client", "--ca-dir", tmp_path / "empty", "--out", tmp_path, "--nppo", "AA")

    assert result.exit_code == 1
    assert "ephyto certs init-ca" in result.output


def test_bad_dates_and_codes_are_usage_errors_not_tracebacks(ca_dir: Path, tmp_path: Path) -> None:
    bad_date = run(
        "issue-client",
        "--ca-dir",
        ca_dir,
        "--out",
        tmp_path,
        "--nppo",
        "AA",
        "--not-before",
        "soon",
    )
    bad_code = run("issue-client", "--ca-dir", ca_dir, "--out", tmp_path, "--nppo", "A A")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("hello")
    bad_file = run("show", garbage)

    assert bad_date.exit_code == 2 and "ISO-8601" in bad_date.output
    assert bad_code.exit_code == 1 and "not an NPPO/channel code" in bad_code.output
    assert bad_file.exit_code == 1 and "not a PEM or DER" in bad_file.output
