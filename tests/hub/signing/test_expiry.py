"""Certificate lifecycle: the 60 / 30 / 7-day marks, over the registry and the hub's own
certificates, as a service function and as `ephyto certs expiry`."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ephyto_core._pki import (
    IssuedCertificate,
    issue_client_certificate,
    issue_seal_certificate,
    issue_signing_certificate,
)
from hub.database import unit_of_work
from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime
from hub.signing.expiry import ExpiryStatus, certificate_expiries, expiry_status
from tests.hub.signing.conftest import SigningPki

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "status"),
    [
        (timedelta(days=61), ExpiryStatus.VALID),
        (timedelta(days=60, seconds=1), ExpiryStatus.VALID),
        (timedelta(days=60), ExpiryStatus.WITHIN_60_DAYS),
        (timedelta(days=31), ExpiryStatus.WITHIN_60_DAYS),
        (timedelta(days=30), ExpiryStatus.WITHIN_30_DAYS),
        (timedelta(days=8), ExpiryStatus.WITHIN_30_DAYS),
        (timedelta(days=7), ExpiryStatus.WITHIN_7_DAYS),
        (timedelta(seconds=1), ExpiryStatus.WITHIN_7_DAYS),
        (timedelta(0), ExpiryStatus.EXPIRED),
        (timedelta(days=-3), ExpiryStatus.EXPIRED),
    ],
)
def test_the_marks_are_60_30_and_7_days(left: timedelta, status: ExpiryStatus) -> None:
    assert expiry_status(not_before=NOW - timedelta(days=300), not_after=NOW + left, now=NOW) is (
        status
    )


def test_a_certificate_not_valid_yet_is_not_a_warning() -> None:
    status = expiry_status(
        not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=9), now=NOW
    )
    assert status is ExpiryStatus.NOT_YET_VALID
    assert not status.needs_attention


def expiring(
    ca: IssuedCertificate, code: str, days: float, *, signing: bool = False
) -> IssuedCertificate:
    now = datetime.now(UTC)
    issue = issue_signing_certificate if signing else issue_client_certificate
    return issue(
        ca,
        nppo_code=code,
        not_before=now - timedelta(days=10),
        not_after=now + timedelta(days=days),
    )


@pytest.fixture
async def due(
    runtime: HubRuntime, signing_pki: SigningPki, nppos: dict[str, AuthenticatedNppo]
) -> dict[str, IssuedCertificate]:
    """Client certificates of AA due in 5, 20 and 45 days, a revoked one due in 3, and BB's
    signing certificate due in 25 (each NPPO's fixture client certificate lasts 397 days)."""
    ca = signing_pki.ca
    made = {
        "aa-5": expiring(ca, "AA", 5),
        "aa-20": expiring(ca, "AA", 20),
        "aa-45": expiring(ca, "AA", 45),
        "aa-revoked": expiring(ca, "AA", 3),
        "bb-signing-25": expiring(ca, "BB", 25, signing=True),
    }
    async with unit_of_work(runtime.sessionmaker) as session:
        for name, issued in made.items():
            if name.startswith("bb-signing"):
                await runtime.nppos.add_signing_certificate(
                    session, code="BB", certificate=issued.cert_pem()
                )
            else:
                await runtime.nppos.add_client_certificate(
                    session, code="AA", certificate=issued.cert_pem()
                )
        await runtime.nppos.revoke_client_certificate(
            session, fingerprint=made["aa-revoked"].fingerprint, reason="replaced"
        )
    return made


async def test_expiries_cover_the_registry_and_the_hub_soonest_first(
    runtime: HubRuntime, signing_pki: SigningPki, due: dict[str, IssuedCertificate]
) -> None:
    seal = issue_seal_certificate(signing_pki.ca, key_algorithm="ec-p256", days=50)
    async with runtime.sessionmaker() as session:
        rows = await certificate_expiries(
            session, now=datetime.now(UTC), hub_certificates={"hub-seal": seal.certificate}
        )

    by_fingerprint = {row.fingerprint: row for row in rows}
    assert due["aa-revoked"].fingerprint not in by_fingerprint  # revoked: out already
    expected = {
        "aa-5": ("client", "AA", ExpiryStatus.WITHIN_7_DAYS),
        "aa-20": ("client", "AA", ExpiryStatus.WITHIN_30_DAYS),
        "bb-signing-25": ("signing", "BB", ExpiryStatus.WITHIN_30_DAYS),
        "aa-45": ("client", "AA", ExpiryStatus.WITHIN_60_DAYS),
    }
    for name, (kind, owner, status) in expected.items():
        row = by_fingerprint[due[name].fingerprint]
        assert (row.kind, row.owner, row.status) == (kind, owner, status), name
    hub_seal = by_fingerprint[seal.fingerprint]
    assert (hub_seal.kind, hub_seal.owner, hub_seal.status) == (
        "hub-seal",
        "(hub)",
        ExpiryStatus.WITHIN_60_DAYS,
    )
    assert [r.not_after for r in rows] == sorted(r.not_after for r in rows)
    assert rows[0].fingerprint == due["aa-5"].fingerprint
    assert rows[0].days_left == 4  # 5 days less the moments since issue, rounded down


def run_expiry(runtime: HubRuntime, signing_pki: SigningPki, *arguments: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "EPHYTO_DATABASE_URL": runtime.settings.sqlalchemy_url,
        "EPHYTO_DATA_DIR": str(runtime.settings.data_dir),
        "EPHYTO_SEAL_CERT": str(signing_pki.seal.cert_path),
        "EPHYTO_SEAL_KEY": str(signing_pki.seal.key_path),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ephyto"), "certs", "expiry", *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


async def test_the_cli_lists_what_is_due_and_fails_at_seven_days(
    runtime: HubRuntime, signing_pki: SigningPki, due: dict[str, IssuedCertificate]
) -> None:
    code, output = await asyncio.to_thread(run_expiry, runtime, signing_pki)
    assert code == 1, output
    lines = output.splitlines()
    assert [line.split()[0] for line in lines] == [
        "within_7_days",
        "within_30_days",
        "within_30_days",
        "within_60_days",
    ]
    assert due["aa-5"].fingerprint[:16] in lines[0]
    assert "signing" in lines[2] and "BB" in lines[2]

    async with unit_of_work(runtime.sessionmaker) as session:
        await runtime.nppos.revoke_client_certificate(
            session, fingerprint=due["aa-5"].fingerprint, reason="replaced"
        )
    code, output = await asyncio.to_thread(run_expiry, runtime, signing_pki)
    assert code == 0, output
    code, output = await asyncio.to_thread(run_expiry, runtime, signing_pki, "--all")
    assert "hub-seal" in output and "valid" in output
