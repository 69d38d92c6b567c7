"""`ephyto certs expiry`: the certificates the hub depends on, with their 60/30/7-day marks.

Reads the NPPO registry (client and signing certificates) from the configured database, and the
hub's own seal and TLS server certificates from the settings. Exits 1 when any certificate is
expired or within 7 days of expiry, so a daily cron job or a CI check can alert on it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click
from cryptography import x509
from sqlalchemy.exc import SQLAlchemyError

from ephyto_core._errors import EphytoError
from ephyto_core._pki import load_certificate
from hub.database import create_engine, create_sessionmaker
from hub.settings import HubSettings
from hub.signing.expiry import CertificateExpiry, certificate_expiries
from hub.signing.keys import load_seal


async def _expiries(settings: HubSettings, now: datetime) -> list[CertificateExpiry]:
    hub_certificates = {"hub-seal": _seal_certificate(settings)}
    if settings.tls_cert is not None:
        hub_certificates["hub-server"] = load_certificate(settings.tls_cert.read_bytes())
    engine = create_engine(settings.sqlalchemy_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await certificate_expiries(session, now=now, hub_certificates=hub_certificates)
    finally:
        await engine.dispose()


def _seal_certificate(settings: HubSettings) -> x509.Certificate:
    # Read as it is, without load_seal's validity check: an expired seal is what to report.
    if settings.seal_cert is not None:
        return load_certificate(settings.seal_cert.read_bytes())
    return load_seal(settings).certificate


@click.command()
@click.option("--all", "show_all", is_flag=True, help="List every certificate, not only those due.")
def expiry(show_all: bool) -> None:
    """Certificates expiring within 60, 30 or 7 days (or expired); exit 1 at 7 days or less."""
    now = datetime.now(UTC)
    try:
        rows = asyncio.run(_expiries(HubSettings(), now))
    except (EphytoError, SQLAlchemyError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    shown = [r for r in rows if show_all or r.status.needs_attention]
    if not shown:
        click.echo("no certificate expires within 60 days")
    for row in shown:
        click.echo(
            f"{row.status.value:<15} {row.days_left:>5}d  {row.kind:<10} {row.owner:<8} "
            f"{row.not_after:%Y-%m-%d %H:%M}Z  {row.fingerprint[:16]}  {row.subject}"
        )
    if any(r.status.urgent for r in rows):
        raise SystemExit(1)
