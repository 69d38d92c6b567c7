"""Plain helpers for operator and observability tests: operators, envelopes, a signed-in client."""

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

import hub.operators.models  # noqa: F401  (tables on Base.metadata, so tests empty them)
from ephyto_core.certificate import build_certificate_xml
from hub.app import create_app
from hub.database import unit_of_work
from hub.envelopes.domain import EnvelopeHeader
from hub.identity.domain import AuthenticatedNppo
from hub.operators import accounts
from hub.operators.settings import OperatorSettings
from hub.runtime import HubRuntime
from tests.core.factories import make_certificate

T = TypeVar("T")

#: Two operators, so the two-operator rule can be exercised.
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}

_TEMPLATE: list[bytes] = []


def certificate(number: str) -> bytes:
    """A small valid certificate with this number (otherwise the same content)."""
    if not _TEMPLATE:
        _TEMPLATE.append(
            build_certificate_xml(make_certificate(certificate_number="TEMPLATE-0000001"))
        )
    return _TEMPLATE[0].replace(b"TEMPLATE-0000001", number.encode())


async def run(runtime: HubRuntime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with unit_of_work(runtime.sessionmaker) as session:
        return await work(session)


async def add_operators(runtime: HubRuntime) -> None:
    async def work(session: AsyncSession) -> None:
        for name, password in PASSWORDS.items():
            await accounts.add_operator(session, username=name, password=password)

    await run(runtime, work)


async def submit(runtime: HubRuntime, sender: AuthenticatedNppo, to: str, number: str) -> str:
    """Deliver a certificate from `sender` to `to`; its hubDeliveryNumber."""
    header = EnvelopeHeader(
        from_code=sender.code,
        to_code=to,
        certificate_type=851,
        certificate_status=70,
        nppo_certificate_number=number,
    )
    submission = await run(
        runtime,
        lambda s: runtime.envelopes.deliver(
            s, caller=sender, header=header, content=certificate(number), validate_first=False
        ),
    )
    assert submission.header.hub_delivery_number is not None
    return submission.header.hub_delivery_number


def console_app(runtime: HubRuntime) -> FastAPI:
    # The ASGI test transport speaks plain HTTP: cookies may not require HTTPS here.
    return create_app(runtime=runtime, operator_settings=OperatorSettings(secure_cookies=False))


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test", follow_redirects=False
    )


async def sign_in(http: httpx.AsyncClient, username: str) -> str:
    """Sign in through the login form; the session's CSRF token."""
    page = await http.get("/operator/login")
    nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
    assert nonce is not None
    answer = await http.post(
        "/operator/login",
        data={
            "username": username,
            "password": PASSWORDS[username],
            "nonce": nonce.group(1),
            "next": "/operator/",
        },
    )
    assert answer.status_code == 303, answer.text
    home = await http.get("/operator/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert token is not None
    return token.group(1)


def flash(response: httpx.Response) -> str:
    """The one-time message a form action left for the next page."""
    from urllib.parse import unquote

    value = response.cookies.get("ephyto_operator_flash")
    return unquote(value) if value else ""


def in_fresh_loop(work: Callable[[], Awaitable[T]]) -> T:
    """Run async set-up from a synchronous test, in a thread with its own event loop (the CLI
    and Playwright's sync API need the test's own thread free of a running loop)."""
    from concurrent.futures import ThreadPoolExecutor

    async def main() -> T:
        return await work()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()
