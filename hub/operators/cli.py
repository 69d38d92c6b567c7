"""`ephyto operator ...`: every console action, for scripts.

Actions are taken as a named operator who proves it with their password (the same account and
the same two-operator rule as the console): `--operator USER` or `EPHYTO_OPERATOR_USER`, the
password from `EPHYTO_OPERATOR_PASSWORD` or a prompt. Audit entries record `channel=cli`.
"""

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_core._errors import EphytoError
from hub.database import unit_of_work, utcnow
from hub.migrate import upgrade_to_head
from hub.operators import accounts, audit, repository
from hub.operators.actions import OperatorActions
from hub.operators.audit import Actor
from hub.operators.routing_control import RoutingControl
from hub.runtime import HubRuntime, build_runtime
from hub.settings import HubSettings
from hub.signing.expiry import certificate_expiries

T = TypeVar("T")

Work = Callable[[HubRuntime, AsyncSession], Awaitable[T]]


def _run(work: Work[T]) -> T:
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
        raise click.ClickException(exc.message) from exc


def _as_operator(action: Callable[[HubRuntime, AsyncSession, Actor], Awaitable[T]]) -> T:
    """Run `action` as the operator named on the command line, after checking the password."""
    ctx = click.get_current_context()
    username = (ctx.obj or {}).get("operator")
    if not username:
        raise click.ClickException("name the operator: --operator USER or EPHYTO_OPERATOR_USER")
    password = os.environ.get("EPHYTO_OPERATOR_PASSWORD") or click.prompt(
        f"password of operator {username}", hide_input=True
    )

    async def work(runtime: HubRuntime, session: AsyncSession) -> tuple[bool, T | None]:
        operator = await accounts.authenticate(session, username=username, password=password)
        if operator is None:
            return False, None  # committed: the wrong password counts towards the lockout
        actor = Actor(username=operator.username, channel="cli")
        return True, await action(runtime, session, actor)

    signed_in, result = _run(work)
    if not signed_in:
        raise click.ClickException("unknown operator, wrong password, or account locked")
    return result  # type: ignore[return-value]


def _actions() -> OperatorActions:
    return OperatorActions(control=RoutingControl())


@click.group()
@click.option(
    "--operator",
    "operator_name",
    envvar="EPHYTO_OPERATOR_USER",
    default=None,
    help="The operator acting (password from EPHYTO_OPERATOR_PASSWORD or a prompt).",
)
@click.pass_context
def operator(ctx: click.Context, operator_name: str | None) -> None:
    """Operate the hub: delivery queues, two-operator actions, audit, certificate expiry."""
    ctx.ensure_object(dict)
    ctx.obj["operator"] = operator_name


@operator.command("add")
@click.argument("username")
@click.option(
    "--password",
    envvar="EPHYTO_NEW_OPERATOR_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given (or EPHYTO_NEW_OPERATOR_PASSWORD).",
)
def add(username: str, password: str) -> None:
    """Create an operator account (console and CLI)."""

    async def work(_runtime: HubRuntime, session: AsyncSession) -> str:
        created = await accounts.add_operator(session, username=username, password=password)
        return created.username

    click.echo(f"operator {_run(work)} added")


@operator.command("set-password")
@click.argument("username")
@click.option(
    "--password",
    envvar="EPHYTO_NEW_OPERATOR_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
)
def set_password(username: str, password: str) -> None:
    """Set an operator's password (ends their open console sessions)."""

    async def work(_runtime: HubRuntime, session: AsyncSession) -> None:
        await accounts.set_password(session, username=username, password=password)

    _run(work)
    click.echo(f"password of {username.lower()} changed")


REASON = click.option("--reason", required=True, help="Why: recorded in the audit log.")


@operator.command("retry")
@click.argument("number")
@REASON
def retry(number: str, reason: str) -> None:
    """Deliver a waiting envelope again now (skips its push back-off)."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        result = await _actions().retry_now(session, actor=actor, number=number, reason=reason)
        return result.message

    click.echo(_as_operator(act))


@operator.command("pause")
@click.argument("destination")
@REASON
def pause(destination: str, reason: str) -> None:
    """Stop pushing to a destination (envelopes keep arriving in its box)."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        result = await _actions().pause(
            session, actor=actor, destination=destination, reason=reason
        )
        return result.message

    click.echo(_as_operator(act))


@operator.command("resume")
@click.argument("destination")
@REASON
def resume(destination: str, reason: str) -> None:
    """Push to a paused destination again."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        result = await _actions().resume(
            session, actor=actor, destination=destination, reason=reason
        )
        return result.message

    click.echo(_as_operator(act))


@operator.command("reroute")
@click.argument("number")
@click.option("--to", "delegate", required=True, help="The delegate channel's code.")
@REASON
def reroute(number: str, delegate: str, reason: str) -> None:
    """Request moving a waiting envelope to a delegate's box (a second operator confirms)."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        pending = await _actions().request_reroute(
            session, actor=actor, number=number, delegate=delegate, reason=reason
        )
        return f"action {pending.id} requested: re-route {number} to {pending.argument}"

    click.echo(_as_operator(act))


@operator.command("mark-failed")
@click.argument("number")
@REASON
def mark_failed(number: str, reason: str) -> None:
    """Request marking a waiting envelope FailedDelivery (a second operator confirms)."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        pending = await _actions().request_mark_failed(
            session, actor=actor, number=number, reason=reason
        )
        return f"action {pending.id} requested: mark {number} failed"

    click.echo(_as_operator(act))


@operator.command("confirm")
@click.argument("action_id", type=int)
@REASON
def confirm(action_id: int, reason: str) -> None:
    """Confirm (and carry out) an action another operator requested."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        result = await _actions().confirm(session, actor=actor, action_id=action_id, reason=reason)
        return result.message

    click.echo(_as_operator(act))


@operator.command("cancel")
@click.argument("action_id", type=int)
@REASON
def cancel(action_id: int, reason: str) -> None:
    """Withdraw a pending action."""

    async def act(_r: HubRuntime, session: AsyncSession, actor: Actor) -> str:
        result = await _actions().cancel(session, actor=actor, action_id=action_id, reason=reason)
        return result.message

    click.echo(_as_operator(act))


@operator.command("list-pending")
def list_pending() -> None:
    """Actions waiting for a second operator."""

    async def work(_r: HubRuntime, session: AsyncSession) -> list[str]:
        return [
            f"{p.id}\t{p.action}\t{p.envelope_number}\t{p.argument or '-'}\t"
            f"{p.requested_by}\t{p.requested_at:%Y-%m-%d %H:%M}\t{p.reason}"
            for p in await _actions().list_pending(session)
        ]

    for line in _run(work) or ["nothing waits for confirmation"]:
        click.echo(line)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-25T10:00") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@operator.command("search")
@click.option("--number")
@click.option("--certificate", help="Certificate number (substring, any case).")
@click.option("--from", "from_code")
@click.option("--to", "to_code")
@click.option("--box")
@click.option("--state")
@click.option("--since", help="Accepted at or after (UTC), e.g. 2026-11-25T10:00.")
@click.option("--until", help="Accepted before (UTC).")
@click.option("--limit", type=int, default=200, show_default=True)
def search(
    number: str | None,
    certificate: str | None,
    from_code: str | None,
    to_code: str | None,
    box: str | None,
    state: str | None,
    since: str | None,
    until: str | None,
    limit: int,
) -> None:
    """Find envelopes (newest first), one per line, tab-separated."""
    criteria = repository.SearchCriteria(
        number=number,
        certificate_number=certificate,
        from_code=from_code,
        to_code=to_code,
        box_code=box,
        state=state,
        since=_moment(since),
        until=_moment(until),
        limit=limit,
    )

    async def work(_r: HubRuntime, session: AsyncSession) -> list[str]:
        return [
            f"{e.hub_delivery_number}\t{e.from_code}\t{e.to_code}\t{e.box_code}\t"
            f"{e.nppo_certificate_number}\t{e.tracking_state}\t{e.created_at:%Y-%m-%dT%H:%M:%S}"
            for e in await repository.search(session, criteria)
        ]

    for line in _run(work):
        click.echo(line)


@operator.command("show")
@click.argument("number")
def show(number: str) -> None:
    """An envelope with its push schedule, full history and operator actions."""

    async def work(_r: HubRuntime, session: AsyncSession) -> list[str]:
        record = await repository.by_number(session, number)
        if record is None:
            raise click.ClickException(f"no envelope {number}")
        sha, size = await repository.content_summary(session, record.content_id)
        lines = [
            f"envelope     {record.hub_delivery_number}",
            f"state        {record.tracking_state}"
            + (f" ({record.error_message})" if record.error_message else ""),
            f"from -> to   {record.from_code} -> {record.to_code} (box {record.box_code})",
            f"certificate  {record.nppo_certificate_number} type {record.certificate_type} "
            f"status {record.certificate_status}",
            f"accepted     {record.created_at:%Y-%m-%d %H:%M:%S} UTC",
            f"content      sha256 {sha}, {size} bytes",
        ]
        push = await repository.push_status(session, record.hub_delivery_number, now=utcnow())
        if push is not None:
            lines.append(
                f"push         {push.state}, {push.attempts} attempt(s), next "
                f"{push.due_at:%Y-%m-%d %H:%M:%S}, last error: {push.last_error or '-'}"
            )
        lines.append("history:")
        lines += [
            f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.event:<24} {e.tracking_state or '':<22} "
            f"{e.actor:<20} {e.detail or ''}"
            for e in await repository.history(session, record.id)
        ]
        entries = await audit.entries(session, target=record.hub_delivery_number)
        if entries:
            lines.append("operator actions:")
            lines += [
                f"  {a.at:%Y-%m-%d %H:%M:%S}  {a.operator} ({a.channel}) {a.action} "
                f"{a.outcome}: {a.reason}"
                for a in reversed(entries)
            ]
        return lines

    for line in _run(work):
        click.echo(line)


@operator.command("expiry")
@click.option("--all", "show_all", is_flag=True, help="Also certificates with > 60 days left.")
def expiry(show_all: bool) -> None:
    """Certificates expiring within 60 / 30 / 7 days (NPPO client and signing, hub seal)."""

    async def work(runtime: HubRuntime, session: AsyncSession) -> list[str]:
        rows = await certificate_expiries(
            session,
            now=utcnow(),
            hub_certificates={"hub-seal": runtime.signing.seal_certificate},
        )
        return [
            f"{e.owner}\t{e.kind}\t{e.days_left}\t{e.status.value}\t{e.not_after:%Y-%m-%d}\t"
            f"{e.fingerprint[:16]}\t{e.subject}"
            for e in rows
            if show_all or e.status.needs_attention
        ]

    for line in _run(work) or ["no certificate expires within 60 days"]:
        click.echo(line)


@operator.command("audit")
@click.option("--target", help="An envelope number, destination or NPPO code.")
@click.option("--limit", type=int, default=100, show_default=True)
def audit_log(target: str | None, limit: int) -> None:
    """The audit log, newest first."""

    async def work(_r: HubRuntime, session: AsyncSession) -> list[str]:
        return [
            f"{a.at:%Y-%m-%d %H:%M:%S}\t{a.operator}\t{a.channel}\t{a.action}\t{a.target}\t"
            f"{a.outcome}\t{a.reason}\t{a.detail or ''}"
            for a in await audit.entries(session, target=target, limit=limit)
        ]

    for line in _run(work):
        click.echo(line)
