"""`ephyto operator ...`: the console's actions from a script, with the same rules."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession

from ephyto_cli.main import cli
from hub.identity.domain import AuthenticatedNppo
from hub.nppos.domain import DeliveryMode
from hub.runtime import build_runtime
from hub.settings import HubSettings
from tests.hub.operators.helpers import PASSWORDS, in_fresh_loop, run, submit

pytestmark = pytest.mark.postgres


@pytest.fixture
def environment(postgres_database_url: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {"EPHYTO_DATABASE_URL": postgres_database_url, "EPHYTO_DATA_DIR": str(tmp_path)}
    settings = HubSettings(database_url=postgres_database_url, data_dir=tmp_path)

    async def prepare() -> None:
        runtime = build_runtime(settings)
        try:

            async def register(session: AsyncSession) -> None:
                for code in ("AA", "BB"):
                    await runtime.nppos.register(session, code=code, name=f"NPPO {code}")
                await runtime.nppos.register(
                    session,
                    code="PP",
                    name="NPPO PP",
                    delivery_mode=DeliveryMode.PUSH,
                    push_url="https://127.0.0.1:9/ephyto/DeliveryService",
                )

            await run(runtime, register)
        finally:
            await runtime.close()

    in_fresh_loop(prepare)
    yield env


def send(env: dict[str, str], to: str, number: str) -> str:
    settings = HubSettings(
        database_url=env["EPHYTO_DATABASE_URL"], data_dir=Path(env["EPHYTO_DATA_DIR"])
    )

    async def work() -> str:
        runtime = build_runtime(settings)
        try:
            return await submit(
                runtime, AuthenticatedNppo(code="AA", certificate_fingerprint="0" * 64), to, number
            )
        finally:
            await runtime.close()

    return in_fresh_loop(work)


def ephyto(env: dict[str, str], *arguments: str, as_operator: str | None = None) -> Result:
    extra = {}
    if as_operator is not None:
        extra = {
            "EPHYTO_OPERATOR_USER": as_operator,
            "EPHYTO_OPERATOR_PASSWORD": PASSWORDS[as_operator],
        }
    return CliRunner().invoke(cli, list(arguments), env={**env, **extra}, catch_exceptions=False)


def add_operators(env: dict[str, str]) -> None:
    for name, password in PASSWORDS.items():
        result = ephyto({**env, "EPHYTO_NEW_OPERATOR_PASSWORD": password}, "operator", "add", name)
        assert (result.exit_code, result.output) == (0, f"operator {name} added\n")


def test_two_operators_mark_an_envelope_failed_from_scripts(environment: dict[str, str]) -> None:
    add_operators(environment)
    number = send(environment, "BB", "CLI-FAIL-1")

    requested = ephyto(
        environment,
        "operator",
        "mark-failed",
        number,
        "--reason",
        "unreadable",
        as_operator="alice",
    )
    assert requested.exit_code == 0, requested.output
    action_id = requested.output.split()[1]
    pending = ephyto(environment, "operator", "list-pending")
    assert f"{action_id}\tmark_failed\t{number}" in pending.output

    own = ephyto(
        environment, "operator", "confirm", action_id, "--reason", "me", as_operator="alice"
    )
    assert own.exit_code == 1
    assert "a different operator must confirm it" in own.output

    confirmed = ephyto(
        environment, "operator", "confirm", action_id, "--reason", "agreed", as_operator="bob"
    )
    assert confirmed.exit_code == 0, confirmed.output
    assert f"{number} marked FailedDelivery" in confirmed.output
    assert "nothing waits" in ephyto(environment, "operator", "list-pending").output

    shown = ephyto(environment, "operator", "show", number).output
    assert "state        FailedDelivery (marked failed by the hub operators: unreadable)" in shown
    assert "operator_marked_failed" in shown
    assert "bob (cli) confirm_mark_failed confirmed: agreed" in shown
    found = ephyto(environment, "operator", "search", "--certificate", "cli-fail").output
    assert found.startswith(f"{number}\tAA\tBB\tBB\tCLI-FAIL-1\tFailedDelivery\t")
    log = ephyto(environment, "operator", "audit", "--target", number).output.splitlines()
    assert [line.split("\t")[3] for line in log] == ["confirm_mark_failed", "request_mark_failed"]
    assert all(line.split("\t")[2] == "cli" for line in log)


def test_reroute_retry_pause_and_resume_from_scripts(environment: dict[str, str]) -> None:
    add_operators(environment)
    ephyto(environment, "nppo", "register", "XCH", "--name", "Delegate", "--channel")
    number = send(environment, "BB", "CLI-RR-1")
    requested = ephyto(
        environment,
        "operator",
        "reroute",
        number,
        "--to",
        "XCH",
        "--reason",
        "BB down",
        as_operator="alice",
    )
    action_id = requested.output.split()[1]
    confirmed = ephyto(
        environment, "operator", "confirm", action_id, "--reason", "ok", as_operator="bob"
    )
    assert "re-routed from BB to XCH" in confirmed.output

    retried = ephyto(
        environment, "operator", "retry", number, "--reason", "kick", as_operator="alice"
    )
    assert retried.exit_code == 0, retried.output  # not routed again yet: published again
    paused = ephyto(
        environment, "operator", "pause", "PP", "--reason", "maintenance", as_operator="alice"
    )
    assert paused.output == "deliveries to PP paused\n"
    again = ephyto(environment, "operator", "pause", "PP", "--reason", "again", as_operator="bob")
    assert again.exit_code == 1
    assert "already paused" in again.output
    resumed = ephyto(environment, "operator", "resume", "pp", "--reason", "done", as_operator="bob")
    assert resumed.output == "deliveries to PP resumed\n"


def test_a_wrong_password_acts_on_nothing(environment: dict[str, str]) -> None:
    add_operators(environment)
    number = send(environment, "BB", "CLI-PW-1")
    result = ephyto(
        {
            **environment,
            "EPHYTO_OPERATOR_USER": "alice",
            "EPHYTO_OPERATOR_PASSWORD": "guess-guess-1",
        },
        "operator",
        "mark-failed",
        number,
        "--reason",
        "x",
    )
    assert result.exit_code == 1
    assert "unknown operator, wrong password, or account locked" in result.output
    assert "nothing waits" in ephyto(environment, "operator", "list-pending").output


def test_expiry_lists_the_certificates_that_need_attention(environment: dict[str, str]) -> None:
    everything = ephyto(environment, "operator", "expiry", "--all")
    assert everything.exit_code == 0
    assert "(hub)\thub-seal\t" in everything.output
    soon = ephyto(environment, "operator", "expiry")
    assert soon.output == "no certificate expires within 60 days\n"
