"""`ephyto hub ...` and `ephyto nppo ...`: run the hub and manage its NPPO registry."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from hub.database import unit_of_work
from hub.migrate import upgrade_to_head
from hub.nppos.domain import DeliveryMode, Direction, RuleType
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings

T = TypeVar("T")


def run_in_unit_of_work(work: Callable[[HubRuntime, AsyncSession], Awaitable[T]]) -> T:
    """Run one registry change against the configured database, committing at the end."""
    settings = HubSettings()
    upgrade_to_head(settings.sqlalchemy_url)

    async def main() -> T:
        runtime = build_runtime(settings)
        try:
            async with unit_of_work(runtime.sessionmaker) as session:
                return await work(runtime, session)
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except EphytoError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def hub() -> None:
    """Run the hub (settings from EPHYTO_* environment variables)."""


@hub.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    settings = HubSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    click.echo(f"database at head: {settings.sqlalchemy_url.split('@')[-1]}")


@hub.command()
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 - a server listens
@click.option("--port", default=8443, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the SOAP and REST faces over HTTPS with client certificates.

    Needs EPHYTO_TLS_CERT, EPHYTO_TLS_KEY and EPHYTO_TLS_CLIENT_CA, or, behind a
    TLS-terminating proxy, EPHYTO_TRUSTED_PROXIES (then it serves plain HTTP to the proxy).
    """
    from hub.observability.logs import configure_logging
    from hub.server import serve_forever

    configure_logging()
    settings = HubSettings()
    upgrade_to_head(settings.sqlalchemy_url)
    # log_config=None: uvicorn keeps the structured handler instead of installing its own.
    serve_forever(settings, host=host, port=port, log_config=None)


@hub.command("wait-for-db")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to keep trying.")
@click.option(
    "--broker/--no-broker",
    default=True,
    show_default=True,
    help="Also wait for RabbitMQ when EPHYTO_BROKER_URL is set.",
)
def wait_for_db(timeout: float, broker: bool) -> None:
    """Wait until the database (and the broker) accept connections: a container's prestart step.

    Exits 0 once they answer, 1 with the last error after --timeout seconds.
    """
    from hub.observability.health import wait_for_services

    settings = HubSettings()
    failure = asyncio.run(
        wait_for_services(settings, within=timeout, broker=broker, report=click.echo)
    )
    if failure is not None:
        raise click.ClickException(failure)


@hub.command()
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Serve this worker's own counters (push attempts, ...) for Prometheus on this port.",
)
def worker(metrics_port: int | None) -> None:
    """Run the routing workers: outbox relay, box consumers, push delivery, evidence chainer.

    Needs EPHYTO_BROKER_URL (RabbitMQ). Run as many as you like, on any machine that reaches the
    database and the broker; they share the work. Stops cleanly on SIGTERM or Ctrl+C.
    """
    import signal

    from hub.observability.logs import configure_logging
    from hub.observability.metrics import install_envelope_hooks, serve_worker_metrics
    from hub.routing.workers import RoutingWorkers

    settings = HubSettings()
    if not settings.broker_url:
        raise click.ClickException(
            "set EPHYTO_BROKER_URL: without RabbitMQ the workers run inside `ephyto hub serve`"
        )
    configure_logging()
    install_envelope_hooks()
    if metrics_port is not None:
        serve_worker_metrics(metrics_port)
    upgrade_to_head(settings.sqlalchemy_url)

    async def main() -> None:
        runtime = build_runtime(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await RoutingWorkers(runtime).run_until(stop)
        finally:
            await runtime.close()

    # uvloop, as uvicorn picks it for `hub serve` (a dependency everywhere but Windows).
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())


@click.group()
def nppo() -> None:
    """Manage the NPPO registry: participants, certificates, channel rules."""


def _pair(value: str) -> tuple[int, int]:
    type_code, _, status = value.partition(":")
    try:
        return int(type_code), int(status)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not TYPE:STATUS, e.g. 851:70") from exc


@nppo.command("register")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--channel", is_flag=True, help="A delegate or cc system, not a country's NPPO.")
@click.option("--send/--no-send", default=True, show_default=True)
@click.option("--receive/--no-receive", default=True, show_default=True)
@click.option("--push-url", default=None, help="Deliver by push to this IDeliveryService URL.")
@click.option(
    "--allow",
    "allowed",
    multiple=True,
    default=("851:70", "657:70", "851:40", "657:40"),
    show_default=True,
    help="Allowed TYPE:STATUS pairs (repeat).",
)
def register(
    code: str,
    name: str,
    channel: bool,
    send: bool,
    receive: bool,
    push_url: str | None,
    allowed: tuple[str, ...],
) -> None:
    """Register an NPPO (ISO 3166 alpha-2 code) or a channel."""
    pairs = [_pair(a) for a in allowed]

    async def work(runtime: HubRuntime, session: AsyncSession) -> str:
        created = await runtime.nppos.register(
            session,
            code=code,
            name=name,
            is_channel=channel,
            can_send=send,
            can_receive=receive,
            delivery_mode=DeliveryMode.PUSH if push_url else DeliveryMode.PULL,
            push_url=push_url,
            allowed_documents=pairs,
        )
        return created.code

    click.echo(f"registered {run_in_unit_of_work(work)}")


@nppo.command("add-client-cert")
@click.argument("code")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_client_cert(code: str, certificate: Path) -> None:
    """Register a TLS client certificate (PEM or DER) for an NPPO. Several may be active."""
    data = certificate.read_bytes()

    async def work(runtime: HubRuntime, session: AsyncSession) -> str:
        record = await runtime.nppos.add_client_certificate(session, code=code, certificate=data)
        valid = f"{record.not_before:%Y-%m-%d} to {record.not_after:%Y-%m-%d}"
        return f"{record.fingerprint_sha256} valid {valid}"

    click.echo(f"client certificate {run_in_unit_of_work(work)}")


@nppo.command("add-signing-cert")
@click.argument("code")
@click.argument("certificate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def add_signing_cert(code: str, certificate: Path) -> None:
    """Register the certificate an NPPO signs certificate content with."""
    data = certificate.read_bytes()

    async def work(runtime: HubRuntime, session: AsyncSession) -> str:
        record = await runtime.nppos.add_signing_certificate(session, code=code, certificate=data)
        return record.fingerprint_sha256

    click.echo(f"signing certificate {run_in_unit_of_work(work)}")


@nppo.command("revoke-client-cert")
@click.argument("fingerprint")
@click.option("--reason", required=True)
def revoke_client_cert(fingerprint: str, reason: str) -> None:
    """Revoke a client certificate at once (by its SHA-256 fingerprint)."""

    async def work(runtime: HubRuntime, session: AsyncSession) -> str:
        record = await runtime.nppos.revoke_client_certificate(
            session, fingerprint=fingerprint, reason=reason
        )
        return record.fingerprint_sha256

    click.echo(f"revoked {run_in_unit_of_work(work)}")


@nppo.command("add-rule")
@click.argument("channel")
@click.option("--type", "rule_type", type=click.Choice([t.value for t in RuleType]), required=True)
@click.option("--country", required=True)
@click.option("--direction", type=click.Choice([d.value for d in Direction]), required=True)
@click.option("--certificate-type", type=int, default=851, show_default=True)
@click.option("--certificate-status", type=int, default=70, show_default=True)
def add_rule(
    channel: str,
    rule_type: str,
    country: str,
    direction: str,
    certificate_type: int,
    certificate_status: int,
) -> None:
    """Add a DELEGATE or FORWARD rule to a channel."""

    async def work(runtime: HubRuntime, session: AsyncSession) -> int:
        rule = await runtime.nppos.add_channel_rule(
            session,
            channel_code=channel,
            rule_type=RuleType(rule_type),
            country_code=country,
            direction=Direction(direction),
            certificate_type=certificate_type,
            certificate_status=certificate_status,
        )
        return rule.id

    click.echo(f"rule {run_in_unit_of_work(work)} added to {channel.upper()}")


@nppo.command("list")
def list_nppos() -> None:
    """List the active NPPOs and channels."""

    async def work(runtime: HubRuntime, session: AsyncSession) -> list[str]:
        return [
            f"{p.code:<6} {'channel' if p.is_channel else 'nppo   '} "
            f"send={'y' if p.can_send else 'n'} receive={'y' if p.can_receive else 'n'} "
            f"{p.delivery_mode.value:<4} {p.name}"
            for p in await runtime.nppos.active_nppos(session)
        ]

    for line in run_in_unit_of_work(work):
        click.echo(line)
