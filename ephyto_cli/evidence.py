"""`ephyto evidence ...`: check the hub's evidence chain, or sign a checkpoint of it now.

Both read the database and seal from the usual `EPHYTO_*` settings, like `ephyto hub serve`.
`verify` exits 0 when the whole chain holds and 1 at the first break, which it describes (the
link's seq, the event row id, what differs), so scripts and CI can run it after anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from ephyto_core._pki import IssuedCertificate, load_certificate
from hub.database import create_engine, create_sessionmaker, unit_of_work
from hub.settings import HubSettings
from hub.signing.evidence import append_pending, checkpoint_now
from hub.signing.evidence_check import verify_chain
from hub.signing.keys import load_seal

T = TypeVar("T")


def _with_seal(work: Callable[[IssuedCertificate, AsyncSession], Awaitable[T]]) -> T:
    """Run `work` with the configured seal and a session; no schemas, no broker: just these."""

    async def main() -> T:
        settings = HubSettings()
        seal = load_seal(settings)
        engine = create_engine(settings.sqlalchemy_url)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(seal, session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except (EphytoError, SQLAlchemyError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def evidence() -> None:
    """The evidence log: every envelope event in a hash chain, with signed checkpoints."""


@evidence.command()
@click.option(
    "--seal-cert",
    "seal_certs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another seal certificate checkpoints may be signed with (e.g. before a key rollover). "
    "The configured seal is always trusted.",
)
def verify(seal_certs: tuple[Path, ...]) -> None:
    """Check the whole chain and every signed checkpoint; report the first break."""
    extra = [load_certificate(path.read_bytes()) for path in seal_certs]

    async def work(seal: IssuedCertificate, session: AsyncSession) -> tuple[bool, str]:
        certificates = [seal.certificate, *extra]
        report = await verify_chain(session, seal_certificates=certificates)
        return report.ok, report.describe()

    ok, text = _with_seal(work)
    click.echo(text)
    if not ok:
        raise SystemExit(1)


@evidence.command()
def checkpoint() -> None:
    """Append the events still waiting for the chain, then sign a checkpoint of its head with
    the hub's seal."""

    async def work(seal: IssuedCertificate, session: AsyncSession) -> str:
        while await session.run_sync(append_pending):
            pass
        written = await checkpoint_now(session, signer=seal)
        if written is None:
            return "the chain is empty: nothing to checkpoint"
        return f"checkpoint signed at seq {written.seq}, head hash {written.head_hash}"

    click.echo(_with_seal(work))
