"""Operator accounts and browser sessions. Services flush; the caller's unit of work commits."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.database import utcnow
from hub.errors import Conflict, InvalidRequest
from hub.operators.models import Operator, OperatorSession
from hub.operators.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password

USERNAME_MAX = 64
#: Wrong passwords in a row before the account locks, and for how long: slows guessing to
#: 5 tries per 15 minutes per account while a mistyping operator is barely delayed.
LOCKOUT_FAILURES = 5
LOCKOUT = timedelta(minutes=15)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class SignedIn:
    """The operator behind a valid session cookie."""

    operator_id: int
    username: str
    csrf_token: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenedSession:
    token: str
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > USERNAME_MAX or not all(c.isalnum() or c in "._-" for c in name):
        raise InvalidRequest(
            f"a username is 1-{USERNAME_MAX} letters, digits, dots, dashes or underscores",
            field="username",
        )
    return name


async def add_operator(session: AsyncSession, *, username: str, password: str) -> Operator:
    name = _clean_username(username)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"an operator password has at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )
    existing = await session.execute(select(Operator.id).where(Operator.username == name))
    if existing.first() is not None:
        raise Conflict(f"operator {name} already exists", field="username")
    operator = Operator(username=name, password_hash=hash_password(password), active=True)
    session.add(operator)
    await session.flush()
    return operator


async def set_password(session: AsyncSession, *, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"an operator password has at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )
    operator = await _by_username(session, _clean_username(username))
    if operator is None:
        raise InvalidRequest(f"no operator {username}", field="username")
    operator.password_hash = hash_password(password)
    operator.failed_logins = 0
    operator.locked_until = None
    # A new password ends every open session of that operator.
    await session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
    await session.flush()


async def _by_username(session: AsyncSession, username: str) -> Operator | None:
    result = await session.execute(select(Operator).where(Operator.username == username))
    return result.scalar_one_or_none()


async def authenticate(
    session: AsyncSession, *, username: str, password: str, now: datetime | None = None
) -> Operator | None:
    """The operator if the password matches an active, unlocked account, else None (no hint
    which). Wrong passwords are counted (the caller's unit of work must commit a refusal too):
    `LOCKOUT_FAILURES` in a row lock the account for `LOCKOUT`, whatever is typed meanwhile."""
    now = now or utcnow()
    try:
        name = _clean_username(username)
    except InvalidRequest:
        verify_password(None, password)  # same cost as a real check
        return None
    operator = await _by_username(session, name)
    ok = verify_password(operator.password_hash if operator else None, password)
    if operator is None or not operator.active:
        return None
    if operator.locked_until is not None and operator.locked_until > now:
        log.warning("sign-in refused: operator %s is locked until %s", name, operator.locked_until)
        return None
    if not ok:
        operator.failed_logins += 1
        if operator.failed_logins >= LOCKOUT_FAILURES:
            operator.locked_until = now + LOCKOUT
            operator.failed_logins = 0
            log.warning("operator %s locked after %d wrong passwords", name, LOCKOUT_FAILURES)
        await session.flush()
        return None
    if operator.failed_logins or operator.locked_until is not None:
        operator.failed_logins = 0
        operator.locked_until = None
        await session.flush()
    return operator


async def open_session(
    session: AsyncSession, *, operator: Operator, lifetime: timedelta, now: datetime | None = None
) -> OpenedSession:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    expires = now + lifetime
    session.add(
        OperatorSession(
            token_sha256=_digest(token),
            operator_id=operator.id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires,
        )
    )
    await session.flush()
    return OpenedSession(token=token, csrf_token=csrf_token, expires_at=expires)


async def signed_in(
    session: AsyncSession, *, token: str | None, now: datetime | None = None
) -> SignedIn | None:
    if not token:
        return None
    result = await session.execute(
        select(OperatorSession, Operator)
        .join(Operator, OperatorSession.operator_id == Operator.id)
        .where(OperatorSession.token_sha256 == _digest(token))
    )
    row = result.one_or_none()
    if row is None:
        return None
    record, operator = row
    if record.expires_at <= (now or utcnow()) or not operator.active:
        return None
    return SignedIn(
        operator_id=operator.id, username=operator.username, csrf_token=record.csrf_token
    )


async def close_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(
        delete(OperatorSession).where(OperatorSession.token_sha256 == _digest(token))
    )
    await session.flush()
