"""One changed byte anywhere in a seal or a receipt is detected, by us and by xmlsec1.

Exhaustive over every byte after the XML declaration (the declaration is not signed data: some
of its bytes, like `1.0` -> `1.1`, change nothing a verifier reads). Each document is flipped one
bit at a time at each position; every variant must be refused, none may verify.
"""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ephyto_core._errors import EphytoError
from ephyto_core._pki import IssuedCertificate, issue_seal_certificate
from hub.signing.receipts import ReceiptFacts, make_receipt, verify_receipt
from hub.signing.seal import SealFacts, make_seal, verify_seal
from tests.hub.signing.conftest import SigningPki, xmlsec1_verify

ACCEPTED = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
SEAL = SealFacts(
    hub_delivery_number="6f1c2a3e-0000-4000-8000-000000000001",
    kind="certificate",
    from_code="AA",
    to_code="BB",
    box_code="BB",
    certificate_type=851,
    certificate_status=70,
    nppo_certificate_number="AA-2026-0001",
    accepted_at=ACCEPTED,
    content_sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
)
RECEIPT = ReceiptFacts(
    hub_delivery_number=SEAL.hub_delivery_number,
    from_code="AA",
    to_code="BB",
    box_code="BB",
    certificate_type=851,
    certificate_status=70,
    nppo_certificate_number="AA-2026-0001",
    content_sha256=SEAL.content_sha256,
    seal_sha256="41c2" * 16,
    accepted_at=ACCEPTED,
    acknowledged_by="BB",
    acknowledged_at=datetime(2026, 11, 25, 10, 5, tzinfo=UTC),
    tracking_info="DeliveredWithWarnings",
    message="unit KGM expected",
)


@pytest.fixture(scope="module")
def seal_key(signing_pki: SigningPki) -> IssuedCertificate:
    # ECDSA: the same code path as RSA, at a fifth of the cost per verification.
    return issue_seal_certificate(signing_pki.ca, key_algorithm="ec-p256")


def documents(seal_key: IssuedCertificate) -> dict[str, tuple[bytes, object]]:
    return {
        "seal": (make_seal(SEAL, seal_key), verify_seal),
        "receipt": (make_receipt(RECEIPT, seal_key), verify_receipt),
    }


def body_start(document: bytes) -> int:
    end = document.index(b"?>") + 2
    return end + 1 if document[end : end + 1] == b"\n" else end


@pytest.mark.parametrize("name", ["seal", "receipt"])
def test_every_single_bit_flip_after_the_declaration_is_refused(
    name: str, seal_key: IssuedCertificate
) -> None:
    document, verify = documents(seal_key)[name]
    certificates = [seal_key.certificate]
    assert verify(document, certificates=certificates)  # type: ignore[operator]

    accepted = []
    for position in range(body_start(document), len(document)):
        tampered = bytearray(document)
        tampered[position] ^= 0x01
        try:
            verify(bytes(tampered), certificates=certificates)  # type: ignore[operator]
        except EphytoError:
            continue
        accepted.append((position, document[max(0, position - 20) : position + 20]))
    assert accepted == [], f"{len(accepted)} tampered variants verified, e.g. {accepted[:3]}"


@pytest.mark.parametrize("name", ["seal", "receipt"])
def test_xmlsec1_refuses_tampered_documents_too(
    name: str, seal_key: IssuedCertificate, signing_pki: SigningPki, tmp_path: Path
) -> None:
    document, _verify = documents(seal_key)[name]
    assert signing_pki.ca.cert_path is not None
    ok, output = xmlsec1_verify(document, trusted_pem=signing_pki.ca.cert_path, directory=tmp_path)
    assert ok, output
    start = body_start(document)
    # 60 positions spread over the body: facts, SignedInfo, SignatureValue and KeyInfo alike.
    step = max(1, (len(document) - start) // 60)
    for position in range(start, len(document), step):
        tampered = bytearray(document)
        tampered[position] ^= 0x01
        ok, _ = xmlsec1_verify(
            bytes(tampered), trusted_pem=signing_pki.ca.cert_path, directory=tmp_path
        )
        assert not ok, (
            f"xmlsec1 accepted a flip at byte {position}: "
            f"{document[position - 20 : position + 20]!r}"
        )
