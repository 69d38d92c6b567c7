"""Everything a running GeNS holds, built once from settings (no I/O until used)."""

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ephyto_core._codelists import CodeLists, default_code_lists
from ephyto_core._schemas import default_schema_set
from ephyto_core._validation import Validator
from generic_national_system.accounts.service import LockoutPolicy
from generic_national_system.certificates.service import CertificateService
from generic_national_system.database import create_engine, create_sessionmaker
from generic_national_system.hub_client import HubConnector
from generic_national_system.hub_directory import HubDirectory
from generic_national_system.imports.service import ImportService
from generic_national_system.settings import GensSettings
from generic_national_system.web.choices import CodeListChoices
from generic_national_system.web.templating import Templates


@dataclass(frozen=True, kw_only=True)
class GensRuntime:
    settings: GensSettings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    code_lists: CodeLists
    choices: CodeListChoices
    templates: Templates
    hub: HubConnector
    directory: HubDirectory
    certificates: CertificateService
    imports: ImportService
    lockout: LockoutPolicy

    async def close(self) -> None:
        await self.engine.dispose()


def build_runtime(
    settings: GensSettings, *, hub_transport: httpx.AsyncBaseTransport | None = None
) -> GensRuntime:
    """`hub_transport` replaces the network (tests pass the hub app via httpx.ASGITransport)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sqlalchemy_url)
    code_lists = default_code_lists()
    validator = Validator(schemas=default_schema_set(), code_lists=code_lists)
    hub = HubConnector(
        base_url=settings.hub_url,
        ca_bundle=settings.hub_ca_bundle,
        cert_header=settings.hub_client_cert_header,
        timeout=settings.hub_timeout_seconds,
        transport=hub_transport,
    )
    choices = CodeListChoices(code_lists)
    directory = HubDirectory(pinned_seal_certificate=settings.hub_seal_cert)
    secret = settings.secret_key.get_secret_value()
    return GensRuntime(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        code_lists=code_lists,
        choices=choices,
        templates=Templates(
            choices=choices,
            secret=secret,
            secure_cookies=settings.secure_cookies,
        ),
        hub=hub,
        directory=directory,
        certificates=CertificateService(
            code_lists=code_lists,
            validator=validator,
            hub=hub,
            directory=directory,
            secret_key=secret,
            sign=settings.sign_content,
        ),
        imports=ImportService(
            code_lists=code_lists,
            validator=validator,
            hub=hub,
            directory=directory,
            secret_key=secret,
        ),
        lockout=LockoutPolicy(settings.lockout_attempts, settings.lockout_duration),
    )
