"""Operator accounts: hashed passwords, sessions that end, and a lockout that slows guessing."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.database import utcnow
from hub.errors import Conflict, InvalidRequest
from hub.operators import accounts
from hub.operators.models import Operator
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import PASSWORDS, run


async def test_passwords_are_stored_as_argon2id_hashes(runtime: HubRuntime) -> None:
    await run(runtime, lambda s: accounts.add_operator(s, username=" Alice ", password="p" * 12))
    stored = await run(runtime, lambda s: s.execute(select(Operator)))
    (operator,) = stored.scalars()
    assert operator.username == "alice"
    assert operator.password_hash.startswith("$argon2id$")
    assert "p" * 12 not in operator.password_hash


@pytest.mark.parametrize(
    ("username", "password", "error"),
    [("bob", "short", InvalidRequest), ("b b", "long-enough-pw", InvalidRequest)],
)
async def test_bad_accounts_are_refused(
    runtime: HubRuntime, username: str, password: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await run(runtime, lambda s: accounts.add_operator(s, username=username, password=password))


async def test_a_username_is_taken_once(runtime: HubRuntime) -> None:
    await run(runtime, lambda s: accounts.add_operator(s, username="bob", password="b" * 12))
    with pytest.raises(Conflict):
        await run(runtime, lambda s: accounts.add_operator(s, username="BOB", password="c" * 12))


@pytest.mark.usefixtures("operators")
async def test_five_wrong_passwords_lock_the_account_for_a_while(runtime: HubRuntime) -> None:
    now = utcnow()

    async def attempt(password: str, at: timedelta = timedelta()) -> bool:
        found = await run(
            runtime,
            lambda s: accounts.authenticate(s, username="alice", password=password, now=now + at),
        )
        return found is not None

    for _ in range(accounts.LOCKOUT_FAILURES - 1):
        assert not await attempt("wrong-password")
    assert await attempt(PASSWORDS["alice"])  # a success clears the count
    for _ in range(accounts.LOCKOUT_FAILURES):
        assert not await attempt("wrong-password")
    assert not await attempt(PASSWORDS["alice"])  # locked: even the right one is refused
    assert not await attempt(PASSWORDS["alice"], accounts.LOCKOUT - timedelta(seconds=1))
    assert await attempt(PASSWORDS["alice"], accounts.LOCKOUT + timedelta(seconds=1))
    assert await attempt(PASSWORDS["bob"]) is False  # bob's password is not alice's


@pytest.mark.usefixtures("operators")
async def test_sessions_end_when_they_expire_or_the_password_changes(runtime: HubRuntime) -> None:
    async def open_one() -> str:
        async def work(session):  # type: ignore[no-untyped-def]
            operator = await accounts.authenticate(
                session, username="alice", password=PASSWORDS["alice"]
            )
            opened = await accounts.open_session(
                session, operator=operator, lifetime=timedelta(hours=1)
            )
            return opened.token

        return await run(runtime, work)

    token = await open_one()
    assert await run(runtime, lambda s: accounts.signed_in(s, token=token)) is not None
    later = utcnow() + timedelta(hours=1, seconds=1)
    assert await run(runtime, lambda s: accounts.signed_in(s, token=token, now=later)) is None
    await run(
        runtime, lambda s: accounts.set_password(s, username="alice", password="new-password-1")
    )
    assert await run(runtime, lambda s: accounts.signed_in(s, token=token)) is None
    assert await run(runtime, lambda s: accounts.signed_in(s, token="made-up")) is None
