"""Where the seal key comes from: configured, refused when unusable, a development seal
otherwise, and never nothing in production."""

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from ephyto_core._pki import issue_seal_certificate
from hub.settings import HubSettings
from hub.signing.keys import SealKeyError, load_seal
from tests.hub.signing.conftest import SigningPki


def production(**overrides: object) -> HubSettings:
    return HubSettings(
        environment="production",
        database_url="postgresql://hub@db/hub",
        trusted_proxies=["10.0.0.0/8"],  # type: ignore[list-item]
        **overrides,  # type: ignore[arg-type]
    )


def test_production_refuses_to_start_without_a_seal() -> None:
    with pytest.raises(ValidationError, match="EPHYTO_SEAL_CERT and EPHYTO_SEAL_KEY"):
        production()


def test_production_starts_with_a_seal(signing_pki: SigningPki) -> None:
    settings = production(seal_cert=signing_pki.seal.cert_path, seal_key=signing_pki.seal.key_path)
    assert load_seal(settings).fingerprint == signing_pki.seal.fingerprint


def test_a_seal_certificate_without_its_key_is_refused(signing_pki: SigningPki) -> None:
    with pytest.raises(ValidationError, match="go together"):
        HubSettings(seal_cert=signing_pki.seal.cert_path)


def test_a_key_that_is_not_the_certificates_is_refused(
    signing_pki: SigningPki, tmp_path: Path
) -> None:
    other = issue_seal_certificate(signing_pki.ca, key_algorithm="ec-p256").save(tmp_path, "other")
    settings = HubSettings(
        data_dir=tmp_path, seal_cert=signing_pki.seal.cert_path, seal_key=other.key_path
    )
    with pytest.raises(SealKeyError, match="is not the key of"):
        load_seal(settings)


def test_an_expired_seal_is_refused_at_start(signing_pki: SigningPki, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    expired = issue_seal_certificate(
        signing_pki.ca,
        key_algorithm="ec-p256",
        not_before=now - timedelta(days=30),
        not_after=now - timedelta(days=1),
    ).save(tmp_path, "expired")
    settings = HubSettings(
        data_dir=tmp_path, seal_cert=expired.cert_path, seal_key=expired.key_path
    )
    with pytest.raises(SealKeyError, match="not valid now"):
        load_seal(settings)


def test_development_makes_one_seal_says_so_loudly_and_keeps_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = HubSettings(data_dir=tmp_path)
    with caplog.at_level(logging.WARNING, logger="hub.signing.keys"):
        first = load_seal(settings)
        second = load_seal(settings)
    assert first.fingerprint == second.fingerprint
    assert (tmp_path / "seal" / "seal-ca.pem").is_file()
    warnings = [r for r in caplog.records if "NO SEAL KEY CONFIGURED" in r.getMessage()]
    assert len(warnings) == 2  # on every start, not just the first
