"""The hub's seal key: from EPHYTO_SEAL_CERT / EPHYTO_SEAL_KEY, or a development one.

Production refuses to start without a configured seal (``HubSettings`` checks that). In
development, a hub without one creates a development seal once, in ``<data_dir>/seal/``: its own
small CA (``seal-ca.pem``) and a seal certificate it issued (ECDSA P-256), reused on every start
and announced with a warning each time. Seals made with it verify like real ones
(``xmlsec1 --verify --trusted-pem <data_dir>/seal/seal-ca.pem``) but nobody outside trusts that
CA. A key generated fresh at each start was the alternative; it would make yesterday's seals and
checkpoints unverifiable against anything the hub still publishes.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from ephyto_core._errors import EphytoError
from ephyto_core._pki import (
    IssuedCertificate,
    create_ca,
    issue_seal_certificate,
    load_issued,
)
from hub.settings import HubSettings
from hub.signing.xmldsig import signature_algorithm_for

logger = logging.getLogger(__name__)

DEV_SEAL_DIR = "seal"


class SealKeyError(ValueError):
    """The configured seal cannot be used (unreadable, mismatched, weak or expired)."""


def load_seal(settings: HubSettings, *, now: datetime | None = None) -> IssuedCertificate:
    if settings.seal_cert is not None and settings.seal_key is not None:
        try:
            seal = load_issued(settings.seal_cert, settings.seal_key)
        except (OSError, ValueError, EphytoError) as exc:
            raise SealKeyError(f"EPHYTO_SEAL_CERT/EPHYTO_SEAL_KEY: {exc}") from exc
    else:
        seal = development_seal(settings.data_dir / DEV_SEAL_DIR)
        logger.warning(
            "NO SEAL KEY CONFIGURED: signing seals and receipts with the development seal in %s "
            "(self-made CA, trusted by nobody). Set EPHYTO_SEAL_CERT and EPHYTO_SEAL_KEY.",
            seal.cert_path,
        )
    _check_usable(seal, now or datetime.now(UTC))
    return seal


def development_seal(directory: Path) -> IssuedCertificate:
    cert_path, key_path = directory / "hub-seal.pem", directory / "hub-seal.key"
    if cert_path.exists() and key_path.exists():
        return load_issued(cert_path, key_path)
    ca = create_ca(
        common_name="ePhyto hub development seal CA", organization="ePhyto hub (development)"
    ).save(directory, "seal-ca")
    # ECDSA: created in a millisecond, where RSA-3072 takes a noticeable fraction of a second.
    return issue_seal_certificate(
        ca, organization="ePhyto hub (development)", key_algorithm="ec-p256"
    ).save(directory, "hub-seal")


def _check_usable(seal: IssuedCertificate, now: datetime) -> None:
    try:
        signature_algorithm_for(seal.private_key)
    except ValueError as exc:
        raise SealKeyError(f"seal key: {exc}") from exc
    certificate = seal.certificate
    if not certificate.not_valid_before_utc <= now < certificate.not_valid_after_utc:
        raise SealKeyError(
            f"the seal certificate {seal.cert_path} is not valid now (valid "
            f"{certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}): seals made with it would not verify"
        )
