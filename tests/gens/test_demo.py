"""`create_demo_tenants`: what `ephyto demo` calls to give GeNS tenants and a user per role."""

import asyncio
from pathlib import Path

import httpx

from generic_national_system.app import create_app
from generic_national_system.demo import DemoTenant, create_demo_tenants
from tests.gens.conftest import Browser, gens_settings


async def test_demo_tenants_have_one_user_per_role_who_can_sign_in(tmp_path: Path) -> None:
    settings = gens_settings(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path)
    tenants = [DemoTenant(code="KE", name="Demo NPPO of Kenya"), DemoTenant(code="NL", name="NL")]

    # Synchronous by design (the demo command is): run it off the test's event loop.
    first = await asyncio.to_thread(create_demo_tenants, settings, tenants)
    again = await asyncio.to_thread(create_demo_tenants, settings, tenants)

    assert [t["code"] for t in first] == ["KE", "NL"]
    roles = [u["role"] for u in first[0]["users"]]
    assert roles == ["applicant", "inspector", "officer", "admin"]
    # Running it again keeps the tenants and hands out fresh passwords that work.
    assert first[0]["users"][2]["password"] != again[0]["users"][2]["password"]
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gens.test"
    ) as client:
        # ASGITransport runs no lifespan: the runtime is closed below, by hand.
        person = Browser(client)
        officer = again[0]["users"][2]
        assert (await person.sign_in(officer["username"], officer["password"])).status_code == 303
        stale = Browser(client)
        old = first[0]["users"][0]
        assert (await stale.sign_in(old["username"], old["password"])).status_code == 401
    await app.state.runtime.close()
