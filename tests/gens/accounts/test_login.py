"""Signing in and out, lockout after repeated failures, and CSRF tokens on every form."""

from generic_national_system.accounts.roles import Role
from tests.gens.conftest import BrowserFactory, TenantUsers


async def test_sign_in_opens_the_certificates_and_sign_out_closes_them(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    assert (await person.get("/certificates")).headers["location"].startswith("/login?next=")

    signed_in = await person.sign_in(tenants["KE"].users[Role.APPLICANT])
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/certificates"
    page = await person.get("/certificates")
    assert page.status_code == 200 and "ke-applicant" in page.text

    out = await person.submit("/certificates", {}, action="/logout")
    assert out.status_code == 303
    assert (await person.get("/certificates")).status_code == 303


async def test_wrong_password_is_refused_with_a_plain_message(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    refused = await person.sign_in("ke-applicant", "not the password")
    assert refused.status_code == 401
    assert "Wrong username or password." in refused.text
    assert 'value="ke-applicant"' in refused.text  # what was typed is kept
    assert (await person.get("/certificates")).status_code == 303
