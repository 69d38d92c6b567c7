"""Signing in and out, lockout after repeated failures, and CSRF tokens on every form."""

from generic_national_system.accounts.roles import Role
from tests.gens.conftest import PASSWORD, BrowserFactory, TenantUsers, csrf_token


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


async def test_repeated_failures_lock_the_account_even_for_the_right_password(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    for _ in range(5):  # the default lockout policy: 5 failures in a row
        refused = await person.sign_in("ke-officer", "guess")
    assert refused.status_code == 401
    assert "this account is locked" in refused.text

    locked = await person.sign_in("ke-officer")
    assert locked.status_code == 401 and "this account is locked" in locked.text
    # Other accounts are not affected.
    assert (await person.sign_in("ke-inspector")).status_code == 303


async def test_a_post_without_the_form_token_is_refused_and_changes_nothing(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser("ke-applicant")
    forged = await person.client.post("/certificates", data={"type_code": "851"})
    assert forged.status_code == 403
    assert "did not come from this site" in forged.text
    assert "No certificates yet." in (await person.get("/certificates")).text


async def test_a_token_from_another_session_is_refused(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    attacker = await browser("ke-applicant")
    victim = await browser("ke-officer")
    stolen = csrf_token((await attacker.get("/certificates")).text)
    forged = await victim.client.post(
        "/certificates", data={"type_code": "851", "csrf_token": stolen}
    )
    assert forged.status_code == 403


async def test_sign_in_form_needs_its_token_too(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    forged = await person.client.post(
        "/login", data={"username": "ke-applicant", "password": PASSWORD}
    )
    assert forged.status_code == 403


async def test_next_page_after_sign_in_stays_on_this_site(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    response = await person.submit(
        "/login",
        {"username": "ke-applicant", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/certificates"


async def test_session_cookie_is_http_only_and_same_site(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    person = await browser()
    response = await person.sign_in("ke-applicant")
    cookie = response.headers["set-cookie"]
    assert "gens_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
