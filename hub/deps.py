"""Named dependency types, so endpoint signatures read as what they need.

Every dependency is ``async def``, even those that only read an attribute: FastAPI runs a plain
``def`` dependency in its thread pool, and four such hand-offs per request cost ~6 % of a
submission's CPU.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hub.codelists.service import CodeListService
from hub.database import unit_of_work
from hub.envelopes.service import EnvelopeService
from hub.identity.domain import AuthenticatedNppo
from hub.identity.service import authenticate
from hub.identity.tls import client_certificate_der
from hub.nppos.service import NppoService
from hub.runtime import HubRuntime
from hub.signing.service import SigningService


async def get_runtime(request: Request) -> HubRuntime:
    runtime: HubRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[HubRuntime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    # scope="function" below: the commit happens before the response is sent, so a client
    # never sees success for a transaction that then fails to commit.
    async with unit_of_work(runtime.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_current_nppo(
    request: Request, runtime: RuntimeDep, session: SessionDep
) -> AuthenticatedNppo:
    der = client_certificate_der(
        request,
        trusted_proxies=runtime.settings.trusted_proxies,
        header=runtime.settings.client_cert_header,
    )
    return await authenticate(session, certificate_der=der, registry=runtime.registry)


CurrentNppo = Annotated[AuthenticatedNppo, Depends(get_current_nppo)]


async def get_envelope_service(runtime: RuntimeDep) -> EnvelopeService:
    return runtime.envelopes


async def get_nppo_service(runtime: RuntimeDep) -> NppoService:
    return runtime.nppos


async def get_codelist_service(runtime: RuntimeDep) -> CodeListService:
    return runtime.codelists


async def get_signing_service(runtime: RuntimeDep) -> SigningService:
    return runtime.signing


EnvelopeServiceDep = Annotated[EnvelopeService, Depends(get_envelope_service)]
NppoServiceDep = Annotated[NppoService, Depends(get_nppo_service)]
CodeListServiceDep = Annotated[CodeListService, Depends(get_codelist_service)]
SigningServiceDep = Annotated[SigningService, Depends(get_signing_service)]
