"""Demo tenants and one user per role, for `ephyto demo`, and the settings GeNS runs with there.

Idempotent: a tenant that exists keeps its data; its demo users get new passwords (returned, so
the demo manifest always tells the current ones).

A tenant's code is its identity on the hub (the demo hub's NPPOs are AA and BB, not countries);
its certificates name a real exporting country (`country_code`, ISO 3166: the code lists check
it), so the demo's AA tenant exports from Kenya and BB is the Netherlands.
"""

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from sqlalchemy import select

from generic_national_system.accounts import service
from generic_national_system.accounts.models import User
from generic_national_system.accounts.roles import Role
from generic_national_system.database import create_engine, create_sessionmaker, unit_of_work
from generic_national_system.migrate import upgrade_to_head
from generic_national_system.settings import GensSettings


@dataclass(frozen=True, kw_only=True)
class DemoTenant:
    """A tenant to create: its NPPO code, name and the hub client certificate files."""

    code: str
    name: str
    #: The exporting country of its certificates (ISO 3166-1 alpha-2); default: the code.
    country_code: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    place_of_issue: str | None = None


class DemoUser(TypedDict):
    role: str
    username: str
    password: str


class DemoTenantResult(TypedDict):
    code: str
    country: str
    users: list[DemoUser]


_FULL_NAMES = {
    Role.APPLICANT: "Demo Applicant",
    Role.INSPECTOR: "Demo Inspector",
    Role.OFFICER: "Demo Authorising Officer",
    Role.ADMIN: "Demo Administrator",
}


def create_demo_tenants(
    settings: GensSettings, tenants: Sequence[DemoTenant]
) -> list[DemoTenantResult]:
    """Migrate GeNS's database, create the tenants and a user per role in each (synchronous)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the embedded SQLite lives there
    upgrade_to_head(settings.sqlalchemy_url)
    return asyncio.run(_create(settings, tenants))


async def _create(settings: GensSettings, tenants: Sequence[DemoTenant]) -> list[DemoTenantResult]:
    engine = create_engine(settings.sqlalchemy_url)
    results: list[DemoTenantResult] = []
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            for demo in tenants:
                tenant = await service.tenant_by_code(session, demo.code)
                if tenant is None:
                    tenant = await service.create_tenant(
                        session,
                        code=demo.code,
                        name=demo.name,
                        country_code=demo.country_code,
                        place_of_issue=demo.place_of_issue,
                    )
                tenant.country_code = (demo.country_code or demo.code).upper()
                tenant.hub_client_cert_path = str(demo.client_cert) if demo.client_cert else None
                tenant.hub_client_key_path = str(demo.client_key) if demo.client_key else None
                users: list[DemoUser] = []
                for role in Role:
                    username = f"{demo.code.lower()}-{role.value}"
                    password = secrets.token_urlsafe(12)
                    existing = await session.scalar(select(User).where(User.username == username))
                    if existing is None:
                        await service.create_user(
                            session,
                            tenant_id=tenant.id,
                            username=username,
                            full_name=_FULL_NAMES[role],
                            role=role,
                            password=password,
                            actor="demo",
                        )
                    else:
                        await service.update_user(
                            session,
                            user=existing,
                            full_name=existing.full_name,
                            role=role,
                            language=existing.language,
                            active=True,
                            new_password=password,
                            actor="demo",
                        )
                    users.append({"role": role.value, "username": username, "password": password})
                results.append({"code": demo.code, "country": tenant.country_code, "users": users})
    finally:
        await engine.dispose()
    return results


def demo_settings(
    data_dir: Path,
    *,
    hub_url: str,
    ca_cert: Path,
    seal_cert: Path,
    public_url: str,
) -> GensSettings:
    """GeNS for the demo: its own SQLite under `data_dir` (unless EPHYTO_GENS_DATABASE_URL says
    otherwise), plain HTTP on loopback, and the hub reached over mutual TLS with each tenant's
    client certificate, the demo CA and the demo hub's seal certificate pinned."""
    return GensSettings(
        data_dir=data_dir,
        secure_cookies=False,  # the demo serves plain http://127.0.0.1
        hub_url=f"{hub_url.rstrip('/')}/api/v1",
        hub_ca_bundle=ca_cert,
        hub_client_cert_header="",
        hub_seal_cert=seal_cert,
        public_url=public_url,
    )
