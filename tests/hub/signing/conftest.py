"""Signing fixtures: a hub that seals with a certificate from the test CA, NPPO signing keys,
and xmlsec1, the independent verifier every seal and receipt must satisfy."""

import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ephyto_core._pki import (
    IssuedCertificate,
    issue_seal_certificate,
    issue_signing_certificate,
)
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from tests.hub import conftest as hub_fixtures
from tests.hub.rest.conftest import app, client_as  # noqa: F401  (the REST fixtures, reused)


@dataclass(frozen=True)
class SigningPki:
    ca: IssuedCertificate
    #: The hub's seal (RSA-3072, the `ephyto certs issue-seal` default).
    seal: IssuedCertificate
    #: Content-signing certificates of AA and BB, issued by the same CA.
    signers: dict[str, IssuedCertificate]


@pytest.fixture(scope="session")
def signing_pki(
    tmp_path_factory: pytest.TempPathFactory, test_pki: hub_fixtures.TestPki
) -> SigningPki:
    directory = tmp_path_factory.mktemp("signing-pki")
    return SigningPki(
        ca=test_pki.ca,
        seal=issue_seal_certificate(test_pki.ca).save(directory, "hub-seal"),
        signers={
            code: issue_signing_certificate(
                test_pki.ca, nppo_code=code, key_algorithm=algorithm
            ).save(directory, f"{code}-signing")
            for code, algorithm in (("AA", "rsa-3072"), ("BB", "ec-p256"))
        },
    )


def sealed_settings(
    database_url: str, data_dir: Path, pki: SigningPki, *, checkpoint_every: int = 1000
) -> HubSettings:
    assert pki.seal.cert_path is not None and pki.seal.key_path is not None
    return hub_fixtures.hub_settings(database_url, data_dir).model_copy(
        update={
            "seal_cert": pki.seal.cert_path,
            "seal_key": pki.seal.key_path,
            "evidence_checkpoint_every": checkpoint_every,
        }
    )


@pytest.fixture
async def runtime(
    database_url: str, tmp_path: Path, signing_pki: SigningPki
) -> AsyncIterator[HubRuntime]:
    """The hub of these tests seals with the test CA's seal certificate (overrides the hub one)."""
    runtime = build_runtime(sealed_settings(database_url, tmp_path, signing_pki))
    yield runtime
    await runtime.close()


# --------------------------------------------------------------------------- xmlsec1


def xmlsec1() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        pytest.fail("xmlsec1 is not installed (scripts/setup installs it: apt-get install xmlsec1)")
    return path


def xmlsec1_verify(document: bytes, *, trusted_pem: Path, directory: Path) -> tuple[bool, str]:
    """`xmlsec1 --verify --trusted-pem <CA> <file>` on the document saved as a standalone file."""
    path = directory / "signed.xml"
    path.write_bytes(document)
    done = subprocess.run(
        [xmlsec1(), "--verify", "--trusted-pem", str(trusted_pem), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0, done.stdout + done.stderr


def xmlsec1_verify_with_key(
    document: bytes, *, certificate_pem: Path, directory: Path
) -> tuple[bool, str]:
    """`xmlsec1 --verify --pubkey-cert-pem <cert>`: only the published certificate's key counts,
    whatever KeyInfo carries."""
    path = directory / "signed.xml"
    path.write_bytes(document)
    done = subprocess.run(
        [
            xmlsec1(),
            "--verify",
            "--enabled-key-data",
            "key-name",  # ignore KeyInfo's X509Data: the key given here is the only one
            "--pubkey-cert-pem",
            str(certificate_pem),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0, done.stdout + done.stderr
