"""`ephyto gens ...`: run GeNS and manage its tenants and users."""

import asyncio
import getpass
from typing import TYPE_CHECKING

import click

from generic_national_system.accounts import service
from generic_national_system.accounts.roles import Role
from generic_national_system.database import create_engine, create_sessionmaker, unit_of_work
from generic_national_system.errors import GensError
from generic_national_system.migrate import upgrade_to_head
from generic_national_system.settings import GensSettings

if TYPE_CHECKING:
    from generic_national_system.runtime import GensRuntime


@click.group()
def gens() -> None:
    """The Generic ePhyto National System (settings from EPHYTO_GENS_* variables)."""


@gens.command()
def migrate() -> None:
    """Bring GeNS's database schema to the newest version."""
    settings = GensSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    click.echo(f"GeNS database at head: {settings.sqlalchemy_url.split('@')[-1]}")


@gens.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve GeNS over HTTP (put a TLS-terminating proxy in front of it in production)."""
    import uvicorn

    from generic_national_system.app import create_app

    settings = GensSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True)


@gens.command()
@click.option(
    "--tenant",
    "codes",
    multiple=True,
    help="Only this tenant (repeatable); default: every active tenant with hub credentials.",
)
def fetch(codes: tuple[str, ...]) -> None:
    """Fetch what waits for the tenants on the hub (for cron: exit 1 if any tenant failed)."""
    from generic_national_system.runtime import build_runtime

    settings = GensSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    failures = asyncio.run(_fetch_all(build_runtime(settings), codes))
    if failures:
        raise SystemExit(1)


async def _fetch_all(runtime: "GensRuntime", codes: tuple[str, ...]) -> int:
    failures = 0
    try:
        async with unit_of_work(runtime.sessionmaker) as session:
            tenants = await service.active_tenants(session, codes=codes or None)
        known = {tenant.code for tenant in tenants}
        for code in sorted(set(codes) - known):
            click.echo(f"{code}: no such active tenant", err=True)
            failures += 1
        for tenant in tenants:
            try:
                async with unit_of_work(runtime.sessionmaker) as session:
                    outcome = await runtime.imports.fetch(session, tenant=tenant, actor="cli")
                # Responses are acknowledged only once stored for good (committed above).
                async with unit_of_work(runtime.sessionmaker) as session:
                    answered = await runtime.imports.acknowledge_responses(
                        session, tenant=tenant, actor="cli"
                    )
            except GensError as exc:
                click.echo(f"{tenant.code}: {exc.message}", err=True)
                failures += 1
                continue
            click.echo(
                f"{tenant.code}: {outcome.new} new, {outcome.known} already here, "
                f"{len(outcome.unverified)} without a valid seal, {answered} response(s) "
                "acknowledged"
            )
    finally:
        await runtime.close()
    return failures


@gens.command("create-tenant")
@click.argument("code")
@click.argument("name")
@click.option("--country", help="Exporting country (ISO 3166-1 alpha-2); default: the code.")
@click.option("--client-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--client-key", type=click.Path(exists=True, dir_okay=False))
def create_tenant(
    code: str, name: str, country: str | None, client_cert: str | None, client_key: str | None
) -> None:
    """Create a tenant (an NPPO) with its hub client certificate files."""

    async def work() -> None:
        engine = create_engine(settings.sqlalchemy_url)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                tenant = await service.create_tenant(
                    session, code=code, name=name, country_code=country
                )
                tenant.hub_client_cert_path = client_cert
                tenant.hub_client_key_path = client_key
        finally:
            await engine.dispose()

    settings = GensSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    try:
        asyncio.run(work())
    except service.InvalidAccountData as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"tenant {code} created")


@gens.command("create-user")
@click.argument("tenant_code")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--full-name", required=True)
@click.option("--language", type=click.Choice(["en", "es", "fr"]), default="en")
def create_user(tenant_code: str, username: str, role: str, full_name: str, language: str) -> None:
    """Create a user; the password is asked for (never on the command line)."""
    password = getpass.getpass("Password: ")

    async def work() -> None:
        engine = create_engine(settings.sqlalchemy_url)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                tenant = await service.tenant_by_code(session, tenant_code)
                if tenant is None:
                    raise service.InvalidAccountData(f"no tenant {tenant_code}")
                await service.create_user(
                    session,
                    tenant_id=tenant.id,
                    username=username,
                    full_name=full_name,
                    role=Role(role),
                    password=password,
                    language=language,
                    actor="cli",
                )
        finally:
            await engine.dispose()

    settings = GensSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    try:
        asyncio.run(work())
    except service.InvalidAccountData as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"user {username} created")
