"""Tenant administration: users and roles, the tenant's settings."""

import re

from tests.gens.conftest import BrowserFactory, TenantUsers
from tests.gens.forms import error_at


async def test_admin_creates_a_user_who_can_then_sign_in(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    created = await admin.submit(
        "/admin/users/new",
        {
            "username": "wanjiru",
            "full_name": "Wanjiru Kamau",
            "role": "officer",
            "language": "fr",
            "password": "a long enough password",
        },
    )
    assert created.status_code == 303, created.text[:2000]
    assert "wanjiru" in (await admin.get("/admin/users")).text
    newcomer = await browser()
    assert (await newcomer.sign_in("wanjiru", "a long enough password")).status_code == 303
    assert '<html lang="fr">' in (await newcomer.get("/certificates")).text


async def test_a_short_password_and_a_taken_username_are_refused_at_their_fields(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    refused = await admin.submit(
        "/admin/users/new",
        {
            "username": "ke-officer",
            "full_name": "Someone",
            "role": "officer",
            "language": "en",
            "password": "short",
        },
    )
    assert refused.status_code == 422
    assert error_at(refused.text, "password") == "Use at least 10 characters."
    assert error_at(refused.text, "username") is None  # checked once the form is otherwise valid
    again = await admin.submit(
        "/admin/users/new",
        {
            "username": "ke-officer",
            "full_name": "Someone",
            "role": "officer",
            "language": "en",
            "password": "long enough password",
        },
    )
    assert error_at(again.text, "username") == "This username is taken."


async def test_only_administrators_reach_the_administration(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    officer = await browser("ke-officer")
    for path in ("/admin/users", "/admin/tenant", "/admin/audit", "/admin/users/new"):
        response = await officer.get(path)
        assert response.status_code == 403, path
        assert "Your role does not allow this action." in response.text


async def test_an_administrator_sees_only_the_users_of_their_tenant(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    page = (await admin.get("/admin/users")).text
    assert "ke-officer" in page and "pe-officer" not in page
    # A user id of the other tenant is "not found", not "forbidden".
    ids = [int(x) for x in re.findall(r'href="/admin/users/(\d+)"', page)]
    other = max(ids) + 1
    assert (await admin.get(f"/admin/users/{other}")).status_code == 404


async def test_tenant_settings_store_the_hub_key_sealed_and_never_show_it(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    saved = await admin.submit(
        "/admin/tenant",
        {
            "name": "Kenya Plant Health Inspectorate Service",
            "place_of_issue": "Nairobi",
            "default_language": "en",
            "language_en": "true",
            "language_fr": "true",
            "hub_client_key_pem": (
                "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----"
            ),
        },
    )
    assert saved.status_code == 303, saved.text[:2000]
    page = (await admin.get("/admin/tenant")).text
    assert "Kenya Plant Health Inspectorate Service" in page
    assert "not really" not in page
    assert "A hub client key is stored." in page


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_the_tenant_logo_is_uploaded_and_served_to_the_tenants_users(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    wrong = await admin.submit(
        "/admin/tenant",
        {},
        action="/admin/tenant/logo",
        files={"logo": ("logo.gif", b"GIF89a", "image/gif")},
    )
    assert wrong.status_code == 422
    assert error_at(wrong.text, "logo") == "The logo must be a PNG or JPEG image."
    uploaded = await admin.submit(
        "/admin/tenant", {}, action="/admin/tenant/logo", files={"logo": ("logo.png", PNG)}
    )
    assert uploaded.status_code == 303
    officer = await browser("ke-officer")
    served = await officer.get("/admin/tenant/logo")
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    assert (await (await browser("pe-officer")).get("/admin/tenant/logo")).status_code == 404
