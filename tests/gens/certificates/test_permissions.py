"""Who may do what: roles within a tenant, and nothing at all across tenants."""

from tests.gens.conftest import BrowserFactory, TenantUsers, csrf_token
from tests.gens.forms import act, create_certificate, fill_certificate, state_of


async def approved_certificate(browser: BrowserFactory) -> str:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    await fill_certificate(applicant, path)
    assert (await act(applicant, path, "submit")).status_code == 303
    assert (await act(await browser("ke-inspector"), path, "approve")).status_code == 303
    return path


async def test_an_applicant_cannot_issue(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    path = await approved_certificate(browser)
    applicant = await browser("ke-applicant")
    page = (await applicant.get(path)).text
    assert f'action="{path}/actions/issue"' not in page  # no button for it

    refused = await act(applicant, path, "issue")

    assert refused.status_code == 403
    assert "Your role does not allow this action." in refused.text
    assert state_of((await applicant.get(path)).text) == "Approved"


async def test_an_inspector_cannot_edit_and_nobody_edits_a_submitted_certificate(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    applicant = await browser("ke-applicant")
    path = await create_certificate(applicant)
    inspector = await browser("ke-inspector")
    assert (await inspector.get(f"{path}/sections/parties")).status_code == 403

    await fill_certificate(applicant, path)
    assert (await act(applicant, path, "submit")).status_code == 303
    frozen = await applicant.get(f"{path}/sections/parties")
    assert frozen.status_code == 409
    assert "not possible in the certificate's current state" in frozen.text


async def test_another_tenants_certificates_are_invisible(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    kenya = await browser("ke-officer")
    path = await create_certificate(kenya)
    await fill_certificate(kenya, path)
    peru = await browser("pe-officer")
    listing = (await peru.get("/certificates")).text
    assert "KE-" not in listing
    for page in (path, f"{path}/sections/parties", f"{path}/lines/1", f"{path}/content.xml"):
        response = await peru.get(page)
        assert response.status_code == 404, page
        assert "Highland Avocado" not in response.text
    # Acting on it is refused the same way, and leaves it as it was.
    token_page = await peru.get("/certificates")
    response = await peru.client.post(
        f"{path}/actions/submit", data={"csrf_token": csrf_token(token_page.text)}
    )
    assert response.status_code == 404
    assert state_of((await kenya.get(path)).text) == "Draft"


async def test_an_administrator_reads_but_does_not_create_certificates(
    browser: BrowserFactory, tenants: dict[str, TenantUsers]
) -> None:
    admin = await browser("ke-admin")
    listing = (await admin.get("/certificates")).text
    assert 'action="/certificates"' not in listing
    assert (await admin.submit("/certificates", {"type_code": "851"})).status_code == 403
