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
from ephyto_core._pki import load_certificate
from hub.database import unit_of_work
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from hub.signing.evidence import checkpoint_now
from hub.signing.evidence_check import verify_chain

T = TypeVar("T")


def _with_runtime(work: Callable[[HubRuntime, AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        runtime = build_runtime(HubSettings())
        try:
            async with unit_of_work(runtime.sessionmaker) as session:
                return await work(runtime, session)
        finally:
            await runtime.close()

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

    async def work(runtime: HubRuntime, session: AsyncSession) -> tuple[bool, str]:
        certificates = [runtime.signing.seal_certificate, *extra]
        report = await verify_chain(session, seal_certificates=certificates)
        return report.ok, report.describe()

    ok, text = _with_runtime(work)
    click.echo(text)
    if not ok:
        raise SystemExit(1)


@evidence.command()
def checkpoint() -> None:
    """Sign a checkpoint of the chain's current head with the hub's seal."""

    async def work(runtime: HubRuntime, session: AsyncSession) -> str:
        written = await checkpoint_now(session, signer=runtime.signing.seal_key)
        if written is None:
            return "the chain is empty: nothing to checkpoint"
        return f"checkpoint signed at seq {written.seq}, head hash {written.head_hash}"

    click.echo(_with_runtime(work))
