"""Login (with lockout), sessions, users and tenants. No HTTP here, and no commit."""

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from generic_national_system.accounts.models import LoginSession, Tenant, User
from generic_national_system.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from generic_national_system.accounts.roles import Role
from generic_national_system.audit.service import record
from generic_national_system.database import utcnow
from generic_national_system.errors import GensError, LoginRequired, NotFound
from generic_national_system.i18n import LANGUAGES, N_


class LoginRefusal(enum.Enum):
    """Why a sign-in was refused. Returned, not raised: the failure count must be committed."""

    WRONG = N_("Wrong username or password.")
    LOCKED = N_(
        "Too many failed sign-ins: this account is locked for a while. Try again later or ask "
        "your administrator."
    )


class InvalidAccountData(GensError):
    status = 422
    code = "invalid_account_data"


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """The signed-in user, as every request sees them."""

    user_id: int
    username: str
    full_name: str
    role: Role
    language: str
    tenant_id: int
    tenant_code: str
    tenant_name: str
    tenant_languages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    attempts: int
    duration: timedelta


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ login


async def authenticate(
    session: AsyncSession, *, username: str, password: str, policy: LockoutPolicy
) -> User | LoginRefusal:
    """The user whose password this is, or why not.

    Every failure of a known account counts; `policy.attempts` failures in a row lock it for
    `policy.duration`, during which even the right password is refused.
    """
    user = await session.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)  # same cost as a real check
        return LoginRefusal.LOCKED
    if user is None or not user.active:
        verify_password(None, password)
        return LoginRefusal.WRONG
    tenant = await session.get(Tenant, user.tenant_id)
    if not verify_password(user.password_hash, password) or tenant is None or not tenant.active:
        user.failed_logins += 1
        refusal, detail = LoginRefusal.WRONG, f"failed sign-in {user.failed_logins}"
        if user.failed_logins >= policy.attempts:
            user.locked_until = now + policy.duration
            user.failed_logins = 0
            refusal = LoginRefusal.LOCKED
            detail = f"locked for {policy.duration} after {policy.attempts} failed sign-ins"
        await record(
            session,
            tenant_id=user.tenant_id,
            actor=user.username,
            action="login_failed",
            detail=detail,
        )
        return refusal
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    await record(session, tenant_id=user.tenant_id, actor=user.username, action="login")
    await session.flush()
    return user


async def open_session(session: AsyncSession, *, user: User, lifetime: timedelta) -> str:
    """A new login session for `user`; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            token_hash=token_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime
        )
    )
    # Expired sessions of this user are useless: drop them while we are here.
    await session.execute(
        delete(LoginSession).where(LoginSession.user_id == user.id, LoginSession.expires_at < now)
    )
    await session.flush()
    return token


async def close_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


async def viewer_for(session: AsyncSession, *, token: str | None) -> Viewer:
    """The user of a live session, or LoginRequired."""
    if not token:
        raise LoginRequired("no session cookie")
    row = (
        await session.execute(
            select(LoginSession, User, Tenant)
            .join(User, User.id == LoginSession.user_id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(LoginSession.token_hash == token_hash(token))
        )
    ).first()
    if row is None:
        raise LoginRequired("unknown session")
    login, user, tenant = row
    if login.expires_at <= utcnow() or not user.active or not tenant.active:
        raise LoginRequired("session expired or account disabled")
    return Viewer(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        language=user.language,
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        tenant_languages=tuple(tenant.language_list),
    )


# ------------------------------------------------------------------------------------ users


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccountData(f"password shorter than {MIN_PASSWORD_LENGTH} characters")


async def create_user(
    session: AsyncSession,
    *,
    tenant_id: int,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    language: str = "en",
    actor: str,
) -> User:
    check_password_rules(password)
    if language not in LANGUAGES:
        raise InvalidAccountData(f"unsupported language {language!r}")
    taken = await session.scalar(select(func.count()).where(User.username == username))
    if taken:
        raise InvalidAccountData(f"username {username!r} is taken")
    user = User(
        tenant_id=tenant_id,
        username=username,
        full_name=full_name,
        role=role.value,
        language=language,
        password_hash=hash_password(password),
    )
    session.add(user)
    await session.flush()
    await record(
        session,
        tenant_id=tenant_id,
        actor=actor,
        action="user_created",
        detail=f"{username} ({role.value})",
    )
    return user


async def tenant_users(session: AsyncSession, *, tenant_id: int) -> list[User]:
    rows = await session.scalars(
        select(User).where(User.tenant_id == tenant_id).order_by(User.username)
    )
    return list(rows)


async def tenant_user(session: AsyncSession, *, tenant_id: int, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id:
        raise NotFound(f"no user {user_id} in tenant {tenant_id}")
    return user


async def update_user(
    session: AsyncSession,
    *,
    user: User,
    full_name: str,
    role: Role,
    language: str,
    active: bool,
    new_password: str | None,
    actor: str,
) -> None:
    changes = []
    if new_password:
        check_password_rules(new_password)
        user.password_hash = hash_password(new_password)
        user.failed_logins = 0
        user.locked_until = None
        # Everyone signed in with the old password is signed out.
        await session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        changes.append("password reset")
    if role.value != user.role:
        changes.append(f"role {user.role} -> {role.value}")
    if active != user.active:
        changes.append("activated" if active else "deactivated")
        if not active:
            await session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    user.full_name, user.role, user.language, user.active = full_name, role.value, language, active
    await session.flush()
    await record(
        session,
        tenant_id=user.tenant_id,
        actor=actor,
        action="user_updated",
        detail=f"{user.username}: {', '.join(changes) or 'details'}",
    )


async def set_own_preferences(
    session: AsyncSession,
    *,
    user_id: int,
    language: str,
    current_password: str | None = None,
    new_password: str | None = None,
) -> None:
    """A user changes their language, and (giving the current one) their password."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if new_password:
        if not verify_password(user.password_hash, current_password or ""):
            raise InvalidAccountData("current password is wrong")
        check_password_rules(new_password)
        user.password_hash = hash_password(new_password)
        await record(session, tenant_id=user.tenant_id, actor=user.username, action="password")
    user.language = language
    await session.flush()


# ------------------------------------------------------------------------------------ tenants


async def create_tenant(
    session: AsyncSession,
    *,
    code: str,
    name: str,
    country_code: str | None = None,
    languages: tuple[str, ...] = LANGUAGES,
    default_language: str = "en",
    place_of_issue: str | None = None,
) -> Tenant:
    if await session.scalar(select(func.count()).where(Tenant.code == code)):
        raise InvalidAccountData(f"tenant {code!r} exists")
    country = country_code or code
    if len(country) != 2:
        raise InvalidAccountData(f"a tenant needs a two-letter country code, got {country!r}")
    tenant = Tenant(
        code=code,
        name=name,
        country_code=country.upper(),
        languages=",".join(languages),
        default_language=default_language,
        place_of_issue=place_of_issue,
    )
    session.add(tenant)
    await session.flush()
    await record(session, tenant_id=tenant.id, actor="system", action="tenant_created", detail=code)
    return tenant


async def tenant_by_code(session: AsyncSession, code: str) -> Tenant | None:
    found: Tenant | None = await session.scalar(select(Tenant).where(Tenant.code == code))
    return found


async def active_tenants(
    session: AsyncSession, *, codes: tuple[str, ...] | None = None
) -> list[Tenant]:
    """Active tenants that have a hub client certificate (all, or those with these codes)."""
    query = select(Tenant).where(
        Tenant.active.is_(True),
        (Tenant.hub_client_cert_path.is_not(None)) | (Tenant.hub_client_cert_pem.is_not(None)),
    )
    if codes is not None:
        query = query.where(Tenant.code.in_(codes))
    return list(await session.scalars(query.order_by(Tenant.code)))


async def get_tenant(session: AsyncSession, tenant_id: int) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id}")
    return tenant


async def take_sequence(session: AsyncSession, *, tenant_id: int) -> int:
    """The tenant's next certificate sequence number, atomically (one UPDATE … RETURNING)."""
    taken = await session.scalar(
        update(Tenant)
        .where(Tenant.id == tenant_id)
        .values(next_sequence=Tenant.next_sequence + 1)
        .returning(Tenant.next_sequence)
    )
    if taken is None:
        raise NotFound(f"no tenant {tenant_id}")
    return int(taken) - 1
